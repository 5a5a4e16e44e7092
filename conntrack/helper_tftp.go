package conntrack

import (
	"encoding/binary"
	"time"
)

// The tftp helper, the kernel's nf_conntrack_tftp.c with nf_nat_tftp.c.
//
// A TFTP client sends its read or write request to port 69; the server
// answers from a fresh port to the client's port. The helper expects that
// answer: UDP from the server's address, any source port, to the client's
// address and port as the master's reply tuple has them (so, through NAT,
// the NAT box's address and port), and with NAT the answer follows the
// master back to the real client.

// Helper policy (nf_conntrack_tftp.c tftp_exp_policy).
const (
	tftpExpectTimeout = 300 * time.Second // .timeout = 5 * 60
	tftpMaxExpected   = 1
)

// TFTP opcodes (RFC 1350).
const (
	tftpRRQ = 1 // read request
	tftpWRQ = 2 // write request
)

// helpTFTP is nf_conntrack_tftp.c tftp_help. Unlike ftp it runs on every
// packet of the master, the request that creates it included: the
// expectation may then be registered before the master is confirmed.
// DATA, ACK and ERROR opcodes, and anything else, pass untouched.
func (t *Table) helpTFTP(c *Conn, p *HelperPacket) (Verdict, string) {
	if len(p.Payload) < 2 || c.Proto() != ProtoUDP {
		return Accept, ""
	}
	if op := binary.BigEndian.Uint16(p.Payload); op != tftpRRQ && op != tftpWRQ {
		return Accept, ""
	}
	r := &c.tuple[Reply]
	e := &Expect{
		Tuple:   Tuple{Src: r.Src, Dst: r.Dst, DstPort: r.DstPort, Proto: ProtoUDP, Family: r.Family},
		Mask:    exactMask(r.Family),
		Master:  c,
		Timeout: tftpExpectTimeout,
	}
	if c.Status()&(StatusSrcNAT|StatusDstNAT) != 0 {
		// nf_nat_tftp: the answer comes in the reply direction and is
		// mapped back to the client's own port.
		e.SavedPort = c.tuple[Original].SrcPort
		e.Dir = Reply
		e.FollowMaster = true
	}
	if err := t.AddExpect(e, tftpMaxExpected, p.Now); err != nil {
		return Drop, "cannot add expectation"
	}
	return Accept, ""
}
