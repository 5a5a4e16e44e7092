package match

import "testing"

var connlimitRows = []rlRow{
	// libxt_connlimit.t
	{rule: "-m connlimit --connlimit-upto -1", err: "connlimit: bad value for option \"--connlimit-upto\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above -1", err: "connlimit: bad value for option \"--connlimit-above\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-saddr --connlimit-daddr", err: "connlimit: option \"--connlimit-saddr\" cannot be used together with \"--connlimit-daddr\".\n"},
	{rule: "-m connlimit", err: "You must specify \"--connlimit-above\" or \"--connlimit-upto\"."},
	// libipt_connlimit.t
	{rule: "-m connlimit --connlimit-upto 0", save: "-m connlimit --connlimit-upto 0 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 0"},
	{rule: "-m connlimit --connlimit-upto 4294967295 --connlimit-mask 32 --connlimit-saddr", save: "=", print: " #conn src/32 <= 4294967295"},
	{rule: "-m connlimit --connlimit-upto 4294967296 --connlimit-mask 32 --connlimit-saddr", err: "connlimit: bad value for option \"--connlimit-upto\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above 0", save: "-m connlimit --connlimit-above 0 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 > 0"},
	{rule: "-m connlimit --connlimit-above 4294967295 --connlimit-mask 32 --connlimit-saddr", save: "=", print: " #conn src/32 > 4294967295"},
	{rule: "-m connlimit --connlimit-above 4294967296 --connlimit-mask 32 --connlimit-saddr", err: "connlimit: bad value for option \"--connlimit-above\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-saddr", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 > 10"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-daddr", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-daddr", print: " #conn dst/32 > 10"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr", save: "=", print: " #conn src/32 > 10"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-daddr", save: "=", print: " #conn dst/32 > 10"},
	{chain: "FORWARD", rule: "-m connlimit --connlimit-above 10 --connlimit-daddr", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-daddr", print: " #conn dst/32 > 10"},
	{chain: "OUTPUT", rule: "-m connlimit --connlimit-upto 0", save: "-m connlimit --connlimit-upto 0 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 0"},

	// Negation swaps upto and above.
	{rule: "-m connlimit ! --connlimit-above 10", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit ! --connlimit-upto 10", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 > 10"},
	{rule: "-m connlimit --connlimit-upto 0x10", save: "-m connlimit --connlimit-upto 16 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 16"},
	// Masks: a length, or a dotted mask; past 32 (or not contiguous) all
	// 32 bits stay set.
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 24 --connlimit-daddr", save: "=", print: " #conn dst/24 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 0", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 0 --connlimit-saddr", print: " #conn src/0 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 255.255.0.0", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 16 --connlimit-saddr", print: " #conn src/16 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 255.0.255.0", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 33", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 1000", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 4294967040", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 24 --connlimit-saddr", print: " #conn src/24 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask x", err: "connlimit: bad value for option \"--connlimit-mask\", neither a valid network mask nor valid CIDR (0-32).\n"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask -1", err: "connlimit: bad value for option \"--connlimit-mask\", neither a valid network mask nor valid CIDR (0-32).\n"},
	{rule: "-m connlimit --connlimit-upto 1 --connlimit-above 1", err: "connlimit: option \"--connlimit-upto\" cannot be used together with \"--connlimit-above\".\n"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-daddr --connlimit-saddr", err: "connlimit: option \"--connlimit-saddr\" cannot be used together with \"--connlimit-daddr\".\n"},
	// The extension's own check comes before the generic one.
	{rule: "-m connlimit --connlimit-saddr --connlimit-daddr", err: "You must specify \"--connlimit-above\" or \"--connlimit-upto\"."},
}

func TestConnlimit(t *testing.T) { rlRun(t, connlimitRows) }

func TestConnlimitOracle(t *testing.T) { rlOracle(t, connlimitRows) }

// TestConnlimitMask checks the mask the hot path applies to addresses.
func TestConnlimitMask(t *testing.T) {
	for _, c := range []struct {
		arg  string
		mask uint32
	}{{"32", 0xffffffff}, {"24", 0xffffff00}, {"0", 0}, {"1", 0x80000000}, {"33", 0xffffffff}, {"255.255.0.0", 0xffff0000}} {
		m := connlimitInfo.New().(*Connlimit)
		if err := m.Parse(&Arg{Name: "connlimit-mask", Value: c.arg}); err != nil || m.Mask != c.mask {
			t.Errorf("--connlimit-mask %s: %#x, %v; want %#x", c.arg, m.Mask, err, c.mask)
		}
	}
}
