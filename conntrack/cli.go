package conntrack

import (
	"bufio"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// This file is conntrack-tools' command line (src/conntrack.c do_parse and
// the extensions/libct_proto_*.c option tables) for gofw conntrack: the
// same options, getopt_long's way of reading them, the same checks in the
// same order and the same messages and exit codes, so that scripts written
// for conntrack 1.4.7 run unchanged. ParseArgs runs on both sides of the
// control socket: in gofw, so a typo is reported even when gofwd is down,
// and in gofwd, which never trusts the client.

// MsgPrefix starts every message conntrack-tools prints on stderr.
const MsgPrefix = "conntrack v1.4.7 (conntrack-tools): "

// Exit codes, as conntrack-tools' enum exittype.
const (
	ExitFailure   = 1 // OTHER_PROBLEM: the operation failed
	ExitParameter = 2 // PARAMETER_PROBLEM: the command line is wrong
)

// CmdError is a failure as conntrack-tools reports it: the message after
// MsgPrefix and the exit code. Parameter problems (Code ExitParameter) are
// followed by the "Try ... -h" hint.
type CmdError struct {
	Code int
	Msg  string
}

func (e *CmdError) Error() string { return e.Msg }

func paramErr(format string, a ...string) *CmdError {
	return &CmdError{Code: ExitParameter, Msg: sprintf(format, a...)}
}

func failErr(format string, a ...string) *CmdError {
	return &CmdError{Code: ExitFailure, Msg: sprintf(format, a...)}
}

// sprintf substitutes %s verbs only: conntrack's messages quote the user's
// text, which must come out byte for byte.
func sprintf(format string, a ...string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && i+1 < len(format) && format[i+1] == 's' && len(a) > 0 {
			b.WriteString(a[0])
			a = a[1:]
			i++
			continue
		}
		b.WriteByte(format[i])
	}
	return b.String()
}

// Format renders e as gofw conntrack prints it on stderr: the tool's
// prefix, the message, and for a parameter problem the hint naming prog
// (conntrack-tools names itself there; gofw names the command to run).
func (e *CmdError) Format(prog string) string {
	s := MsgPrefix + e.Msg + "\n"
	if e.Code == ExitParameter {
		s += "Try `" + prog + " -h' or '" + prog + " --help' for more information.\n"
	}
	return s
}

// Op is one command on one table, numbered as conntrack-tools numbers its
// command bits (CT_LIST_BIT ... CT_ADD_BIT): the option table below is
// indexed by it.
type Op uint8

// The commands.
const (
	OpList      Op = iota // -L [conntrack|dying|unconfirmed]
	OpCreate              // -I
	OpUpdate              // -U
	OpDelete              // -D
	OpGet                 // -G
	OpFlush               // -F
	OpEvent               // -E
	OpVersion             // -V
	OpHelp                // -h
	OpExpList             // -L expect
	OpExpCreate           // -I expect
	OpExpDelete           // -D expect
	OpExpGet              // -G expect
	OpExpFlush            // -F expect
	OpExpEvent            // -E expect
	OpCount               // -C
	OpExpCount            // -C expect
	OpStats               // -S
	OpExpStats            // -S expect
	OpAdd                 // -A: create, or update an existing entry
	OpUsage               // no command at all: print the usage
	numOps      = OpUsage
)

// Output holds the -o formats.
type Output struct {
	Extended   bool // "ipv4     2 " prefix
	ID         bool // id= after use=
	Timestamp  bool // -E, -L expect: wall-clock prefix
	KTimestamp bool // kernel start/stop time stamps
	Labels     bool // connlabels (gofw has none)
	Userspace  bool // accepted; changes nothing in listings
	JSON       bool // gofw's own: one JSON object per line
}

// Command is one parsed conntrack command line.
type Command struct {
	Op Op
	// List is the table of -L: conntrack, dying or unconfirmed.
	List ListTable
	// Portid names who asked, in the events the command causes
	// ("[USERSPACE] portid=N"): gofwd sets the requesting process's id,
	// where ctnetlink gives the requester's netlink port. 0 for none.
	Portid uint32

	// Filter holds the filters that conntrack.Filter expresses; Mark,
	// Status and ID are matched by Command.Match, with conntrack-tools'
	// own semantics.
	Filter Filter

	// Tuple parts, as given: for -I/-A/-G they build tuples, for the
	// other commands they are in Filter too.
	OrigSrc, OrigDst, ReplySrc, ReplyDst         netip.Addr
	OrigSport, OrigDport, ReplySport, ReplyDport *uint16
	ICMPType, ICMPCode                           *uint8
	ICMPID                                       *uint16

	// Timeout is -t in seconds (HasTimeout says it was given).
	Timeout    uint32
	HasTimeout bool
	// Status is -u: bits that must be set (or, for -I/-U, to set);
	// NotStatus the bits that must be clear ("!BIT", and SEEN_REPLY for
	// the pseudo-status UNREPLIED).
	Status, NotStatus Status
	HasStatus         bool
	// Mark is -m VALUE[/MASK]: a filter keeps entries whose mark & mask
	// is value; -U sets mark = (mark &^ mask) ^ value; -I sets value.
	Mark, MarkMask uint32
	HasMark        bool
	// ID is -i (deprecated by conntrack-tools, still honoured).
	ID *uint32
	// Zone is -w.
	Zone *uint16
	// SrcNAT, DstNAT and AnyNAT are -n, -g and -j, NATAddr their
	// optional address (see natMatch).
	SrcNAT, DstNAT, AnyNAT bool
	NATAddr                netip.Addr
	// Zero is -z: zero the counters of the listed entries.
	Zero bool
	// Events is -e (0: all).
	Events EventType
	// BufferSize is -b in bytes (0: not given).
	BufferSize int
	// Out holds -o.
	Out Output
	// Warnings are printed on stderr before anything else, as
	// conntrack-tools prints them while parsing.
	Warnings []string

	opts  uint32 // optXxx bits given
	proto *protoDef
	pflag uint32 // protocol option bits given
}

// Generic options, in conntrack-tools' bit order (enum ct_options); the
// names are those its messages use (optflags).
const (
	optSrc = iota
	optDst
	optReplySrc
	optReplyDst
	optProto
	optTimeout
	optStatus
	optZero
	optEventMask
	optTupleSrc
	optTupleDst
	optMaskSrc
	optMaskDst
	optNatRange
	optMark
	optID
	optFamily
	optSrcNat
	optDstNat
	optOutput
	optSecmark
	optBufferSize
	optAnyNat
	optZone
	optLabel
	optLabelAdd
	optLabelDel
	optOrigZone
	optReplyZone
	numOpts
)

var optNames = [numOpts]string{
	"src", "dst", "reply-src", "reply-dst", "protonum", "timeout", "status",
	"zero", "event-mask", "tuple-src", "tuple-dst", "mask-src", "mask-dst",
	"nat-range", "mark", "id", "family", "src-nat", "dst-nat", "output",
	"secmark", "buffer-size", "any-nat", "zone", "label", "label-add",
	"label-del", "orig-zone", "reply-zone",
}

