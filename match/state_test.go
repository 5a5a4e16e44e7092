package match

import "testing"

// TestState checks the state match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestState(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m state --state INVALID`, `-m state --state INVALID`, ` state INVALID`, ` state INVALID`, ``},
		{``, ``, `-m state --state NEW,RELATED`, `-m state --state NEW,RELATED`, ` state NEW,RELATED`, ` state NEW,RELATED`, ``},
		{``, ``, `-m state --state UNTRACKED`, `-m state --state UNTRACKED`, ` state UNTRACKED`, ` state UNTRACKED`, ``},
		{``, ``, `-m state --state new,est`, `-m state --state NEW,ESTABLISHED`, ` state NEW,ESTABLISHED`, ` state NEW,ESTABLISHED`, ``},
		{``, ``, `-m state --state N`, `-m state --state NEW`, ` state NEW`, ` state NEW`, ``},
		{``, ``, `-m state ! --state NEW`, `-m state ! --state NEW`, ` ! state NEW`, ` ! state NEW`, ``},
		{``, ``, `-m state --state UNTRACKED,INVALID,ESTABLISHED,RELATED,NEW`, `-m state --state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED`, ` state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED`, ` state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED`, ``},
		{``, ``, `-m state --state NEW,,EST`, ``, ``, ``, `Bad state ",EST"`},                                                         // rc 2
		{``, ``, `-m state --state NEW,`, ``, ``, ``, `"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED`}, // rc 2
		{``, ``, `-m state --state ,NEW`, ``, ``, ``, `Bad state ",NEW"`},                                                             // rc 2
		{``, ``, `-m state --state SNAT`, ``, ``, ``, `Bad state "SNAT"`},                                                             // rc 2
		{``, ``, `-m state --state ""`, ``, ``, ``, `"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED`},   // rc 2
		{``, ``, `-m state --state bogus`, ``, ``, ``, `Bad state "bogus"`},                                                           // rc 2
		{``, ``, `-m state --state NEWX`, ``, ``, ``, `Bad state "NEWX"`},                                                             // rc 2
		{``, ``, `-m state`, ``, ``, ``, `state: option "--state" must be specified`},                                                 // rc 2
		{``, ``, `-m state --state NEW --state NEW`, ``, ``, ``, `state: option "--state" can only be used once.`},                    // rc 2
	})
}
