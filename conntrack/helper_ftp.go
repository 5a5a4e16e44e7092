package conntrack

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"
)

// The ftp helper, the kernel's nf_conntrack_ftp.c with the NAT part of
// nf_nat_ftp.c and nf_nat_helper.c.
//
// It reads the control connection of an FTP session and turns each
// command that opens a data connection into an expectation, so that the
// data connection is RELATED (and EXPECTED) instead of NEW:
//
//	client PORT h1,h2,h3,h4,p1,p2   server connects to the client  (active)
//	client EPRT |1|a.b.c.d|port|    same, RFC 2428
//	server 227 ... h1,...,p2        client connects to the server  (passive)
//	server 229 ... (|||port|)       same, RFC 2428 (no address)
//
// With NAT on the control connection it rewrites the address and port in
// the command to what the peer must use, registers the expectation there,
// and lets the data connection follow the master's NAT (followMaster).

// Helper policy (nf_conntrack_ftp.c ftp_exp_policy).
const (
	ftpExpectTimeout = 300 * time.Second // .timeout = 5 * 60
	ftpMaxExpected   = 1                 // .max_expected: a new command replaces the old one
)

// FTPCmd is the kind of FTP command the helper recognised (enum
// nf_ct_ftp_type).
type FTPCmd uint8

// The commands, with the kernel's numbering.
const (
	FTPPort FTPCmd = iota // PORT h1,h2,h3,h4,p1,p2 (client)
	FTPPasv               // 227 reply to PASV (server)
	FTPEprt               // EPRT |1|a.b.c.d|port| or |2|ipv6|port| (client)
	FTPEpsv               // 229 reply to EPSV, (|||port|) (server)
)

// ftpPatterns are the prefixes of the kernel's search table, matched
// case-insensitively at the start of a segment.
var ftpPatterns = [...]string{FTPPort: "PORT", FTPPasv: "227 ", FTPEprt: "EPRT", FTPEpsv: "229 "}

// String returns the command's pattern as the kernel's logs quote it.
func (c FTPCmd) String() string {
	if int(c) < len(ftpPatterns) {
		return ftpPatterns[c]
	}
	return "?"
}

// ftpPartialMsg is the nf_ct_helper_log text of a partial match, per
// command ("partial matching of `%s'").
var ftpPartialMsg = [...]string{
	FTPPort: "partial matching of `PORT'",
	FTPPasv: "partial matching of `227 '",
	FTPEprt: "partial matching of `EPRT'",
	FTPEpsv: "partial matching of `229 '",
}

// ftpSearch is the kernel's search[dir][2]: per direction, the two commands
// tried in order, with the character skipped through before the numbers
// (0: none) and the one that must end them (0: anything that is not part
// of a number).
var ftpSearch = [2][2]struct {
	cmd        FTPCmd
	skip, term byte
}{
	Original: {
		{FTPPort, ' ', '\r'}, // numbers right after the first space, then \r
		{FTPEprt, ' ', '\r'},
	},
	Reply: {
		{FTPPasv, 0, 0},     // RFC 1123: scan to the first digit, any terminator
		{FTPEpsv, '(', ')'}, // numbers right after the first '('
	},
}

// FTPResult is what ParseFTP found: the kernel's find_pattern result.
type FTPResult int8

// The results.
const (
	FTPPartial FTPResult = -1 // a recognised command that is cut or malformed: the packet is dropped
	FTPNoMatch FTPResult = 0  // nothing the helper looks for
	FTPFound   FTPResult = 1  // a command, in FTPMatch
)

// FTPMatch is a recognised command.
type FTPMatch struct {
	Cmd FTPCmd
	// Addr is the address the command names; for EPSV, which names none,
	// the sender's own address passed to ParseFTP.
	Addr netip.Addr
	// Port is the announced port.
	Port uint16
	// Off and Len delimit the command's numbers in the payload, the text
	// a NAT helper replaces ("a,b,c,d,p1,p2", "|1|a.b.c.d|port|",
	// "|||port|").
	Off, Len int
}

