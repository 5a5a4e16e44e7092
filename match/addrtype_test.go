package match

import (
	"syscall"
	"testing"
)

var addrtypeRows = []rlRow{
	// libxt_addrtype.t
	{rule: "-m addrtype", err: "addrtype: you must specify --src-type or --dst-type"},
	{rule: "-m addrtype --src-type wrong", err: `addrtype: bad type "wrong"`},
	{rule: "-m addrtype --src-type UNSPEC", save: "=", print: " ADDRTYPE match src-type UNSPEC"},
	{rule: "-m addrtype --dst-type UNSPEC", save: "=", print: " ADDRTYPE match dst-type UNSPEC"},
	{rule: "-m addrtype --src-type LOCAL --dst-type LOCAL", save: "=", print: " ADDRTYPE match src-type LOCAL dst-type LOCAL"},
	{rule: "-m addrtype --limit-iface-in", err: "addrtype: you must specify --src-type or --dst-type"},
	{rule: "-m addrtype --limit-iface-out", err: "addrtype: you must specify --src-type or --dst-type"},
	{rule: "-m addrtype --limit-iface-in --limit-iface-out", err: "addrtype: you must specify --src-type or --dst-type"},
	{rule: "-m addrtype --src-type LOCAL --limit-iface-in --limit-iface-out", err: "addrtype: option \"--limit-iface-in\" cannot be used together with \"--limit-iface-out\".\n"},
	{rule: "-m addrtype --src-type LOCAL --limit-iface-in", save: "=", print: " ADDRTYPE match src-type LOCAL limit-in"},
	{rule: "-m addrtype --dst-type LOCAL --limit-iface-in", save: "=", print: " ADDRTYPE match dst-type LOCAL limit-in"},
	{chain: "OUTPUT", rule: "-m addrtype --src-type LOCAL --limit-iface-out", save: "=", print: " ADDRTYPE match src-type LOCAL limit-out"},
	{chain: "OUTPUT", rule: "-m addrtype --dst-type LOCAL --limit-iface-out", save: "=", print: " ADDRTYPE match dst-type LOCAL limit-out"},
	{chain: "FORWARD", rule: "-m addrtype --src-type UNSPEC", save: "=", print: " ADDRTYPE match src-type UNSPEC"},
	{chain: "OUTPUT", rule: "-m addrtype --src-type LOCAL --dst-type LOCAL", save: "=", print: " ADDRTYPE match src-type LOCAL dst-type LOCAL"},

	// Types: any prefix in any case, printed in RTN_* order.
	{rule: "-m addrtype --src-type loc", save: "-m addrtype --src-type LOCAL", print: " ADDRTYPE match src-type LOCAL"},
	{rule: "-m addrtype --src-type U", save: "-m addrtype --src-type UNSPEC", print: " ADDRTYPE match src-type UNSPEC"},
	{rule: "-m addrtype --src-type uni", save: "-m addrtype --src-type UNICAST", print: " ADDRTYPE match src-type UNICAST"},
	{rule: "-m addrtype --src-type LOCAL,BROADCAST,UNSPEC", save: "-m addrtype --src-type UNSPEC,LOCAL,BROADCAST", print: " ADDRTYPE match src-type UNSPEC,LOCAL,BROADCAST"},
	{rule: "-m addrtype ! --src-type LOCAL ! --dst-type MULTICAST,XRESOLVE,NAT,THROW,PROHIBIT,UNREACHABLE,BLACKHOLE,ANYCAST",
		save:  "-m addrtype ! --src-type LOCAL ! --dst-type ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE",
		print: " ADDRTYPE match src-type !LOCAL dst-type !ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE"},
	{rule: "-m addrtype --src-type LOCAL,", err: `addrtype: bad type ""`},
	{rule: "-m addrtype --src-type ,LOCAL", err: "addrtype: bad type `,LOCAL'"},
	{rule: "-m addrtype --src-type LOCAL,,UNICAST", err: "addrtype: bad type `,UNICAST'"},
	{rule: "-m addrtype --src-type LOCALX", err: `addrtype: bad type "LOCALX"`},
	{rule: "-m addrtype --src-type LOCAL,FOO", err: `addrtype: bad type "FOO"`},
	{rule: "-m addrtype --src-type FOO,LOCAL", err: "addrtype: bad type `FOO,LOCAL'"},

	// xt_addrtype's checkentry: no output interface before routing, no
	// input interface on the way out.
	{rule: "-m addrtype --src-type LOCAL --limit-iface-out", err: "xt_addrtype: output interface limitation not valid in PREROUTING and INPUT", errno: syscall.EINVAL},
	{chain: "OUTPUT", rule: "-m addrtype --src-type LOCAL --limit-iface-in", err: "xt_addrtype: input interface limitation not valid in POSTROUTING and OUTPUT", errno: syscall.EINVAL},
	{chain: "FORWARD", rule: "-m addrtype --src-type LOCAL --limit-iface-in", save: "=", print: " ADDRTYPE match src-type LOCAL limit-in"},
	{chain: "FORWARD", rule: "-m addrtype --src-type LOCAL --limit-iface-out", save: "=", print: " ADDRTYPE match src-type LOCAL limit-out"},
	{table: "nat", chain: "PREROUTING", rule: "-m addrtype --dst-type LOCAL --limit-iface-out", err: "xt_addrtype: output interface limitation not valid in PREROUTING and INPUT", errno: syscall.EINVAL},
	{table: "nat", chain: "POSTROUTING", rule: "-m addrtype --dst-type LOCAL --limit-iface-in", err: "xt_addrtype: input interface limitation not valid in POSTROUTING and OUTPUT", errno: syscall.EINVAL},
	{table: "nat", chain: "POSTROUTING", rule: "-m addrtype --dst-type LOCAL --limit-iface-out", save: "=", print: " ADDRTYPE match dst-type LOCAL limit-out"},
	{table: "nat", chain: "PREROUTING", rule: "-m addrtype --dst-type LOCAL --limit-iface-in", save: "=", print: " ADDRTYPE match dst-type LOCAL limit-in"},
}

func TestAddrtype(t *testing.T) { rlRun(t, addrtypeRows) }

func TestAddrtypeOracle(t *testing.T) { rlOracle(t, addrtypeRows) }

// TestAddrtypeUserChain: a chain reached from several hooks is checked
// against all of them, and one no hook reaches is not checked.
func TestAddrtypeUserChain(t *testing.T) {
	m := &Addrtype{Src: 1 << 2, LimitIn: true}
	for _, c := range []struct {
		hooks Where
		bad   bool
	}{
		{Where{Hooks: 1<<1 | 1<<2}, false}, // INPUT and FORWARD
		{Where{Hooks: 1<<1 | 1<<3}, true},  // INPUT and OUTPUT
		{Where{Hooks: 0}, false},           // not reachable
	} {
		if err := m.Check(&c.hooks); (err != nil) != c.bad {
			t.Errorf("hooks %b: %v, want error %v", c.hooks.Hooks, err, c.bad)
		}
	}
}
