package match

import (
	"testing"

	"github.com/gofw/gofw/conntrack"
)

// TestConntrack checks the conntrack match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestConntrack(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m conntrack --ctstate NEW,ESTABLISHED`, `-m conntrack --ctstate NEW,ESTABLISHED`, ` ctstate NEW,ESTABLISHED`, ` ctstate NEW,ESTABLISHED`, ``},
		{``, ``, `-m conntrack --ctstate DNAT,SNAT,UNTRACKED,ESTABLISHED,RELATED,NEW,INVALID`, `-m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT`, ` ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT`, ` ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT`, ``},
		{``, ``, `-m conntrack ! --ctstate s,d`, `-m conntrack ! --ctstate SNAT,DNAT`, ` ! ctstate SNAT,DNAT`, ` ! ctstate SNAT,DNAT`, ``},
		{``, ``, `-m conntrack --ctstate wrong`, ``, ``, ``, `Bad ctstate "wrong"`},         // rc 2
		{``, ``, `-m conntrack --ctstate NEW,`, ``, ``, ``, `Bad ctstate ""`},               // rc 2
		{``, ``, `-m conntrack --ctstate ,NEW`, ``, ``, ``, `Bad ctstate ",NEW"`},           // rc 2
		{``, ``, `-m conntrack --ctstate NEW,bad,EST`, ``, ``, ``, `Bad ctstate "bad,EST"`}, // rc 2
		{``, ``, `-m conntrack --ctstate ""`, ``, ``, ``, `Bad ctstate ""`},                 // rc 2
		{``, ``, `-m conntrack --ctstatus CONFIRMED,ASSURED,SEEN_REPLY,EXPECTED`, `-m conntrack --ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED`, ` ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED`, ` ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED`, ``},
		{``, ``, `-m conntrack --ctstatus NONE,ASSURED`, `-m conntrack --ctstatus ASSURED`, ` ctstatus ASSURED`, ` ctstatus ASSURED`, ``},
		{``, ``, `-m conntrack --ctstatus NONE`, `-m conntrack --ctstatus NONE`, ` ctstatus NONE`, ` ctstatus NONE`, ``},
		{``, ``, `-m conntrack --ctstatus n`, `-m conntrack --ctstatus NONE`, ` ctstatus NONE`, ` ctstatus NONE`, ``},
		{``, ``, `-m conntrack --ctstatus bad`, ``, ``, ``, `Bad ctstatus "bad"`},             // rc 2
		{``, ``, `-m conntrack --ctstatus ASSURED,bad,x`, ``, ``, ``, `Bad ctstatus "bad,x"`}, // rc 2
		{``, ``, `-m conntrack --ctproto tcp`, `-m conntrack --ctproto 6`, ` ctproto 6`, ` ctproto 6`, ``},
		{``, ``, `-m conntrack ! --ctproto udp`, `-m conntrack ! --ctproto 17`, ` ! ctproto 17`, ` ! ctproto 17`, ``},
		{``, ``, `-m conntrack --ctproto foo`, ``, ``, ``, `unknown protocol "foo" specified`}, // rc 2
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.0/16 --ctorigdst 198.18.1.1 --ctreplsrc 198.18.1.1/32 --ctrepldst 0.0.0.0/0`, `-m conntrack --ctorigsrc 198.18.0.0/16 --ctorigdst 198.18.1.1 --ctreplsrc 198.18.1.1 --ctrepldst 0.0.0.0/0`, ` ctorigsrc 198.18.0.0/16 ctorigdst 198.18.1.1 ctreplsrc 198.18.1.1 ctrepldst anywhere`, ` ctorigsrc 198.18.0.0/16 ctorigdst 198.18.1.1 ctreplsrc 198.18.1.1 ctrepldst 0.0.0.0/0`, ``},
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.5/16`, `-m conntrack --ctorigsrc 198.18.0.5/16`, ` ctorigsrc 198.18.0.5/16`, ` ctorigsrc 198.18.0.5/16`, ``},
		{``, ``, `-m conntrack --ctorigsrc 0.0.0.0/8`, `-m conntrack --ctorigsrc 0.0.0.0/8`, ` ctorigsrc anywhere`, ` ctorigsrc 0.0.0.0/8`, ``},
		{``, ``, `-m conntrack --ctorigsrc 1.2.3.4/0`, `-m conntrack --ctorigsrc 1.2.3.4/0`, ` ctorigsrc 1.2.3.4/0`, ` ctorigsrc 1.2.3.4/0`, ``},
		{``, ``, `-m conntrack --ctorigsrc 127.0.0.1`, `-m conntrack --ctorigsrc 127.0.0.1`, ` ctorigsrc localhost`, ` ctorigsrc 127.0.0.1`, ``},
		{``, ``, `-m conntrack --ctorigsrc 0.0.0.0`, `-m conntrack --ctorigsrc 0.0.0.0`, ` ctorigsrc anywhere`, ` ctorigsrc 0.0.0.0`, ``},
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.0/255.255.0.0`, `-m conntrack --ctorigsrc 198.18.0.0/16`, ` ctorigsrc 198.18.0.0/16`, ` ctorigsrc 198.18.0.0/16`, ``},
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.0/0x10`, `-m conntrack --ctorigsrc 198.18.0.0/16`, ` ctorigsrc 198.18.0.0/16`, ` ctorigsrc 198.18.0.0/16`, ``},
		{``, ``, `-m conntrack ! --ctrepldst 198.18.0.0/0`, `-m conntrack ! --ctrepldst 198.18.0.0/0`, ` ! ctrepldst 198.18.0.0/0`, ` ! ctrepldst 198.18.0.0/0`, ``},
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.0/abc`, ``, ``, ``, `conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).`}, // rc 2
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.0/`, ``, ``, ``, `conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).`},    // rc 2
		{``, ``, `-m conntrack --ctexpire 10:20 ! --ctstatus ASSURED --ctdir REPLY --ctorigsrcport 1000:2000 ! --ctorigdstport 22 --ctreplsrcport ssh --ctrepldstport 0:0`, `-m conntrack --ctorigsrcport 1000:2000 ! --ctorigdstport 22 --ctreplsrcport 22 --ctrepldstport 0 ! --ctstatus ASSURED --ctexpire 10:20 --ctdir REPLY`, ` ctorigsrcport 1000:2000 ! ctorigdstport 22 ctreplsrcport 22 ctrepldstport 0 ! ctstatus ASSURED ctexpire 10:20 ctdir REPLY`, ` ctorigsrcport 1000:2000 ! ctorigdstport 22 ctreplsrcport 22 ctrepldstport 0 ! ctstatus ASSURED ctexpire 10:20 ctdir REPLY`, ``},
		{``, ``, `-m conntrack --ctstate NEW --ctproto tcp --ctorigdst 198.18.1.1 --ctstatus ASSURED`, `-m conntrack --ctstate NEW --ctproto 6 --ctorigdst 198.18.1.1 --ctstatus ASSURED`, ` ctstate NEW ctproto 6 ctorigdst 198.18.1.1 ctstatus ASSURED`, ` ctstate NEW ctproto 6 ctorigdst 198.18.1.1 ctstatus ASSURED`, ``},
		{``, ``, `-m conntrack ! --ctstate NEW --ctexpire 10:20 --ctorigsrc 198.18.0.0/16 --ctreplsrc 198.18.1.1 --ctorigsrcport 1000:2000`, `-m conntrack ! --ctstate NEW --ctorigsrc 198.18.0.0/16 --ctreplsrc 198.18.1.1 --ctorigsrcport 1000:2000 --ctexpire 10:20`, ` ! ctstate NEW ctorigsrc 198.18.0.0/16 ctreplsrc 198.18.1.1 ctorigsrcport 1000:2000 ctexpire 10:20`, ` ! ctstate NEW ctorigsrc 198.18.0.0/16 ctreplsrc 198.18.1.1 ctorigsrcport 1000:2000 ctexpire 10:20`, ``},
		{``, ``, `-m conntrack --ctdir original`, `-m conntrack --ctdir ORIGINAL`, ` ctdir ORIGINAL`, ` ctdir ORIGINAL`, ``},
		{``, ``, `-m conntrack --ctdir ORIGINAL --ctdir REPLY`, ``, ``, ``, `conntrack: option "--ctdir" can only be used once.`}, // rc 2
		{``, ``, `-m conntrack --ctdir bad`, ``, ``, ``, `conntrack: Bad value for "--ctdir" option: "bad"`},                      // rc 2
		{``, ``, `-m conntrack ! --ctdir REPLY`, ``, ``, ``, `conntrack: option "--ctdir" cannot be inverted.`},                   // rc 2
		{``, ``, `-m conntrack --ctexpire :`, `-m conntrack --ctexpire 0:4294967295`, ` ctexpire 0:4294967295`, ` ctexpire 0:4294967295`, ``},
		{``, ``, `-m conntrack --ctexpire 5:`, `-m conntrack --ctexpire 5:4294967295`, ` ctexpire 5:4294967295`, ` ctexpire 5:4294967295`, ``},
		{``, ``, `-m conntrack --ctexpire 0x10`, `-m conntrack --ctexpire 16`, ` ctexpire 16`, ` ctexpire 16`, ``},
		{``, ``, `-m conntrack --ctexpire 3:3`, `-m conntrack --ctexpire 3`, ` ctexpire 3`, ` ctexpire 3`, ``},
		{``, ``, `-m conntrack --ctexpire 42949672956`, ``, ``, ``, `conntrack: bad value for option "--ctexpire" near "42949672956", or out of range (0-4294967295).`}, // rc 2
		{``, ``, `-m conntrack --ctexpire -1`, ``, ``, ``, `conntrack: bad value for option "--ctexpire" near "-1", or out of range (0-4294967295).`},                   // rc 2
		{``, ``, `-m conntrack --ctexpire 1:2:3`, ``, ``, ``, `conntrack: Too many components for option "--ctexpire" (max: 2)`},                                        // rc 2
		{``, ``, `-m conntrack --ctorigsrcport :`, `-m conntrack --ctorigsrcport 0:65535`, ` ctorigsrcport 0:65535`, ` ctorigsrcport 0:65535`, ``},
		{``, ``, `-m conntrack --ctorigsrcport :0`, `-m conntrack --ctorigsrcport 0`, ` ctorigsrcport 0`, ` ctorigsrcport 0`, ``},
		{``, ``, `-m conntrack --ctorigsrcport 0x10`, ``, ``, ``, `Port "0x10" does not resolve to anything.`},                                       // rc 2
		{``, ``, `-m conntrack --ctorigsrcport foo`, ``, ``, ``, `Port "foo" does not resolve to anything.`},                                         // rc 2
		{``, ``, `-m conntrack --ctorigsrcport 1:2:3`, ``, ``, ``, `conntrack: Too many components for option "--ctorigsrcport" (max: 2)`},           // rc 2
		{``, ``, `-m conntrack`, ``, ``, ``, `conntrack: At least one option is required`},                                                           // rc 2
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.1/32 --ctorigsrc 1.1.1.1`, ``, ``, ``, `conntrack: option "--ctorigsrc" can only be used once.`}, // rc 2
	})
}

// TestConntrackUpstream checks where gofw follows the upstream .t file, or
// differs from 1.8.9 on purpose; each row says why.
func TestConntrackUpstream(t *testing.T) {
	xoCheck(t, []xoRow{
		// libxt_conntrack.t:17 (upstream 30a7f112, v1.8.11): descending
		// --ctexpire is refused; 1.8.9 loads it.
		{``, ``, `-m conntrack --ctexpire 4:3`, ``, ``, ``, `conntrack: bad value for option "--ctexpire" near "3", or out of range (4-4294967295).`},
		// libxt_conntrack.t:26-27 (upstream 2e704f6d, v1.8.10): protocol 0
		// is refused either way; 1.8.9 loads both.
		{``, ``, `-m conntrack --ctproto 0`, ``, ``, ``, `conntrack: rule would never match protocol`},
		{``, ``, `-m conntrack ! --ctproto 0`, ``, ``, ``, `conntrack: condition would always match protocol`},
		{``, ``, `-m conntrack ! --ctproto all`, ``, ``, ``, `conntrack: condition would always match protocol`},
		// libxt_conntrack.t:33,39,45,51 (upstream 9d41421a, v1.8.11):
		// descending port ranges are refused; 1.8.9 loads them ("5:0"
		// even prints as "5").
		{``, ``, `-m conntrack --ctorigsrcport 4:3`, ``, ``, ``, `invalid portrange (min > max)`},
		{``, ``, `-m conntrack --ctrepldstport 5:0`, ``, ``, ``, `invalid portrange (min > max)`},
		// 1.8.9 turns a mask it cannot use into /32 without a word, and
		// port 65536 into 0; gofw refuses them.
		{``, ``, `-m conntrack --ctorigsrc 1.2.3.4/33`, ``, ``, ``, `conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).`},
		{``, ``, `-m conntrack --ctorigsrc 198.18.0.1/255.255.0.255`, ``, ``, ``, `conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).`},
		{``, ``, `-m conntrack --ctorigsrcport 65536`, ``, ``, ``, `Port "65536" does not resolve to anything.`},
		// Host names and short forms are not resolved (as for -s).
		{``, ``, `-m conntrack --ctorigsrc localhost`, ``, ``, ``, "host/network `localhost' not found"},
		{``, ``, `-m conntrack --ctorigsrc 198.18.1`, ``, ``, ``, "host/network `198.18.1' not found"},
	})
}