// ParseFTP looks for a data-connection command at the start of an FTP
// control segment sent in direction dir, exactly as nf_conntrack_ftp.c's
// find_pattern with its number parsers: the keyword case-insensitively;
// PORT and EPRT numbers right after the first space (a second space fails)
// and PORT's ended by "\r"; 227's from the first digit on with any
// terminator; 229's right after "(" between three equal delimiters; EPRT's
// protocol digit must match own's family (1 for IPv4, 2 for IPv6); the
// numbers are not range-checked, they wrap as the kernel's u32 arithmetic
// does. own is the sender's address, which also gives the family.
//
// A segment shorter than a keyword it begins, or one whose numbers do not
// parse, is FTPPartial, which the helper answers by dropping the packet so
// that the command arrives whole later.
//
// ParseFTP is pure and never panics; the IPv6 form of EPRT allocates.
func ParseFTP(data []byte, dir Dir, own netip.Addr) (FTPMatch, FTPResult) {
	fam, u3 := addrBytes(own)
	for _, s := range ftpSearch[dir&1] {
		m := FTPMatch{Cmd: s.cmd}
		res := ftpFind(data, s.cmd, s.skip, s.term, fam, &u3, &m)
		if res == FTPNoMatch {
			continue
		}
		if res == FTPFound {
			m.Addr = bytesAddr(fam, &u3)
		}
		return m, res
	}
	return FTPMatch{}, FTPNoMatch
}

// ftpFind is find_pattern for one command.
func ftpFind(data []byte, cmd FTPCmd, skip, term byte, fam Family, u3 *[16]byte, m *FTPMatch) FTPResult {
	pat := ftpPatterns[cmd]
	if len(data) <= len(pat) {
		// A short segment that is the start of the keyword: partial.
		if equalFold(data, pat[:len(data)]) {
			return FTPPartial
		}
		return FTPNoMatch
	}
	if !equalFold(data[:len(pat)], pat) {
		return FTPNoMatch
	}
	i := len(pat)
	if skip != 0 {
		for ; data[i] != skip; i++ {
			if i == len(data)-1 {
				return FTPPartial
			}
		}
		i++
	}
	off, n := i, 0
	switch cmd {
	case FTPPort:
		n = ftpRFC959(data[i:], term, u3, &m.Port)
	case FTPPasv:
		// try_rfc1123: the numbers start at the first digit.
		for ; i < len(data) && !isDigit(data[i]); i++ {
		}
		if i < len(data) {
			off = i
			n = ftpRFC959(data[i:], 0, u3, &m.Port)
		}
	case FTPEprt:
		n = ftpEPRT(data[i:], fam, u3, &m.Port)
	case FTPEpsv:
		n = ftpEPSV(data[i:], &m.Port)
	}
	if n == 0 {
		return FTPPartial
	}
	m.Off, m.Len = off, n
	return FTPFound
}