// Legality of each option with each command, conntrack-tools'
// commands_v_options: '0' illegal, '1' required, '2' optional, '3' one of
// the address pairs (original or reply) must be given whole. One string
// per Op, one character per option above.
var opLegal = [numOps]string{
	OpList:      "22222022000220202222202220022",
	OpCreate:    "33331120000002200220000202022",
	OpUpdate:    "22222220000220222222000022200",
	OpDelete:    "22222220000220222222000220022",
	OpGet:       "33331000000000020002000020000",
	OpFlush:     "00000000000000002000000000000",
	OpEvent:     "22222000200220202222222220022",
	OpVersion:   "00000000000000000000000000000",
	OpHelp:      "00002000000000000000000000000",
	OpExpList:   "00000000000000002002000000000",
	OpExpCreate: "11221120011110000000000000000",
	OpExpDelete: "11221000000000000000000000000",
	OpExpGet:    "11221000000000000000000000000",
	OpExpFlush:  "00000000000000000000000000000",
	OpExpEvent:  "00000000000000000002000000000",
	OpCount:     "00000000000000000000000000000",
	OpExpCount:  "00000000000000000000000000000",
	OpStats:     "00000000000000000000000000000",
	OpExpStats:  "00000000000000000000000000000",
	OpAdd:       "33331120000002200220000202022",
}

// argKind is getopt's has_arg.
type argKind uint8

const (
	noArg argKind = iota
	reqArg
	optArg
)

// longOpt is one row of getopt_long's option table. id is a generic
// option's short letter, or (for protocol options, id >= protoBase) the
// protocol option's index plus protoBase.
type longOpt struct {
	name string
	arg  argKind
	id   int
}

const protoBase = 1000

// mainOpts is conntrack-tools' original_opts.
var mainOpts = []longOpt{
	{"dump", optArg, 'L'}, {"create", optArg, 'I'}, {"add", optArg, 'A'},
	{"delete", optArg, 'D'}, {"update", optArg, 'U'}, {"get", optArg, 'G'},
	{"flush", optArg, 'F'}, {"event", optArg, 'E'}, {"counter", optArg, 'C'},
	{"stats", noArg, 'S'}, {"version", noArg, 'V'}, {"help", noArg, 'h'},
	{"orig-src", reqArg, 's'}, {"src", reqArg, 's'}, {"orig-dst", reqArg, 'd'},
	{"dst", reqArg, 'd'}, {"reply-src", reqArg, 'r'}, {"reply-dst", reqArg, 'q'},
	{"protonum", reqArg, 'p'}, {"timeout", reqArg, 't'}, {"status", reqArg, 'u'},
	{"zero", noArg, 'z'}, {"event-mask", reqArg, 'e'}, {"tuple-src", reqArg, '['},
	{"tuple-dst", reqArg, ']'}, {"mask-src", reqArg, '{'}, {"mask-dst", reqArg, '}'},
	{"nat-range", reqArg, 'a'}, {"mark", reqArg, 'm'}, {"secmark", reqArg, 'c'},
	{"id", optArg, 'i'}, {"family", reqArg, 'f'}, {"src-nat", optArg, 'n'},
	{"dst-nat", optArg, 'g'}, {"output", reqArg, 'o'}, {"buffer-size", reqArg, 'b'},
	{"any-nat", optArg, 'j'}, {"zone", reqArg, 'w'}, {"label", reqArg, 'l'},
	{"label-add", reqArg, '<'}, {"label-del", optArg, '>'}, {"orig-zone", reqArg, '('},
	{"reply-zone", reqArg, ')'},
}

// shortArgs is the getopt optstring
// ":LIUDGEFAhVs:d:r:q:p:t:u:e:a:z[:]:{:}:m:i:f:o:n::g::c:b:C::Sj::w:l:<:>::(:):"
// as a map from letter to has_arg.
var shortArgs = func() map[byte]argKind {
	m := map[byte]argKind{}
	s := "LIUDGEFAhVs:d:r:q:p:t:u:e:a:z[:]:{:}:m:i:f:o:n::g::c:b:C::Sj::w:l:<:>::(:):"
	for i := 0; i < len(s); {
		ch := s[i]
		i++
		k := noArg
		if i < len(s) && s[i] == ':' {
			k = reqArg
			i++
			if i < len(s) && s[i] == ':' {
				k = optArg
				i++
			}
		}
		m[ch] = k
	}
	return m
}()

// optBit maps a generic option letter to its bit (opt2type).
var optBit = map[int]int{
	's': optSrc, 'd': optDst, 'r': optReplySrc, 'q': optReplyDst,
	'{': optMaskSrc, '}': optMaskDst, '[': optTupleSrc, ']': optTupleDst,
	'n': optSrcNat, 'g': optDstNat, 'm': optMark, 'c': optSecmark, 'i': optID,
	'j': optAnyNat, 'w': optZone, 'l': optLabel, '<': optLabelAdd,
	'>': optLabelDel, '(': optOrigZone, ')': optReplyZone,
}

// ParseArgs parses a conntrack-tools command line (without the program
// name). Errors are *CmdError, worded as conntrack 1.4.7 words them.
func ParseArgs(args []string) (*Command, error) {
	p := &parser{args: args, c: &Command{Op: OpUsage}}
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.c, nil
}

type parser struct {
	args    []string
	c       *Command
	family  Family // set_family: from -f and from the addresses
	haveCmd bool
}

// table returns getopt_long's current table: the generic options, then
// those of the protocol loaded by -p.
func (p *parser) table() []longOpt {
	if p.c.proto == nil {
		return mainOpts
	}
	t := append([]longOpt(nil), mainOpts...)
	for i, o := range p.c.proto.opts {
		for _, n := range o.names {
			t = append(t, longOpt{n, reqArg, protoBase + i})
		}
	}
	return t
}

// lookupLong resolves a long option as glibc's getopt_long: an exact
// match, else a unique prefix (rows that agree on id and arity count
// once), else unknown.
func (p *parser) lookupLong(name string) (longOpt, bool) {
	var hit *longOpt
	ambiguous := false
	for _, o := range p.table() {
		if o.name == name {
			return o, true
		}
		if strings.HasPrefix(o.name, name) {
			switch {
			case hit == nil:
				h := o
				hit = &h
			case hit.id != o.id || hit.arg != o.arg:
				ambiguous = true
			}
		}
	}
	if hit == nil || ambiguous {
		return longOpt{}, false
	}
	return *hit, true
}

