package match

import "testing"

// TestICMP checks the icmp match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestICMP(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-p icmp -m icmp --icmp-type any`, `-p icmp -m icmp --icmp-type any`, ` icmp any`, ` icmptype 255`, ``},
		{``, ``, `-p icmp --icmp-type echo-reply`, `-p icmp -m icmp --icmp-type 0`, ` icmp echo-reply`, ` icmptype 0`, ``},
		{``, ``, `-p icmp --icmp-type destination-unreachable`, `-p icmp -m icmp --icmp-type 3`, ` icmp destination-unreachable`, ` icmptype 3`, ``},
		{``, ``, `-p icmp --icmp-type 255/0:255`, `-p icmp -m icmp --icmp-type any`, ` icmp any`, ` icmptype 255`, ``},
		{``, ``, `-p icmp --icmp-type 3/1:2`, `-p icmp -m icmp --icmp-type 3/1`, ` icmptype 3 codes 1-2`, ` icmptype 3 codes 1-2`, ``},
		{``, ``, `-p icmp --icmp-type 3/2:1`, `-p icmp -m icmp --icmp-type 3/2`, ` icmptype 3 codes 2-1`, ` icmptype 3 codes 2-1`, ``},
		{``, ``, `-p icmp --icmp-type 3/0:255`, `-p icmp -m icmp --icmp-type 3`, ` icmp destination-unreachable`, ` icmptype 3`, ``},
		{``, ``, `-p icmp --icmp-type 8/0`, `-p icmp -m icmp --icmp-type 8/0`, ` icmptype 8 code 0`, ` icmptype 8 code 0`, ``},
		{``, ``, `-p icmp --icmp-type ECHO-REQUEST`, `-p icmp -m icmp --icmp-type 8`, ` icmp echo-request`, ` icmptype 8`, ``},
		{``, ``, `-p icmp --icmp-type 0x3`, `-p icmp -m icmp --icmp-type 3`, ` icmp destination-unreachable`, ` icmptype 3`, ``},
		{``, ``, `-p icmp --icmp-type 03`, `-p icmp -m icmp --icmp-type 3`, ` icmp destination-unreachable`, ` icmptype 3`, ``},
		{``, ``, `-p icmp --icmp-type +3`, `-p icmp -m icmp --icmp-type 3`, ` icmp destination-unreachable`, ` icmptype 3`, ``},
		{``, ``, `-p icmp --icmp-type 3/+1`, `-p icmp -m icmp --icmp-type 3/1`, ` icmp host-unreachable`, ` icmptype 3 code 1`, ``},
		{``, ``, `-p icmp --icmp-type 3/0x10`, `-p icmp -m icmp --icmp-type 3/16`, ` icmptype 3 code 16`, ` icmptype 3 code 16`, ``},
		{``, ``, `-p icmp --icmp-type ping`, `-p icmp -m icmp --icmp-type 8`, ` icmp echo-request`, ` icmptype 8`, ``},
		{``, ``, `-p icmp --icmp-type pong`, `-p icmp -m icmp --icmp-type 0`, ` icmp echo-reply`, ` icmptype 0`, ``},
		{``, ``, `-p icmp --icmp-type ttl-exceeded`, `-p icmp -m icmp --icmp-type 11`, ` icmp time-exceeded`, ` icmptype 11`, ``},
		{``, ``, `-p icmp --icmp-type network-unreachable`, `-p icmp -m icmp --icmp-type 3/0`, ` icmp network-unreachable`, ` icmptype 3 code 0`, ``},
		{``, ``, `-p icmp --icmp-type TOS-host-unreachable`, `-p icmp -m icmp --icmp-type 3/12`, ` icmp TOS-host-unreachable`, ` icmptype 3 code 12`, ``},
		{``, ``, `-p icmp --icmp-type 3/9`, `-p icmp -m icmp --icmp-type 3/9`, ` icmp network-prohibited`, ` icmptype 3 code 9`, ``},
		{``, ``, `-p icmp --icmp-type 3/8`, `-p icmp -m icmp --icmp-type 3/8`, ` icmptype 3 code 8`, ` icmptype 3 code 8`, ``},
		{``, ``, `-p icmp --icmp-type 11/1`, `-p icmp -m icmp --icmp-type 11/1`, ` icmp ttl-zero-during-reassembly`, ` icmptype 11 code 1`, ``},
		{``, ``, `-p icmp --icmp-type 5/0:0`, `-p icmp -m icmp --icmp-type 5/0`, ` icmp network-redirect`, ` icmptype 5 code 0`, ``},
		{``, ``, `-p icmp --icmp-type 100`, `-p icmp -m icmp --icmp-type 100`, ` icmptype 100`, ` icmptype 100`, ``},
		{``, ``, `-p icmp --icmp-type 100/3`, `-p icmp -m icmp --icmp-type 100/3`, ` icmptype 100 code 3`, ` icmptype 100 code 3`, ``},
		{``, ``, `-p icmp --icmp-type 3:3`, `-p icmp -m icmp --icmp-type 3`, ` icmp destination-unreachable`, ` icmptype 3`, ``},
		{``, ``, `-p icmp --icmp-type 3:3/1`, `-p icmp -m icmp --icmp-type 3/1`, ` icmp host-unreachable`, ` icmptype 3 code 1`, ``},
		{``, ``, `-p icmp ! --icmp-type any`, `-p icmp -m icmp ! --icmp-type any`, ` icmp !any`, ` icmp !type 255`, ``},
		{``, ``, `-p icmp -m icmp ! --icmp-type echo-request`, `-p icmp -m icmp ! --icmp-type 8`, ` icmp !echo-request`, ` icmp !type 8`, ``},
		{``, ``, `-p icmp -m icmp ! --icmp-type 3/1`, `-p icmp -m icmp ! --icmp-type 3/1`, ` icmp !host-unreachable`, ` icmp !type 3 code 1`, ``},
		{``, ``, `-p icmp -m icmp ! --icmp-type 3/8`, `-p icmp -m icmp ! --icmp-type 3/8`, ` icmp !type 3 code 8`, ` icmp !type 3 code 8`, ``},
		{``, ``, `-p icmp --icmp-type tim`, ``, ``, ``, "Ambiguous ICMP type `tim': `time-exceeded' or `timestamp-request'?"}, // rc 2
		{``, ``, `-p icmp --icmp-type echo`, ``, ``, ``, "Ambiguous ICMP type `echo': `echo-reply' or `echo-request'?"},       // rc 2
		{``, ``, `-p icmp --icmp-type host`, ``, ``, ``, "Ambiguous ICMP type `host': `host-unreachable' or `host-unknown'?"}, // rc 2
		{``, ``, `-p icmp --icmp-type ""`, ``, ``, ``, "Ambiguous ICMP type `': `any' or `echo-reply'?"},                      // rc 2
		{``, ``, `-p icmp --icmp-type a`, ``, ``, ``, "Ambiguous ICMP type `a': `any' or `address-mask-request'?"},            // rc 2
		{``, ``, `-p icmp --icmp-type 256`, ``, ``, ``, "Unknown ICMP type `256'"},                                            // rc 2
		{``, ``, `-p icmp --icmp-type 256/3`, ``, ``, ``, "Unknown ICMP type `256/3'"},                                        // rc 2
		{``, ``, `-p icmp --icmp-type 3/256`, ``, ``, ``, "Unknown ICMP code `3/256'"},                                        // rc 2
		{``, ``, `-p icmp --icmp-type 3:4`, ``, ``, ``, `ICMP type range not supported`},                                      // rc 2
		{``, ``, `-p icmp --icmp-type 3x`, ``, ``, ``, `unknown character x`},                                                 // rc 2
		{``, ``, `-p icmp --icmp-type 3/1x`, ``, ``, ``, `unknown character x`},                                               // rc 2
		{``, ``, `-p icmp --icmp-type 3/2:300`, ``, ``, ``, "Unknown ICMP code `3/2:300'"},                                    // rc 2
		{``, ``, `-p icmp --icmp-type 3/1:2:3`, ``, ``, ``, `unknown character :`},                                            // rc 2
		{``, ``, `-p icmp --icmp-type -1`, ``, ``, ``, "Unknown ICMP type `-1'"},                                              // rc 2
		{``, ``, `-p icmp --icmp-type 3:`, ``, ``, ``, "Unknown ICMP type `3:'"},                                              // rc 2
		{``, ``, `-p icmp --icmp-type 3/`, ``, ``, ``, "Unknown ICMP code `3/'"},                                              // rc 2
		{``, ``, `-p icmp --icmp-type 3/1:`, ``, ``, ``, "Unknown ICMP code `3/1:'"},                                          // rc 2
		{``, ``, `-p icmp --icmp-type 3/:1`, ``, ``, ``, "Unknown ICMP code `3/:1'"},                                          // rc 2
		{``, ``, `-p icmp --icmp-type /3`, ``, ``, ``, "Unknown ICMP type `/3'"},                                              // rc 2
		{``, ``, `-p icmp --icmp-type any/3`, ``, ``, ``, "Unknown ICMP type `any/3'"},                                        // rc 2
		{``, ``, `-p icmp -m icmp`, ``, ``, ``, `icmp: option "--icmp-type" must be specified`},                               // rc 2
		{``, ``, `-m icmp --icmp-type 8`, ``, ``, ``, `icmp match: only valid for protocol 1`},                                // rc 1
	})
}