// TestStateBits checks the state bits against the kernel's definition: a
// tracked packet's bit is 1 << (ctinfo % IP_CT_IS_REPLY + 1), so replies
// share the bit of their state; SNAT, DNAT and UNTRACKED follow
// IP_CT_NUMBER (5) in that order (XT_CONNTRACK_STATE_*), and are the bits
// conntrack.CtStateBits hands the hot path.
func TestStateBits(t *testing.T) {
	const isReply, ctNumber = 3, 5
	for _, c := range []struct {
		ctinfo int
		want   StateMask
	}{
		{0, StateEstablished}, // IP_CT_ESTABLISHED
		{1, StateRelated},     // IP_CT_RELATED
		{2, StateNew},         // IP_CT_NEW
		{3, StateEstablished}, // IP_CT_ESTABLISHED_REPLY
		{4, StateRelated},     // IP_CT_RELATED_REPLY
	} {
		if got := StateMask(1) << (c.ctinfo%isReply + 1); got != c.want {
			t.Errorf("ctinfo %d: bit %#x, want %#x", c.ctinfo, got, c.want)
		}
	}
	for _, c := range []struct {
		got, want StateMask
	}{
		{StateSNAT, 1 << (ctNumber + 1)},
		{StateDNAT, 1 << (ctNumber + 2)},
		{StateUntracked, 1 << (ctNumber + 3)},
		{StateSNAT, StateMask(conntrack.CtStateSNAT)},
		{StateDNAT, StateMask(conntrack.CtStateDNAT)},
		{StateUntracked, StateMask(conntrack.CtStateUntracked)},
		{StateInvalid, StateMask(conntrack.StateInvalid)},
		{StateNew, StateMask(conntrack.StateNew)},
		{StateEstablished, StateMask(conntrack.StateEstablished)},
		{StateRelated, StateMask(conntrack.StateRelated)},
	} {
		if c.got != c.want {
			t.Errorf("bit %#x, want %#x", c.got, c.want)
		}
	}
}
