package match

import "testing"

// TestPktType checks the pkttype match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestPktType(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m pkttype --pkt-type unicast`, `-m pkttype --pkt-type unicast`, ` PKTTYPE = unicast`, ` PKTTYPE = unicast`, ``},
		{``, ``, `-m pkttype ! --pkt-type broadcast`, `-m pkttype ! --pkt-type broadcast`, ` PKTTYPE != broadcast`, ` PKTTYPE != broadcast`, ``},
		{``, ``, `-m pkttype --pkt-type MULTICAST`, `-m pkttype --pkt-type multicast`, ` PKTTYPE = multicast`, ` PKTTYPE = multicast`, ``},
		{``, ``, `-m pkttype --pkt-type host`, `-m pkttype --pkt-type unicast`, ` PKTTYPE = unicast`, ` PKTTYPE = unicast`, ``},
		{``, ``, `-m pkttype --pkt-type otherhost`, `-m pkttype --pkt-type otherhost`, ` PKTTYPE = otherhost`, ` PKTTYPE = otherhost`, ``},
		{``, ``, `-m pkttype --pkt-type bcast`, `-m pkttype --pkt-type broadcast`, ` PKTTYPE = broadcast`, ` PKTTYPE = broadcast`, ``},
		{``, ``, `-m pkttype --pkt-type mcast`, `-m pkttype --pkt-type multicast`, ` PKTTYPE = multicast`, ` PKTTYPE = multicast`, ``},
		{``, ``, `-m pkttype --pkt-type outgoing`, ``, ``, ``, `Bad packet type 'outgoing'`}, // rc 2
		{``, ``, `-m pkttype --pkt-type wrong`, ``, ``, ``, `Bad packet type 'wrong'`},       // rc 2
		{``, ``, `-m pkttype --pkt-type 3`, ``, ``, ``, `Bad packet type '3'`},               // rc 2
		{``, ``, `-m pkttype --pkt-type multi`, ``, ``, ``, `Bad packet type 'multi'`},       // rc 2
		{``, ``, `-m pkttype`, ``, ``, ``, `pkttype: option "--pkt-type" must be specified`}, // rc 2
	})
}