// TestICMPUpstream checks where gofw follows the upstream .t file, or
// differs from 1.8.9 on purpose; each row says why.
func TestICMPUpstream(t *testing.T) {
	xoCheck(t, []xoRow{
		// libipt_icmp.t:13 (upstream 5b5430d6, v1.8.10): type 255 with
		// code 255 is not "any"; 1.8.9 saves it as "any".
		{``, ``, `-p icmp -m icmp --icmp-type 255/255`, `-p icmp -m icmp --icmp-type 255/255`, ` icmptype 255 code 255`, ` icmptype 255 code 255`, ``},
		{``, ``, `-p icmp -m icmp ! --icmp-type 255/255`, `-p icmp -m icmp ! --icmp-type 255/255`, ` icmp !type 255 code 255`, ` icmp !type 255 code 255`, ``},
	})
}

// TestICMPTypeList compares the list with what "iptables -p icmp --help"
// prints after its option lines (iptables-legacy 1.8.9).
func TestICMPTypeList(t *testing.T) {
	want := "" +
		"Valid ICMP Types:\n" +
		"any\n" +
		"echo-reply (pong)\n" +
		"destination-unreachable\n" +
		"   network-unreachable\n" +
		"   host-unreachable\n" +
		"   protocol-unreachable\n" +
		"   port-unreachable\n" +
		"   fragmentation-needed\n" +
		"   source-route-failed\n" +
		"   network-unknown\n" +
		"   host-unknown\n" +
		"   network-prohibited\n" +
		"   host-prohibited\n" +
		"   TOS-network-unreachable\n" +
		"   TOS-host-unreachable\n" +
		"   communication-prohibited\n" +
		"   host-precedence-violation\n" +
		"   precedence-cutoff\n" +
		"source-quench\n" +
		"redirect\n" +
		"   network-redirect\n" +
		"   host-redirect\n" +
		"   TOS-network-redirect\n" +
		"   TOS-host-redirect\n" +
		"echo-request (ping)\n" +
		"router-advertisement\n" +
		"router-solicitation\n" +
		"time-exceeded (ttl-exceeded)\n" +
		"   ttl-zero-during-transit\n" +
		"   ttl-zero-during-reassembly\n" +
		"parameter-problem\n" +
		"   ip-header-bad\n" +
		"   required-option-missing\n" +
		"timestamp-request\n" +
		"timestamp-reply\n" +
		"address-mask-request\n" +
		"address-mask-reply\n" +
		""
	if got := ICMPTypeList(); got != want {
		t.Errorf("ICMPTypeList:\n%s\nwant:\n%s", got, want)
	}
}

// TestICMPTypesParseBack checks that every name in the table parses to its
// own row (no name is an ambiguous prefix of another).
func TestICMPTypesParseBack(t *testing.T) {
	for _, n := range ICMPTypes {
		typ, lo, hi, err := parseICMPType(n.Name)
		if err != nil || typ != n.Type || lo != n.CodeMin || hi != n.CodeMax {
			t.Errorf("%s: got %d %d-%d err %v, want %d %d-%d", n.Name, typ, lo, hi, err, n.Type, n.CodeMin, n.CodeMax)
		}
	}
}