// equalFold compares ASCII case-insensitively, as strncasecmp does for
// these patterns (no non-ASCII byte lowers to an ASCII letter).
func equalFold(b []byte, s string) bool {
	for i := range len(s) {
		c, p := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= p && p <= 'Z' {
			p += 'a' - 'A'
		}
		if c != p {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// ftpNumber is try_number: fill arr with decimal numbers separated by
// sep, the last one ended by term (any non-digit when term is 0), and
// return the length read up to the terminator, or 0.
func ftpNumber(data []byte, arr []uint32, sep, term byte) int {
	clear(arr)
	i := 0
	for l := 0; l < len(data) && i < len(arr); l++ {
		switch c := data[l]; {
		case isDigit(c):
			arr[i] = arr[i]*10 + uint32(c-'0')
		case c == sep:
			i++
		default:
			if (c == term || term == 0) && i == len(arr)-1 {
				return l
			}
			return 0
		}
	}
	return 0
}

// ftpRFC959 is try_rfc959: "h1,h2,h3,h4,p1,p2". The parts are combined
// with shifts and ORs in 32 bits, so oversized numbers wrap as in the
// kernel.
func ftpRFC959(data []byte, term byte, u3 *[16]byte, port *uint16) int {
	var a [6]uint32
	n := ftpNumber(data, a[:], ',', term)
	if n == 0 {
		return 0
	}
	ip := a[0]<<24 | a[1]<<16 | a[2]<<8 | a[3]
	u3[0], u3[1], u3[2], u3[3] = byte(ip>>24), byte(ip>>16), byte(ip>>8), byte(ip)
	*port = uint16(a[4]<<8 | a[5])
	return n
}

// ftpPort is get_port: a decimal port (16-bit, wrapping) from start up to
// delim; 0 is refused. It returns the length through the delimiter.
func ftpPort(data []byte, start int, delim byte, port *uint16) int {
	var p uint16
	for i := start; i < len(data); i++ {
		switch c := data[i]; {
		case c == delim:
			if p == 0 {
				return 0
			}
			*port = p
			return i + 1
		case isDigit(c):
			p = p*10 + uint16(c-'0')
		default:
			return 0
		}
	}
	return 0
}

// ftpDelimOK is the delimiter rule of EPRT and EPSV: a printable ASCII
// character that is not a digit.
func ftpDelimOK(d byte) bool { return d >= 33 && d <= 126 && !isDigit(d) }

// ftpEPRT is try_eprt: "<d>1<d>a.b.c.d<d>port<d>" (or 2 and an IPv6
// address), the protocol digit matching the connection's family.
func ftpEPRT(data []byte, fam Family, u3 *[16]byte, port *uint16) int {
	if len(data) <= 3 {
		return 0
	}
	d := data[0]
	if !ftpDelimOK(d) || data[2] != d {
		return 0
	}
	if (fam == IPv4 && data[1] != '1') || (fam == IPv6 && data[1] != '2') {
		return 0
	}
	var n int
	if data[1] == '1' {
		var a [4]uint32
		n = ftpNumber(data[3:], a[:], '.', d)
		if n != 0 {
			ip := a[0]<<24 | a[1]<<16 | a[2]<<8 | a[3]
			u3[0], u3[1], u3[2], u3[3] = byte(ip>>24), byte(ip>>16), byte(ip>>8), byte(ip)
		}
	} else {
		n = ftpIPv6(data[3:], d, u3)
	}
	if n == 0 {
		return 0
	}
	return ftpPort(data, 3+n+1, d, port)
}

// ftpIPv6 is get_ipv6_addr: an IPv6 address up to delim, its length or 0.
// in6_pton accepts what netip does for an address without zone or
// brackets; an IPv4 literal is not an IPv6 address to it.
func ftpIPv6(data []byte, delim byte, u3 *[16]byte) int {
	for i, c := range data {
		if c != delim {
			continue
		}
		a, err := netip.ParseAddr(string(data[:i]))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return 0
		}
		*u3 = a.As16()
		return i
	}
	return 0
}

// ftpEPSV is try_epsv_response: "<d><d><d>port<d>".
func ftpEPSV(data []byte, port *uint16) int {
	if len(data) <= 3 {
		return 0
	}
	d := data[0]
	if !ftpDelimOK(d) || data[1] != d || data[2] != d {
		return 0
	}
	return ftpPort(data, 3, d, port)
}

// ftpState is struct nf_ct_ftp_master: per direction, the sequence
// numbers right after the last two segments that ended with "\n".
type ftpState struct {
	seqAftNL    [2][2]uint32
	seqAftNLNum [2]uint8
}

// atLineStart is find_nl_seq: does a segment starting at seq start a line?
func (f *ftpState) atLineStart(d Dir, seq uint32) bool {
	for i := range f.seqAftNLNum[d] {
		if f.seqAftNL[d][i] == seq {
			return true
		}
	}
	return false
}

// lineEnded is update_nl_seq: remember nl, replacing the older of two
// remembered positions only by a later one.
func (f *ftpState) lineEnded(d Dir, nl uint32) {
	n := f.seqAftNLNum[d]
	for i := range n {
		if f.seqAftNL[d][i] == nl {
			return
		}
	}
	if n < 2 {
		f.seqAftNL[d][n] = nl
		f.seqAftNLNum[d]++
		return
	}
	oldest := 1
	if before(f.seqAftNL[d][0], f.seqAftNL[d][1]) {
		oldest = 0
	}
	if after(nl, f.seqAftNL[d][oldest]) {
		f.seqAftNL[d][oldest] = nl
	}
}

// helpFTP is nf_conntrack_ftp.c help: only packets of an established
// control connection that carry data are looked at, and only a segment
// that starts a line (it begins where an earlier one of its direction
// ended with "\n"), so the first data segment of each direction is never
// parsed. Whatever happens, a segment ending with "\n" is remembered,
// unless the packet is dropped for a partial command.
func (t *Table) helpFTP(c *Conn, p *HelperPacket) (Verdict, string) {
	if p.Info != Established && p.Info != EstablishedReply {
		return Accept, "" // until there has been traffic both ways
	}
	data := p.Payload
	if len(data) == 0 || c.Proto() != ProtoTCP || c.ext == nil || c.ext.help == nil {
		return Accept, ""
	}
	dir := p.Info.Dir()
	f := &c.ext.help.ftp
	c.mu.Lock()
	start := f.atLineStart(dir, p.Seq)
	c.mu.Unlock()
	v, msg := Accept, ""
	if start {
		var partial bool
		v, msg, partial = t.ftpCommand(c, p, dir)
		if partial {
			return v, msg
		}
	}
	if data[len(data)-1] == '\n' {
		c.mu.Lock()
		f.lineEnded(dir, p.Seq+uint32(len(data)))
		c.mu.Unlock()
	}
	return v, msg
}

// ftpCommand handles a segment at a line start: parse, refuse a bounce,
// expect the data connection (through NAT when the master is NATed).
func (t *Table) ftpCommand(c *Conn, p *HelperPacket, dir Dir) (v Verdict, msg string, partial bool) {
	tu, other := &c.tuple[dir], &c.tuple[dir^1]
	own := tu.SrcAddr()
	m, res := ParseFTP(p.Payload, dir, own)
	switch res {
	case FTPPartial:
		// "We don't usually drop packets. After all, this is
		// connection tracking, not packet filtering. However, it is
		// necessary for accurate tracking in this case."
		return Drop, ftpPartialMsg[m.Cmd], true
	case FTPNoMatch:
		return Accept, "", false
	}
	// The data connection comes from the peer, so it is expected in the
	// other direction's terms: from where that tuple comes, to where it
	// goes (the NAT address as the peer knows it).
	daddr := other.Dst
	if m.Addr != own {
		// An address other than the sender's own opens a hole to a
		// third host (or the firewall itself): record nothing, unless
		// the loose parameter says to trust it.
		if !t.cfg.FTPLoose {
			return Accept, "", false
		}
		_, daddr = addrBytes(m.Addr)
	}
	e := &Expect{
		Tuple:   Tuple{Src: other.Src, Dst: daddr, DstPort: m.Port, Proto: ProtoTCP, Family: tu.Family},
		Mask:    exactMask(tu.Family),
		Master:  c,
		Timeout: ftpExpectTimeout,
	}
	if c.Status()&(StatusSrcNAT|StatusDstNAT) != 0 {
		v, msg = t.ftpNAT(c, p, &m, e, dir)
		return v, msg, false
	}
	if err := t.AddExpect(e, ftpMaxExpected, p.Now); err != nil {
		return Drop, "cannot add expectation", false
	}
	return Accept, "", false
}

// exactMask is the mask helpers use: source and destination address
// exact, source port wildcard, destination port exact.
func exactMask(f Family) Tuple {
	m := Tuple{DstPort: 0xffff}
	n := 16
	if f == IPv4 {
		n = 4
	}
	for i := range n {
		m.Src[i], m.Dst[i] = 0xff, 0xff
	}
	return m
}

// ftpNAT is nf_nat_ftp: the peer must reach the address this packet goes
// to after NAT, at a port free in the expectation table (the announced one
// if possible); the command is rewritten to say so, the expectation is
// registered there and will NAT the data connection back to the real host
// (followMaster), and a length change is recorded for the sequence
// adjustment.
func (t *Table) ftpNAT(c *Conn, p *HelperPacket, m *FTPMatch, e *Expect, dir Dir) (Verdict, string) {
	newAddr := c.tuple[dir^1].DstAddr()
	e.SavedPort = e.Tuple.DstPort
	e.Dir = dir ^ 1
	e.FollowMaster = true
	port := t.expectFindPort(e, ftpMaxExpected, p.Now)
	if port == 0 {
		return Drop, "all ports in use"
	}
	var buf [64]byte
	repl := appendFTPCmd(buf[:0], m.Cmd, newAddr, port)
	if p.Mangler == nil || !p.Mangler.MangleTCPPayload(m.Off, m.Len, repl) {
		t.RemoveExpect(e, p.Now)
		return Drop, "cannot mangle packet"
	}
	c.SetSeqAdj(dir, p.Seq, int32(len(repl)-m.Len))
	return Accept, ""
}

// expectFindPort is nf_nat_exp_find_port: register e at its saved port,
// or, while another master holds an overlapping expectation (ErrExpectBusy),
// at random ports in [saved, 65535), at most 128 tries. 0 means none was
// free (or the table refused for another reason).
func (t *Table) expectFindPort(e *Expect, maxPerClass int, now int64) uint16 {
	lo := e.SavedPort
	span := 65535 - int(lo)
	left := min(span, natMaxAttempts)
	port := lo
	for {
		e.Tuple.DstPort = port
		err := t.AddExpect(e, maxPerClass, now)
		if err == nil {
			return port
		}
		left--
		if err != ErrExpectBusy || left < 0 {
			return 0
		}
		port = lo + uint16(rand.IntN(span))
	}
}

// appendFTPCmd is nf_nat_ftp_fmt_cmd: the replacement text of a command's
// numbers. PORT and 227 print the first four bytes of the address (an IPv6
// address has no such form; the kernel prints its first bytes all the
// same); EPRT prints an IPv6 address in full, as %pI6 does.
func appendFTPCmd(b []byte, cmd FTPCmd, a netip.Addr, port uint16) []byte {
	switch cmd {
	case FTPPort, FTPPasv:
		v := a.As16()
		if a.Is4() {
			v4 := a.As4()
			copy(v[:], v4[:])
		}
		for _, x := range v[:4] {
			b = strconv.AppendUint(b, uint64(x), 10)
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(port>>8), 10)
		b = append(b, ',')
		return strconv.AppendUint(b, uint64(port&0xff), 10)
	case FTPEprt:
		if a.Is4() {
			b = append(b, "|1|"...)
			b = a.AppendTo(b)
		} else {
			b = append(b, "|2|"...)
			v := a.As16()
			for i := 0; i < 16; i += 2 {
				if i > 0 {
					b = append(b, ':')
				}
				const hex = "0123456789abcdef"
				b = append(b, hex[v[i]>>4], hex[v[i]&15], hex[v[i+1]>>4], hex[v[i+1]&15])
			}
		}
		b = append(b, '|')
		b = strconv.AppendUint(b, uint64(port), 10)
		return append(b, '|')
	}
	b = append(b, "|||"...)
	b = strconv.AppendUint(b, uint64(port), 10)
	return append(b, '|')
}