// run is do_parse's getopt loop. Arguments that are not options are
// skipped, as glibc's getopt permutes them to the end and conntrack never
// reads them.
func (p *parser) run() error {
	a := p.args
	for i := 0; i < len(a); i++ {
		arg := a[i]
		if arg == "--" {
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			continue
		}
		if arg[1] == '-' {
			name, val, hasVal := strings.Cut(arg[2:], "=")
			o, ok := p.lookupLong(name)
			if !ok {
				return paramErr("unknown option `%s'", arg)
			}
			var optarg *string
			switch o.arg {
			case noArg:
				if hasVal {
					// glibc: "option '--x' doesn't allow an argument",
					// which conntrack reports as unknown.
					return paramErr("unknown option `%s'", arg)
				}
			case reqArg:
				if !hasVal {
					if i+1 >= len(a) {
						return paramErr("option `%s' requires an argument", arg)
					}
					i++
					val = a[i]
				}
				optarg = &val
			case optArg:
				if hasVal {
					optarg = &val
				}
			}
			if err := p.option(o.id, optarg, &i, arg); err != nil {
				return err
			}
			continue
		}
		// A cluster of short options: "-Lo" is -L -o.
		for k := 1; k < len(arg); k++ {
			ch := arg[k]
			kind, ok := shortArgs[ch]
			if !ok {
				return paramErr("unknown option `%s'", arg)
			}
			last := k == len(arg)-1
			var optarg *string
			if kind != noArg && !last {
				v := arg[k+1:] // the rest of the cluster is the argument
				optarg = &v
				last = true
			} else if kind == reqArg {
				if i+1 >= len(a) {
					return paramErr("option `%s' requires an argument", arg)
				}
				i++
				v := a[i]
				optarg = &v
			}
			if last {
				if err := p.option(int(ch), optarg, &i, arg); err != nil {
					return err
				}
				break
			}
			// Mid-cluster, getopt's argv[optind] is this very
			// cluster, so get_optional_arg finds nothing.
			j := len(a)
			if err := p.option(int(ch), optarg, &j, arg); err != nil {
				return err
			}
		}
	}
	return p.finish()
}

// optional is get_optional_arg: an argument given with the option wins
// (and, as in conntrack-tools, is then not used at all); otherwise the
// next argument if it does not start with '-' or '!'.
func (p *parser) optional(optarg *string, i *int) (string, bool) {
	if optarg != nil {
		return "", false
	}
	if *i+1 < len(p.args) {
		n := p.args[*i+1]
		if n != "" && n[0] != '-' && n[0] != '!' {
			*i++
			return n, true
		}
		if n == "" {
			*i++
			return n, true
		}
	}
	return "", false
}

// table kinds, as check_type.
const (
	tblConntrack = iota
	tblExpect
	tblDying
	tblUnconfirmed
)

func (p *parser) checkType(optarg *string, i *int) (int, error) {
	t, ok := p.optional(optarg, i)
	if !ok {
		return tblConntrack, nil
	}
	// check_type compares the first len(t) bytes: any prefix, the empty
	// string included, selects a table.
	for _, c := range []struct {
		name string
		kind int
	}{{"expect", tblExpect}, {"conntrack", tblConntrack}, {"dying", tblDying}, {"unconfirmed", tblUnconfirmed}} {
		if strings.HasPrefix(c.name, t) {
			return c.kind, nil
		}
	}
	return 0, paramErr("unknown type `%s'", t)
}

func (p *parser) addCommand(op Op) error {
	if p.haveCmd {
		return paramErr("Invalid commands combination")
	}
	p.haveCmd = true
	p.c.Op = op
	return nil
}

var cmdOps = map[int][2]Op{
	'L': {OpList, OpExpList}, 'I': {OpCreate, OpExpCreate}, 'D': {OpDelete, OpExpDelete},
	'G': {OpGet, OpExpGet}, 'F': {OpFlush, OpExpFlush}, 'E': {OpEvent, OpExpEvent},
	'V': {OpVersion, OpVersion}, 'h': {OpHelp, OpHelp}, 'C': {OpCount, OpExpCount},
	'S': {OpStats, OpExpStats}, 'U': {OpUpdate, numOps}, 'A': {OpAdd, numOps},
}

var cmdLong = map[int]string{
	'L': "dump", 'I': "create", 'D': "delete", 'G': "get", 'F': "flush", 'E': "event",
	'V': "version", 'h': "help", 'C': "counter", 'S': "stats", 'U': "update", 'A': "add",
}

// option handles one option, as the switch of do_parse; written is the
// argument as the user wrote it, for messages.
func (p *parser) option(id int, optarg *string, i *int, written string) error {
	c := p.c
	if id >= protoBase {
		return p.protoOption(id-protoBase, *optarg)
	}
	if ops, ok := cmdOps[id]; ok {
		t, err := p.checkType(optarg, i)
		if err != nil {
			return err
		}
		if id == 'L' {
			switch t {
			case tblDying, tblUnconfirmed:
				c.List = ListDying
				if t == tblUnconfirmed {
					c.List = ListUnconfirmed
				}
				return p.addCommand(OpList)
			}
			return p.addCommand(ops[t&1])
		}
		if t == tblDying || t == tblUnconfirmed {
			return paramErr("Can't do that command with tables `dying' and `unconfirmed'")
		}
		op := ops[t]
		if op == numOps {
			return paramErr("Can't do --%s on expectations", cmdLong[id])
		}
		return p.addCommand(op)
	}
	set := func(bit int) { c.opts |= 1 << bit }
	switch id {
	case 's', 'd', 'r', 'q':
		return p.address(id, *optarg)
	case '[', ']', '{', '}':
		set(optBit[id])
		return p.unsupported(id)
	case 'p':
		set(optProto)
		proto, def, ok := findProto(*optarg)
		if !ok {
			return paramErr("`%s' unsupported protocol", *optarg)
		}
		c.Filter.Proto = &proto
		c.proto = def
		c.pflag = 0
	case 't':
		set(optTimeout)
		v, err := parseUint(*optarg, 1<<32-1)
		if err != nil {
			return failErr("unexpected value '%s' with -t option", *optarg)
		}
		c.Timeout, c.HasTimeout = uint32(v), true
	case 'u':
		set(optStatus)
		c.HasStatus = true
		return p.status(*optarg)
	case 'e':
		set(optEventMask)
		return p.eventMask(*optarg)
	case 'o':
		set(optOutput)
		return p.output(*optarg)
	case 'z':
		set(optZero)
		c.Zero = true
	case 'n', 'g', 'j':
		set(optBit[id])
		v, ok := p.optional(optarg, i)
		if optarg != nil {
			v, ok = *optarg, true
		}
		if !ok {
			break
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return paramErr("Invalid IP address `%s'", v)
		}
		if err := p.setFamily(a); err != nil {
			return err
		}
		c.NATAddr = a
	case 'w', '(', ')':
		v, err := parseUint(*optarg, 1<<16-1)
		if err != nil {
			return failErr("unexpected value '%s' with -%s option", *optarg, string(rune(id)))
		}
		set(optBit[id])
		if id != 'w' {
			return p.unsupported(id)
		}
		z := uint16(v)
		c.Zone = &z
		c.Filter.Zone = &z
	case 'i':
		// "--id" takes its value only attached; -i always takes one.
		if optarg == nil {
			return paramErr("option `%s' requires an argument", written)
		}
		v, err := parseUint(*optarg, 1<<32-1)
		if err != nil {
			return failErr("unexpected value '%s' with -i option", *optarg)
		}
		set(optID)
		id := uint32(v)
		c.ID = &id
	case 'c':
		if _, err := parseUint(*optarg, 1<<32-1); err != nil {
			return failErr("unexpected value '%s' with -c option", *optarg)
		}
		set(optSecmark)
		return p.unsupported(id)
	case 'm':
		set(optMark)
		v, m, ok := parseMarkMask(*optarg)
		if !ok {
			return failErr("unexpected value '%s' with -m option", *optarg)
		}
		c.Mark, c.MarkMask, c.HasMark = v, m, true
	case 'l', '<', '>':
		set(optBit[id])
		return p.unsupported(id)
	case 'a':
		c.Warnings = append(c.Warnings, "WARNING: ignoring -a, deprecated option.")
	case 'f':
		set(optFamily)
		var f Family
		switch {
		case strings.HasPrefix(*optarg, "ipv4"):
			f = IPv4
		case strings.HasPrefix(*optarg, "ipv6"):
			f = IPv6
		default:
			return paramErr("`%s' unsupported protocol", *optarg)
		}
		if err := p.setFamilyOf(f); err != nil {
			return err
		}
	case 'b':
		set(optBufferSize)
		v, err := parseUint(*optarg, 1<<31-1)
		if err != nil {
			return failErr("unexpected value '%s' with -b option", *optarg)
		}
		c.BufferSize = int(v)
	}
	return nil
}

