package match

import "testing"

// TestComment checks the comment match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestComment(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m comment --comment "a b"`, `-m comment --comment "a b"`, ` /* a b */`, ` /* a b */`, ``},
		{``, ``, `-m comment --comment ""`, `-m comment --comment ""`, ` /*  */`, ` /*  */`, ``},
		{``, ``, `-m comment --comment it's`, `-m comment --comment "it\'s"`, ` /* it's */`, ` /* it's */`, ``},
		{``, ``, `-m comment --comment a*/b`, `-m comment --comment "a*/b"`, ` /* a*/b */`, ` /* a*/b */`, ``},
		{``, ``, `-m comment --comment "back\\slash \"q\""`, `-m comment --comment "back\\slash \"q\""`, ` /* back\slash "q" */`, ` /* back\slash "q" */`, ``},
		{``, ``, `-p tcp -m comment --comment foo -m tcp --dport 22`, `-p tcp -m comment --comment foo -m tcp --dport 22`, ` /* foo */ tcp dpt:ssh`, ` /* foo */ tcp dpt:22`, ``},
		{``, ``, `-m comment`, ``, ``, ``, `comment: option "--comment" must be specified`}, // rc 2
	})
}