// unsupported refuses, by name, the conntrack-tools options gofw has
// nothing behind (a refusal, never a silent no-op).
func (p *parser) unsupported(id int) error {
	why := map[int]string{
		'[': "expectations are created by gofw's helpers, not from the command line",
		']': "expectations are created by gofw's helpers, not from the command line",
		'{': "use a prefix instead: -s ADDR/LEN",
		'}': "use a prefix instead: -d ADDR/LEN",
		'c': "gofw has no SELinux secmark",
		'l': "gofw has no connection labels",
		'<': "gofw has no connection labels",
		'>': "gofw has no connection labels",
		'(': "gofw's zones are not directional; use -w",
		')': "gofw's zones are not directional; use -w",
	}
	name := "--" + optNames[optBit[id]]
	return paramErr("option `%s' is not supported by gofw: %s", name, why[id])
}

func (p *parser) setFamilyOf(f Family) error {
	if p.family == 0 {
		p.family = f
		p.c.Filter.Family = f
		return nil
	}
	if p.family != f {
		return paramErr("mismatched address family")
	}
	return nil
}

func (p *parser) setFamily(a netip.Addr) error {
	if a.Is4() {
		return p.setFamilyOf(IPv4)
	}
	return p.setFamilyOf(IPv6)
}

// address parses -s/-d/-r/-q, as nfct_parse_addr_from_opt: an address,
// with a prefix length only for the original direction.
func (p *parser) address(id int, arg string) error {
	c := p.c
	s, bits, hasBits := strings.Cut(arg, "/")
	a, err := parseInetAddr(s)
	if err != nil {
		return paramErr("Invalid IP address `%s'", arg)
	}
	if err := p.setFamily(a); err != nil {
		return err
	}
	max := a.BitLen()
	n := max
	if hasBits {
		if id == 'r' || id == 'q' {
			name := map[int]string{'r': "reply-src", 'q': "reply-dst"}[id]
			return paramErr("CIDR notation unavailable for `--%s'", name)
		}
		v, err := 0, error(nil)
		if bits != "" { // strtol("") is 0
			v, err = strconv.Atoi(bits)
		}
		if err != nil || v < 0 || v > max {
			return paramErr("Invalid netmask")
		}
		n = v
		if n != max {
			// conntrack-tools turns a short prefix into --mask-src /
			// --mask-dst, which -I and -G refuse.
			c.opts |= 1 << map[int]int{'s': optMaskSrc, 'd': optMaskDst}[id]
		}
	}
	c.opts |= 1 << optBit[id]
	pfx := netip.PrefixFrom(a, n).Masked()
	switch id {
	case 's':
		c.OrigSrc, c.Filter.OrigSrc = a, pfx
	case 'd':
		c.OrigDst, c.Filter.OrigDst = a, pfx
	case 'r':
		c.ReplySrc, c.Filter.ReplySrc = a, pfx
	case 'q':
		c.ReplyDst, c.Filter.ReplyDst = a, pfx
	}
	return nil
}

// parseInetAddr accepts what inet_aton or inet_pton(AF_INET6) accept.
// inet_aton's legacy forms ("10.1", "0x0a000001", octal parts) are
// accepted too, as conntrack-tools does.
func parseInetAddr(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), nil
	}
	if a, ok := inetAton(s); ok {
		return a, nil
	}
	return netip.Addr{}, strconv.ErrSyntax
}

// inetAton is glibc's inet_aton: one to four parts, each decimal, octal
// (leading 0) or hex (0x), the last part filling the remaining bytes. It
// stops at the first blank, as glibc does.
func inetAton(s string) (netip.Addr, bool) {
	if i := strings.IndexAny(s, " \t\n"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, part := range parts {
		v, err := cStrtoul(part, 32)
		if err != nil || part == "" || part[0] == '+' || (len(part) > 1 && part[0] == '0' && part[1] != 'x' && part[1] != 'X' && strings.ContainsAny(part, "89")) {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var ip uint64
	for k, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		ip |= v << (24 - 8*k)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	ip |= last
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

// cStrtoul reads a whole number as C's strtoul with base 0 does (0x hex,
// leading 0 octal), refusing what only Go's base 0 takes: "_" between
// digits and the 0b and 0o prefixes.
func cStrtoul(s string, bits int) (uint64, error) {
	if strings.IndexByte(s, '_') >= 0 || len(s) > 1 && s[0] == '0' && strings.IndexByte("bBoO", s[1]) >= 0 {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s, 0, bits)
}

// parseUint is strtoul with base 0 and the checks of conntrack-tools'
// parse_value: the whole string, at most max.
func parseUint(s string, max uint64) (uint64, error) {
	t := strings.TrimLeft(s, " \t\n")
	if t == "" || t[0] == '+' || t[0] == '-' {
		return 0, strconv.ErrSyntax
	}
	v, err := cStrtoul(t, 64)
	if err != nil || v > max {
		return 0, strconv.ErrRange
	}
	return v, nil
}

// parseMarkMask is parse_u32_mask: VALUE or VALUE/MASK, each strtoul base
// 0; no mask means all ones.
func parseMarkMask(s string) (v, m uint32, ok bool) {
	vs, ms, hasMask := strings.Cut(s, "/")
	a, err := parseUint(vs, 1<<32-1)
	if err != nil {
		return 0, 0, false
	}
	m = ^uint32(0)
	if hasMask {
		b, err := parseUint(ms, 1<<32-1)
		if err != nil {
			return 0, 0, false
		}
		m = uint32(b)
	}
	return uint32(a), m, true
}

// statusNamesCLI are the -u names conntrack-tools knows (parse_array
// PARSE_STATUS), in its order.
var statusNamesCLI = []string{"ASSURED", "SEEN_REPLY", "UNSET", "FIXED_TIMEOUT", "EXPECTED", "OFFLOAD", "HW_OFFLOAD"}
var statusBitsCLI = []Status{StatusAssured, StatusSeenReply, 0, StatusFixedTimeout, StatusExpected, StatusOffload, StatusHWOffload}

// status is parse_parameter_mask: names set bits, "!NAME" requires them
// clear, UNREPLIED requires SEEN_REPLY clear; SRC_NAT and DST_NAT are
// ignored with a warning.
func (p *parser) status(arg string) error {
	c := p.c
	rest := arg
	for {
		part, more, hasMore := strings.Cut(rest, ",")
		if part == "" {
			return paramErr("Bad parameter `%s'", rest)
		}
		neg := part[0] == '!'
		if neg {
			// Messages quote from after the '!'.
			part, rest = part[1:], rest[1:]
			if part == "" {
				return paramErr("Bad parameter `%s'", rest)
			}
		}
		switch {
		case !neg && strings.HasPrefix(part, "UNREPLIED"):
			c.NotStatus |= StatusSeenReply
		case len(part) <= 7 && strings.EqualFold("SRC_NAT"[:len(part)], part):
			c.Warnings = append(c.Warnings, "WARNING: ignoring SRC_NAT, use --src-nat instead")
		case len(part) <= 7 && strings.EqualFold("DST_NAT"[:len(part)], part):
			c.Warnings = append(c.Warnings, "WARNING: ignoring DST_NAT, use --dst-nat instead")
		default:
			k := prefixIndex(statusNamesCLI, part)
			if k < 0 {
				return paramErr("Bad parameter `%s'", rest)
			}
			if neg {
				c.NotStatus |= statusBitsCLI[k]
			} else {
				c.Status |= statusBitsCLI[k]
			}
		}
		if !hasMore {
			return nil
		}
		rest = more
	}
}

// prefixIndex finds the first name that s is a case-insensitive prefix
// of (conntrack-tools' strncasecmp(str, name, strlen(str))), or -1.
func prefixIndex(names []string, s string) int {
	if s == "" {
		return -1
	}
	for k, n := range names {
		if len(s) <= len(n) && strings.EqualFold(n[:len(s)], s) {
			return k
		}
	}
	return -1
}

// eventMask is -e: ALL, NEW, UPDATES, DESTROY (prefixes accepted).
func (p *parser) eventMask(arg string) error {
	names := []string{"ALL", "NEW", "UPDATES", "DESTROY"}
	vals := []EventType{EventAll, EventNew, EventUpdate, EventDestroy}
	return p.list(arg, names, func(k int) { p.c.Events |= vals[k] })
}

// output is -o.
func (p *parser) output(arg string) error {
	o := &p.c.Out
	names := []string{"xml", "extended", "timestamp", "id", "ktimestamp", "labels", "userspace", "save", "json"}
	var unsupported string
	err := p.list(arg, names, func(k int) {
		switch names[k] {
		case "extended":
			o.Extended = true
		case "timestamp":
			o.Timestamp = true
		case "id":
			o.ID = true
		case "ktimestamp":
			o.KTimestamp = true
		case "labels":
			o.Labels = true
		case "userspace":
			o.Userspace = true
		case "json":
			o.JSON = true
		default:
			if unsupported == "" {
				unsupported = names[k]
			}
		}
	})
	if err != nil {
		return err
	}
	if unsupported != "" {
		return paramErr("output format `%s' is not supported by gofw (use -o json for a machine-readable listing)", unsupported)
	}
	if o.JSON && (o.Extended || o.Timestamp || o.ID || o.KTimestamp || o.Labels || o.Userspace) {
		return failErr("cannot combine json output with any other output type, use -o json only")
	}
	return nil
}

// list is parse_parameter without negation.
func (p *parser) list(arg string, names []string, set func(k int)) error {
	rest := arg
	for {
		part, more, hasMore := strings.Cut(rest, ",")
		k := prefixIndex(names, part)
		if k < 0 {
			return paramErr("Bad parameter `%s'", rest)
		}
		set(k)
		if !hasMore {
			return nil
		}
		rest = more
	}
}

// finish runs the checks do_parse makes after its loop, in its order.
func (p *parser) finish() error {
	c := p.c
	if c.opts&(1<<optAnyNat) != 0 && c.opts&(1<<optSrcNat|1<<optDstNat) != 0 {
		return paramErr("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'")
	}
	c.SrcNAT = c.opts&(1<<optSrcNat) != 0
	c.DstNAT = c.opts&(1<<optDstNat) != 0
	c.AnyNAT = c.opts&(1<<optAnyNat) != 0
	if c.Op == OpUsage {
		// conntrack-tools indexes its table past the end here; what
		// the options mean without a command is nothing: show usage.
		return nil
	}
	if err := checkLegal(c.opts, numOpts, opLegal[c.Op], optNames[:], "`--src' and `--dst'", "`--reply-src' and `--reply-dst'", 1<<optSrc|1<<optDst, 1<<optReplySrc|1<<optReplyDst); err != nil {
		return err
	}
	// CT_COMPARISON: the options conntrack-tools filters with.
	const comparison = 1<<optProto | 1<<optSrc | 1<<optDst | 1<<optReplySrc | 1<<optReplyDst |
		1<<optMark | 1<<optSecmark | 1<<optStatus | 1<<optID | 1<<optZone | 1<<optLabel |
		1<<optOrigZone | 1<<optReplyZone
	if c.Op == OpList && c.List == ListConntrack && c.Zero && c.opts&comparison != 0 {
		return paramErr("Can't use -z with filtering parameters")
	}
	if c.proto != nil && c.Op != OpHelp {
		d := c.proto
		if err := checkLegal(c.pflag, len(d.opts), d.legal(c.Op), d.flagNames(), d.origMsg, d.replyMsg, d.origPair, d.replyPair); err != nil {
			return err
		}
	}
	return nil
}

// checkLegal is generic_opt_check: every required option present, no
// illegal one, and where the table says '3', one of the two pairs given
// whole (else the message about the first pair partly given).
func checkLegal(given uint32, n int, legal string, names []string, origMsg, replyMsg string, origPair, replyPair uint32) error {
	special := false
	for k := 0; k < n; k++ {
		mode := byte('0')
		if k < len(legal) {
			mode = legal[k]
		}
		if given&(1<<k) == 0 {
			if mode == '1' {
				return paramErr("You need to supply the `--%s' option for this command", names[k])
			}
		} else if mode == '0' {
			return paramErr("Illegal option `--%s' with this command", names[k])
		}
		if mode == '3' {
			special = true
		}
	}
	if !special || origPair == 0 {
		return nil
	}
	if given&origPair == origPair || given&replyPair == replyPair {
		return nil
	}
	if given&origPair == 0 && given&replyPair != 0 {
		return paramErr("you have to specify %s", replyMsg)
	}
	return paramErr("you have to specify %s", origMsg)
}

// protoDef is one of conntrack-tools' protocol extensions: its options
// (merged into getopt's table after -p), their legality per command and
// its final check.
type protoDef struct {
	name string
	num  uint8
	help string // what -h -p NAME prints after the usage
	opts []protoOpt
	// legalRows gives, per Op, one character per option ('0'..'3');
	// missing rows are all '0', as the C arrays' zero tail.
	legalRows map[Op]string
	// origPair and replyPair are the option bits of the two tuples'
	// ports (or keys) for the '3' check, with its messages.
	origPair, replyPair uint32
	origMsg, replyMsg   string
}

type protoOpt struct {
	names []string // long names; the first is the one messages use
	kind  protoOptKind
}

type protoOptKind uint8

const (
	poOrigSport protoOptKind = iota
	poOrigDport
	poReplySport
	poReplyDport
	poState
	poICMPType
	poICMPCode
	poICMPID
	poUnsupported // an option conntrack-tools has and gofw refuses
)

func (d *protoDef) legal(op Op) string { return d.legalRows[op] }

func (d *protoDef) flagNames() []string {
	out := make([]string, len(d.opts))
	for i, o := range d.opts {
		out[i] = o.names[len(o.names)-1]
	}
	return out
}

// portOpts is the option table shared by the port-based extensions
// (libct_proto_tcp.c, _udp.c, _udplite.c, _sctp.c, _dccp.c).
func portOpts(extra ...protoOpt) []protoOpt {
	o := []protoOpt{
		{[]string{"orig-port-src", "sport"}, poOrigSport},
		{[]string{"orig-port-dst", "dport"}, poOrigDport},
		{[]string{"reply-port-src"}, poReplySport},
		{[]string{"reply-port-dst"}, poReplyDport},
		{[]string{"mask-port-src"}, poUnsupported},
		{[]string{"mask-port-dst"}, poUnsupported},
	}
	return append(o, extra...)
}

// Legality rows of the port-based extensions: sport, dport, reply ports,
// mask ports, then the extension's own options.
func portRows(create, get, state string) map[Op]string {
	return map[Op]string{
		OpList:   "222200" + state,
		OpCreate: "333300" + create,
		OpAdd:    "333300" + create,
		OpUpdate: "222200" + state,
		OpDelete: "222200" + state,
		OpGet:    "333300" + get,
		OpEvent:  "222200" + state,
	}
}

// portHelp is the help of the port-based extensions, typo included.
const portHelp = "  --orig-port-src\t\toriginal source port\n  --orig-port-dst\t\toriginal destination port\n  --reply-port-src\t\treply source port\n  --reply-port-dst\t\treply destination port\n  --mask-port-src\t\tmask source port\n  --mask-port-dst\t\tmask destination port\n  --tuple-port-src\t\texpectation tuple src port\n  --tuple-port-src\t\texpectation tuple dst port\n"

var (
	tcpProto = &protoDef{
		name: "tcp", num: ProtoTCP, help: portHelp + "  --state\t\t\tTCP state, fe. ESTABLISHED\n",
		opts:      portOpts(protoOpt{[]string{"state"}, poState}),
		legalRows: portRows("1", "2", "2"),
		origPair:  1<<0 | 1<<1, replyPair: 1<<2 | 1<<3,
		origMsg: "`--sport' and `--dport'", replyMsg: "`--reply-src-port' and `--reply-dst-port'",
	}
	udpProto = &protoDef{
		name: "udp", num: ProtoUDP, help: portHelp,
		opts:      portOpts(),
		legalRows: portRows("", "", ""),
		origPair:  1<<0 | 1<<1, replyPair: 1<<2 | 1<<3,
		origMsg: "`--sport' and `--dport'", replyMsg: "`--reply-src-port' and `--reply-dst-port'",
	}
	udpliteProto = &protoDef{
		name: "udplite", num: ProtoUDPLite, help: portHelp,
		opts: udpProto.opts, legalRows: udpProto.legalRows,
		origPair: udpProto.origPair, replyPair: udpProto.replyPair,
		origMsg: udpProto.origMsg, replyMsg: udpProto.replyMsg,
	}
	// SCTP and DCCP have state machines in the kernel that gofw does
	// not reproduce: their state options are refused by name.
	sctpProto = &protoDef{
		name: "sctp", num: ProtoSCTP,
		help: portHelp + "  --state\t\t\tSCTP state, fe. ESTABLISHED\n  --orig-vtag\t\toriginal verification tag\n  --reply-vtag\t\treply verification tag\n",
		opts: portOpts(protoOpt{[]string{"state"}, poUnsupported},
			protoOpt{[]string{"orig-vtag"}, poUnsupported}, protoOpt{[]string{"reply-vtag"}, poUnsupported}),
		legalRows: portRows("111", "222", "222"),
		origPair:  1<<0 | 1<<1, replyPair: 1<<2 | 1<<3,
		origMsg: "`--sport' and `--dport'", replyMsg: "`--reply-src-port' and `--reply-dst-port'",
	}
	dccpProto = &protoDef{
		name: "dccp", num: ProtoDCCP, help: portHelp + "  --state\t\t\tDCCP state, fe. RESPOND\n",
		opts:      portOpts(protoOpt{[]string{"state"}, poUnsupported}, protoOpt{[]string{"role"}, poUnsupported}),
		legalRows: portRows("11", "22", "22"),
		origPair:  1<<0 | 1<<1, replyPair: 1<<2 | 1<<3,
		origMsg: "`--sport' and `--dport'", replyMsg: "`--reply-src-port' and `--reply-dst-port'",
	}
	icmpProto = &protoDef{
		name: "icmp", num: ProtoICMP,
		help: "  --icmp-type\t\t\ticmp type\n  --icmp-code\t\t\ticmp code\n  --icmp-id\t\t\ticmp id\n",
		opts: []protoOpt{
			{[]string{"icmp-type"}, poICMPType},
			{[]string{"icmp-code"}, poICMPCode},
			{[]string{"icmp-id"}, poICMPID},
		},
		legalRows: map[Op]string{
			OpList: "222", OpCreate: "112", OpAdd: "112", OpUpdate: "222",
			OpDelete: "222", OpGet: "112", OpEvent: "222",
		},
	}
	icmpv6Proto = &protoDef{
		name: "icmpv6", num: ProtoICMPv6,
		help: "  --icmpv6-type\t\t\ticmpv6 type\n  --icmpv6-code\t\t\ticmpv6 code\n  --icmpv6-id\t\t\ticmpv6 id\n",
		opts: []protoOpt{
			{[]string{"icmpv6-type"}, poICMPType},
			{[]string{"icmpv6-code"}, poICMPCode},
			{[]string{"icmpv6-id"}, poICMPID},
		},
		legalRows: icmpProto.legalRows,
	}
	greProto = &protoDef{
		name: "gre", num: ProtoGRE,
		help: "  --orig-key-src\t\toriginal source key\n  --orig-key-dst\t\toriginal destination key\n" +
			"  --reply-key-src\t\treply source key\n  --reply-key-dst\t\treply destination key\n" +
			"  --mask-key-src\t\tmask source key\n  --mask-key-dst\t\tmask destination key\n" +
			"  --tuple-key-src\t\texpectation tuple src key\n  --tuple-key-src\t\texpectation tuple dst key\n",
		opts: []protoOpt{
			{[]string{"orig-key-src", "srckey"}, poOrigSport},
			{[]string{"orig-key-dst", "dstkey"}, poOrigDport},
			{[]string{"reply-key-src"}, poReplySport},
			{[]string{"reply-key-dst"}, poReplyDport},
			{[]string{"mask-key-src"}, poUnsupported},
			{[]string{"mask-key-dst"}, poUnsupported},
		},
		legalRows: map[Op]string{
			OpList: "222200", OpCreate: "333300", OpAdd: "333300", OpUpdate: "222200",
			OpDelete: "222200", OpGet: "333300", OpEvent: "222200",
		},
		origPair: 1<<0 | 1<<1, replyPair: 1<<2 | 1<<3,
		origMsg: "`--srckey' and `--dstkey'", replyMsg: "`--reply-src-key' and `--reply-dst-key'",
	}
	// unknownProto is ct_proto_unknown: any other protocol, no options.
	unknownProto = &protoDef{name: "unknown", help: "  no options (unsupported)\n"}
)

var protoDefs = []*protoDef{tcpProto, udpProto, udpliteProto, sctpProto, dccpProto, icmpProto, icmpv6Proto, greProto}

// findProto is conntrack-tools' findproto: a supported protocol's name
// (any case), a name from /etc/protocols, or a number up to 255 (strtoul
// base 0).
func findProto(name string) (uint8, *protoDef, bool) {
	for _, d := range protoDefs {
		if strings.EqualFold(d.name, name) {
			return d.num, d, true
		}
	}
	byNum := func(n uint8) *protoDef {
		for _, d := range protoDefs {
			if d.num == n {
				return d
			}
		}
		return unknownProto
	}
	if n, ok := protoByName(name); ok {
		// getprotobyname's answer goes to ct_proto_unknown: "-p
		// ipv6-icmp" knows no --icmpv6-type, as in conntrack-tools.
		return n, unknownProto, true
	}
	v, err := cStrtoul(name, 64)
	if err != nil || v > 255 || name == "" || name[0] == '+' || name[0] == '-' {
		return 0, nil, false
	}
	return uint8(v), byNum(uint8(v)), true
}

// protoByName is getprotobyname over /etc/protocols (names and aliases,
// case-sensitive, as glibc's files backend).
func protoByName(name string) (uint8, bool) {
	n, _, ok := lookupProtocols(func(names []string, _ uint8) bool {
		for _, a := range names {
			if a == name {
				return true
			}
		}
		return false
	})
	return n, ok
}

// protoNameByNum is getprotobynumber's name, or "" .
func protoNameByNum(num uint8) string {
	_, name, _ := lookupProtocols(func(_ []string, n uint8) bool { return n == num })
	return name
}

// lookupProtocols returns the first /etc/protocols line that match
// accepts: its number and its official name.
func lookupProtocols(match func(names []string, num uint8) bool) (uint8, string, bool) {
	f, err := os.Open("/etc/protocols")
	if err != nil {
		return 0, "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		n, err := strconv.ParseUint(fs[1], 10, 8)
		if err != nil {
			continue
		}
		names := append([]string{fs[0]}, fs[2:]...)
		if match(names, uint8(n)) {
			return uint8(n), fs[0], true
		}
	}
	return 0, "", false
}

// protoOption handles an option of the loaded protocol, as its
// parse_options.
func (p *parser) protoOption(k int, arg string) error {
	c := p.c
	d := c.proto
	o := d.opts[k]
	c.pflag |= 1 << k
	// Ports, keys and ICMP fields: conntrack-tools reads them with atoi
	// and takes garbage as 0; gofw refuses it, as later conntrack-tools
	// releases refuse bad ports.
	num := func(max uint64) (uint64, error) {
		v, err := parseUint(arg, max)
		if err != nil {
			return 0, failErr("unexpected value '%s' with --%s option", arg, o.names[len(o.names)-1])
		}
		return v, nil
	}
	switch o.kind {
	case poOrigSport, poOrigDport, poReplySport, poReplyDport:
		v, err := num(1<<16 - 1)
		if err != nil {
			return err
		}
		port := uint16(v)
		switch o.kind {
		case poOrigSport:
			c.OrigSport, c.Filter.OrigSport = &port, &port
		case poOrigDport:
			c.OrigDport, c.Filter.OrigDport = &port, &port
		case poReplySport:
			c.ReplySport, c.Filter.ReplySport = &port, &port
		case poReplyDport:
			c.ReplyDport, c.Filter.ReplyDport = &port, &port
		}
	case poState:
		s, ok := ParseTCPState(arg)
		switch {
		case arg == "LISTEN":
			// Since Linux 2.6.31 LISTEN is SYN_SENT2 (libct_proto_tcp.c).
			s = TCPSynSent2
		case !ok:
			return paramErr("unknown TCP state `%s'", arg)
		}
		c.Filter.State = &s
	case poICMPType, poICMPCode:
		v, err := num(255)
		if err != nil {
			return err
		}
		b := uint8(v)
		if o.kind == poICMPType {
			c.ICMPType, c.Filter.ICMPType = &b, &b
		} else {
			c.ICMPCode, c.Filter.ICMPCode = &b, &b
		}
	case poICMPID:
		v, err := num(1<<16 - 1)
		if err != nil {
			return err
		}
		id := uint16(v)
		c.ICMPID, c.Filter.ICMPID = &id, &id
	case poUnsupported:
		return paramErr("option `--%s' is not supported by gofw for %s", o.names[len(o.names)-1], d.name)
	}
	return nil
}

// Match reports whether e passes every filter of the command: Filter
// (less --state for -U, which sets it), plus the mark (conntrack-tools' mark_cmp: mark & mask == value), the
// status bits and the id.
func (c *Command) Match(e *Entry) bool {
	f := &c.Filter
	if c.Op == OpUpdate && f.State != nil {
		// -U --state sets the state: not a filter.
		g := *f
		g.State = nil
		f = &g
	}
	if !f.MatchEntry(e) {
		return false
	}
	if c.HasMark && c.Op != OpUpdate && e.Mark&c.MarkMask != c.Mark {
		return false
	}
	if c.HasStatus && c.Op != OpUpdate && (e.Status&c.Status != c.Status || e.Status&c.NotStatus != 0) {
		return false
	}
	if c.ID != nil && e.ID != *c.ID {
		return false
	}
	if c.SrcNAT || c.DstNAT || c.AnyNAT {
		return c.natMatch(e)
	}
	return true
}

// natMatch is conntrack-tools' filter_nat with libnetfilter_conntrack's
// NAT tests: an entry counts as source-NATed only once the source NAT
// decision was taken (SRC_NAT_DONE) and its reply destination address
// (or port) differs from the original source; likewise for destination
// NAT with DST_NAT_DONE. With an address, the reply destination (SNAT)
// or source (DNAT) must be that address. -n and -g together need both,
// -j either.
func (c *Command) natMatch(e *Entry) bool {
	o, r := &e.Orig, &e.Reply
	sDone := e.Status&StatusSrcNATDone != 0
	dDone := e.Status&StatusDstNATDone != 0
	snat, spat := sDone && o.Src != r.Dst, sDone && o.SrcPort != r.DstPort
	dnat, dpat := dDone && o.Dst != r.Src, dDone && o.DstPort != r.SrcPort
	hasS, hasD := snat || spat, dnat || dpat
	if c.NATAddr.IsValid() {
		hasS = snat && r.DstAddr() == c.NATAddr
		hasD = dnat && r.SrcAddr() == c.NATAddr
	}
	switch {
	case c.AnyNAT:
		return hasS || hasD
	case c.SrcNAT && c.DstNAT:
		return hasS && hasD
	case c.SrcNAT:
		return hasS
	}
	return hasD
}

// Summary returns the line conntrack-tools prints on stderr after a
// command that handled n entries, and the exit code: 1 when a command
// that changes or fetches entries found none (print_stats). ok is false
// for commands that print no summary.
func (c *Command) Summary(n int) (line string, code int, ok bool) {
	msg := ""
	switch c.Op {
	case OpList, OpGet:
		msg = "%d flow entries have been shown."
	case OpCreate:
		msg = "%d flow entries have been created."
	case OpUpdate:
		msg = "%d flow entries have been updated."
	case OpDelete:
		msg = "%d flow entries have been deleted."
	case OpAdd:
		msg = "%d flow entries have been added."
	case OpEvent:
		msg = "%d flow events have been shown."
	case OpExpList, OpExpDelete:
		msg = "%d expectations have been shown."
	case OpExpEvent:
		msg = "%d expectation events have been shown."
	case OpFlush:
		return MsgPrefix + "connection tracking table has been emptied.\n", 0, true
	case OpExpFlush:
		return MsgPrefix + "expectation table has been emptied.\n", 0, true
	default:
		return "", 0, false
	}
	if n == 0 && c.Op != OpList && c.Op != OpExpList && c.Op != OpEvent && c.Op != OpExpEvent {
		code = ExitFailure
	}
	return MsgPrefix + strings.Replace(msg, "%d", strconv.Itoa(n), 1) + "\n", code, true
}

// Print writes what conntrack-tools prints once a command has run: out
// (what Exec returned) on stdout, then on stderr the failure, or the
// summary line counting the entries of out (one per line; -I and -A made
// one). It returns the exit code. prog names the program in hints.
func (c *Command) Print(stdout, stderr io.Writer, prog string, out []byte, err *CmdError) int {
	stdout.Write(out)
	if err != nil {
		io.WriteString(stderr, err.Format(prog))
		return err.Code
	}
	n := strings.Count(string(out), "\n")
	if c.Op == OpCreate || c.Op == OpAdd {
		n = 1
	}
	line, code, _ := c.Summary(n)
	io.WriteString(stderr, line)
	return code
}

// Help returns what -h prints: the usage, and with -p the protocol's
// options (extension_help: an unsupported protocol is named as
// getprotobynumber names it).
func (c *Command) Help(prog string) string {
	u := Usage(prog)
	d := c.proto
	if d == nil {
		return u
	}
	name := d.name
	if d == unknownProto {
		if n := protoNameByNum(*c.Filter.Proto); n != "" {
			name = n
		}
	}
	return u + "Proto `" + name + "' help:\n" + d.help
}

// Version is what conntrack -V prints.
const Version = "conntrack v1.4.7 (conntrack-tools)\n"

// Usage returns conntrack-tools' usage text (what -h and a bare command
// print on stdout), with prog in the Usage line.
func Usage(prog string) string {
	return "Command line interface for the connection tracking system. Version 1.4.7\n" +
		"Usage: " + prog + " [commands] [options]\n" + usageBody
}

const usageBody = `
Commands:
  -L [table] [options]		List conntrack or expectation table
  -G [table] parameters		Get conntrack or expectation
  -D [table] parameters		Delete conntrack or expectation
  -I [table] parameters		Create a conntrack or expectation
  -U [table] parameters		Update a conntrack
  -E [table] [options]		Show events
  -F [table]			Flush table
  -C [table]			Show counter
  -S				Show statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip			source NAT ip
  -g, --dst-nat ip			destination NAT ip
  -j, --any-nat ip			source or destination NAT ip
  -m, --mark mark			Set mark
  -c, --secmark secmark			Set selinux secmark
  -e, --event-mask eventmask		Event mask, eg. NEW,DESTROY
  -z, --zero 				Zero counters while listing
  -o, --output type[,...]		Output format, eg. xml
  -l, --label label[,...]		conntrack labels

Expectation parameters and options:
  --tuple-src ip	Source address in expect tuple
  --tuple-dst ip	Destination address in expect tuple

Updating parameters and options:
  --label-add label	Add label
  --label-del label	Delete label

Common parameters and options:
  -s, --src, --orig-src ip		Source address from original direction
  -d, --dst, --orig-dst ip		Destination address from original direction
  -r, --reply-src ip		Source addres from reply direction
  -q, --reply-dst ip		Destination address from reply direction
  -p, --protonum proto		Layer 4 Protocol, eg. 'tcp'
  -f, --family proto		Layer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout		Set timeout
  -u, --status status		Set status, eg. ASSURED
  -w, --zone value		Set conntrack zone
  --orig-zone value		Set zone for original direction
  --reply-zone value		Set zone for reply direction
  -b, --buffer-size		Netlink socket buffer size
  --mask-src ip			Source mask address
  --mask-dst ip			Destination mask address

`
