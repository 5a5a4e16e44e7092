package ruleset

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/target"
)

// Op is an iptables command. The values are iptables' CMD_* bits so that
// combinations (-L -Z) can be checked as iptables checks them.
type Op uint16

// The commands, in the order of iptables' cmdflags "IDDRALFZNXPESZC".
const (
	OpInsert Op = 1 << iota
	OpDelete
	OpDeleteNum
	OpReplace
	OpAppend
	OpList
	OpFlush
	OpZero
	OpNewChain
	OpDeleteChain
	OpSetPolicy
	OpRename
	OpListRules
	OpZeroNum
	OpCheck
)

const opChars = "IDDRALFZNXPESZC"

func (o Op) char() byte {
	for i := 0; i < len(opChars); i++ {
		if o&(1<<i) != 0 {
			return opChars[i]
		}
	}
	return '?'
}

// opIDRAC are the commands that carry a rule specification.
const opIDRAC = OpInsert | OpDelete | OpReplace | OpAppend | OpCheck

// Options for the legality check (iptables' OPT_*), as indexes; the bit of
// option i is 1<<i.
const (
	optNumeric = iota
	optSource
	optDest
	optProto
	optJump
	optVerbose
	optExact
	optIn
	optOut
	optLineNumbers
	optCounters
	optFrag
)

var optChars = []byte{'n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0', 'c', 'f'}

// optCommands lists, per option, the commands it may be used with
// (iptables' options_v_commands).
var optCommands = []Op{
	optNumeric:     OpList,
	optSource:      opIDRAC,
	optDest:        opIDRAC,
	optProto:       opIDRAC,
	optJump:        opIDRAC,
	optVerbose:     0xffff,
	optExact:       OpList,
	optIn:          opIDRAC,
	optOut:         opIDRAC,
	optLineNumbers: OpList,
	optCounters:    OpInsert | OpReplace | OpAppend | OpSetPolicy,
	optFrag:        opIDRAC,
}

// Command is one parsed iptables command line.
type Command struct {
	Op      Op
	Table   string
	Chain   string
	Num     int    // rule number, 0 for none
	NewName string // -E
	Policy  string // -P
	// Rules are the rules of -A/-I/-D/-R/-C: more than one when -s or -d
	// list several addresses (iptables adds the cross product).
	Rules   []*Rule
	Format  Format
	Verbose int
	// Counters from -c, for the rules or the policy.
	Counters           bool
	Packets, ByteCount uint64
	Version, Help      bool
	HelpArg            string
	// Warnings are iptables' warnings about the command (for stderr): it
	// still runs.
	Warnings []string
}

// catalog answers the grammar's questions from the extension registries.
type catalog struct{}

var specCache sync.Map

func (catalog) Match(name string) ([]grammar.OptSpec, error) {
	i, ok := match.Lookup(name)
	if !ok {
		return nil, grammar.ParamNLf("Couldn't load match `%s':No such file or directory", name)
	}
	if s, ok := specCache.Load("m" + name); ok {
		return s.([]grammar.OptSpec), nil
	}
	s := i.Specs()
	specCache.Store("m"+name, s)
	return s, nil
}

func (catalog) Target(name string) ([]grammar.OptSpec, bool) {
	i, ok := target.Lookup(name)
	if !ok {
		return nil, false
	}
	if s, ok := specCache.Load("t" + name); ok {
		return s.([]grammar.OptSpec), true
	}
	s := i.Specs()
	specCache.Store("t"+name, s)
	return s, true
}

func (catalog) ProtoMatch(proto string) string {
	n := match.ProtoMatchName(proto)
	if _, ok := match.Lookup(n); ok {
		return n
	}
	return ""
}

// Catalog is the grammar.Catalog of gofw's extensions.
var Catalog grammar.Catalog = catalog{}

// ext is an extension instance while a command line is being read.
type ext struct {
	opts   []match.Opt
	name   string
	parse  func(*match.Arg) error
	seen   []string // canonical options given, to refuse repeats
	isTgt  bool
	target *target.Info
}

type addrMask struct{ a, m netip.Addr }

// builder collects one command line.
type builder struct {
	cmd      *Command
	rule     *Rule
	options  int
	srcs     []addrMask
	dsts     []addrMask
	jumpSet  bool
	exts     []*ext
	tableSet bool
	restore  bool
}

// ParseCommand reads one iptables command line. restore is set for a line of
// a restore file, where -t is refused; line is its line number (0 for argv).
func ParseCommand(words []string, restore bool, line int) (*Command, error) {
	l, err := grammar.ParseArgs(words, Catalog, line)
	if err != nil {
		return nil, err
	}
	return FromAST(l, restore, line)
}

// FromAST interprets a parsed command line.
func FromAST(l *grammar.Line, restore bool, line int) (cmd *Command, err error) {
	b := &builder{cmd: &Command{Table: "filter"}, rule: newRule(), restore: restore}
	defer func() {
		if e, ok := err.(*grammar.Error); ok && e.Line == 0 {
			e.Line = line
		}
	}()
	if len(l.Lead) > 0 {
		return nil, badArg(l.Lead[0])
	}
	for _, e := range l.Elems {
		if e.Load != nil {
			if err := b.load(e.Load); err != nil {
				return nil, err
			}
			for _, o := range e.Load.Opts {
				if err := b.option(o); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := b.option(e.Opt); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

func badArg(w *grammar.Word) error {
	return &grammar.Error{Code: grammar.ExitParameter, Msg: "Bad argument `" + w.Text + "'", Arg: w.Pos.Offset + 1, Bare: true}
}

func (b *builder) load(l *grammar.Load) error {
	at := l.Pos.Offset + 1
	if !l.Ref.Target {
		if l.Neg {
			return grammar.Paramf("unexpected ! flag before --match").AtArg(at)
		}
		info, _ := match.Lookup(l.Ref.Name)
		m := info.New()
		b.rule.Matches = append(b.rule.Matches, MatchRef{Info: info, M: m})
		b.exts = append(b.exts, &ext{opts: info.Opts, name: info.Name, parse: m.Parse})
		return nil
	}
	if l.Neg {
		return grammar.Paramf("cannot have ! before -j").AtArg(at)
	}
	if b.jumpSet {
		return grammar.Paramf("multiple -j flags not allowed").AtArg(at)
	}
	b.jumpSet = true
	b.options |= 1 << optJump
	name := l.Ref.Name
	if err := checkTargetName(name); err != nil {
		return err.AtArg(at)
	}
	x := &ext{name: name, isTgt: true}
	b.exts = append(b.exts, x)
	if k, ok := standardTargets[name]; ok {
		b.rule.Kind = k
		return nil
	}
	if info, ok := target.Lookup(name); ok {
		t := info.New()
		b.rule.Kind, b.rule.TargetInfo, b.rule.Target = KindExt, info, t
		x.opts, x.parse, x.target = info.Opts, t.Parse, info
		return nil
	}
	// Not a target we know: a chain, checked against the table later.
	b.rule.Kind, b.rule.Chain = KindJump, name
	return nil
}

// checkTargetName applies xt_parse_target's checks.
func checkTargetName(name string) *grammar.Error {
	if name == "" {
		return grammar.Paramf("Invalid target name (too short)")
	}
	if len(name) >= maxNameLen {
		return grammar.Paramf("Invalid target name `%s' (%d chars max)", name, maxNameLen-1)
	}
	if strings.ContainsAny(name, " \t\n\v\f\r") {
		return grammar.Paramf("Invalid target name `%s'", name)
	}
	return nil
}

// maxNameLen is XT_EXTENSION_MAXNAMELEN: names must be shorter.
const maxNameLen = 29

func (b *builder) setOpt(opt int, o *grammar.Opt) error {
	if b.options&(1<<opt) != 0 {
		return grammar.Paramf("multiple -%c flags not allowed", optChars[opt]).AtArg(o.ArgIndex())
	}
	b.options |= 1 << opt
	return nil
}

func (b *builder) addCommand(op, others Op, o *grammar.Opt) error {
	if o.Neg {
		return grammar.Paramf("unexpected '!' flag").AtArg(o.ArgIndex())
	}
	if b.cmd.Op&^others != 0 {
		return grammar.ParamNLf("Cannot use -%c with -%c", op.char(), (b.cmd.Op &^ others).char()).AtArg(o.ArgIndex())
	}
	b.cmd.Op |= op
	return nil
}

// words returns the option's argument and extra words, and checks that no
// more than max words are there.
func words(o *grammar.Opt, max int) ([]string, error) {
	var w []string
	if o.Arg != nil {
		w = append(w, *o.Arg)
	}
	for i, x := range o.Extra {
		if len(w) >= max {
			return nil, badArg(o.Extra[i])
		}
		w = append(w, x.Text)
	}
	return w, nil
}

func ruleNumber(s string, at int) (int, error) {
	v, ok := match.ParseUint(s, 1, 1<<31-1)
	if !ok {
		return 0, grammar.Paramf("Invalid rule number `%s'", s).AtArg(at)
	}
	return int(v), nil
}

func (b *builder) option(o *grammar.Opt) error {
	if !o.Generic() {
		return b.extOption(o)
	}
	at := o.ArgIndex()
	c := b.cmd
	name := o.Name.Name
	switch name {
	case "-A", "-C", "-I", "-R", "-D":
		op := map[string]Op{"-A": OpAppend, "-C": OpCheck, "-I": OpInsert, "-R": OpReplace, "-D": OpDelete}[name]
		if err := b.addCommand(op, 0, o); err != nil {
			return err
		}
		max := 1
		if op == OpInsert || op == OpReplace || op == OpDelete {
			max = 2
		}
		w, err := words(o, max)
		if err != nil {
			return err
		}
		c.Chain = w[0]
		if len(w) > 1 {
			if c.Num, err = ruleNumber(w[1], o.Extra[0].Pos.Offset+1); err != nil {
				return err
			}
			if op == OpDelete {
				c.Op = c.Op&^OpDelete | OpDeleteNum
			}
		} else if op == OpReplace {
			return grammar.Paramf("-R requires a rule number").AtArg(at)
		} else if op == OpInsert {
			c.Num = 1
		}
	case "-L", "-S", "-Z":
		op, others := OpList, OpZero|OpZeroNum
		switch name {
		case "-S":
			op, others = OpListRules, OpZero|OpZeroNum
		case "-Z":
			op, others = OpZero, OpList|OpListRules
		}
		if err := b.addCommand(op, others, o); err != nil {
			return err
		}
		w, err := words(o, 2)
		if err != nil {
			return err
		}
		if len(w) > 0 {
			c.Chain = w[0]
		}
		if len(w) > 1 {
			n := o.Extra[len(o.Extra)-1]
			if c.Num, err = ruleNumber(w[1], n.Pos.Offset+1); err != nil {
				return err
			}
			if op == OpZero {
				c.Op = c.Op&^OpZero | OpZeroNum
			}
		}
	case "-F", "-X":
		op := OpFlush
		if name == "-X" {
			op = OpDeleteChain
		}
		if err := b.addCommand(op, 0, o); err != nil {
			return err
		}
		w, err := words(o, 1)
		if err != nil {
			return err
		}
		if len(w) > 0 {
			c.Chain = w[0]
		}
	case "-N":
		if err := b.addCommand(OpNewChain, 0, o); err != nil {
			return err
		}
		w, err := words(o, 1)
		if err != nil {
			return err
		}
		if err := checkChainName(w[0]); err != nil {
			return err.AtArg(at)
		}
		c.Chain = w[0]
	case "-E":
		if err := b.addCommand(OpRename, 0, o); err != nil {
			return err
		}
		w, err := words(o, 2)
		if err != nil {
			return err
		}
		if len(w) < 2 {
			return grammar.Paramf("-E requires old-chain-name and new-chain-name").AtArg(at)
		}
		if err := checkChainName(w[1]); err != nil {
			return err.AtArg(at + 2)
		}
		c.Chain, c.NewName = w[0], w[1]
	case "-P":
		if err := b.addCommand(OpSetPolicy, 0, o); err != nil {
			return err
		}
		w, err := words(o, 2)
		if err != nil {
			return err
		}
		if len(w) < 2 {
			return grammar.Paramf("-P requires a chain and a policy").AtArg(at)
		}
		c.Chain, c.Policy = w[0], w[1]
	case "-t":
		if o.Neg {
			return grammar.Paramf("unexpected ! flag before --table").AtArg(at)
		}
		if b.restore {
			return grammar.ParamNLf("The -t option cannot be used in gofw-restore.").AtArg(at)
		}
		if _, err := words(o, 1); err != nil {
			return err
		}
		c.Table = *o.Arg
		b.tableSet = true
	case "-p":
		if err := b.generic(optProto, InvProto, o); err != nil {
			return err
		}
		if _, err := words(o, 1); err != nil {
			return err
		}
		p, err := match.ParseProto(strings.ToLower(*o.Arg))
		if err != nil {
			return err.(*grammar.Error).AtArg(at)
		}
		b.rule.Proto = p
	case "-s", "-d":
		bit, inv := optSource, InvSrc
		if name == "-d" {
			bit, inv = optDest, InvDst
		}
		if err := b.generic(bit, inv, o); err != nil {
			return err
		}
		if _, err := words(o, 1); err != nil {
			return err
		}
		list := make([]addrMask, 0, strings.Count(*o.Arg, ",")+1)
		for s := range strings.SplitSeq(*o.Arg, ",") {
			a, m, err := match.ParseAddrMask(s)
			if err != nil {
				return err.(*grammar.Error).AtArg(at)
			}
			list = append(list, addrMask{a, m})
		}
		if name == "-s" {
			b.srcs = list
		} else {
			b.dsts = list
		}
	case "-i", "-o":
		bit, inv := optIn, InvIn
		if name == "-o" {
			bit, inv = optOut, InvOut
		}
		if err := b.generic(bit, inv, o); err != nil {
			return err
		}
		if _, err := words(o, 1); err != nil {
			return err
		}
		ifc := *o.Arg
		if len(ifc) >= 16 {
			return grammar.Paramf("interface name `%s' must be shorter than IFNAMSIZ (15)", ifc).AtArg(at)
		}
		if strings.ContainsAny(ifc, "/ ") {
			// xtables_parse_interface: the kernel never names a device so,
			// but iptables takes the name.
			b.cmd.Warnings = append(b.cmd.Warnings, fmt.Sprintf("Warning: weird character in interface `%s' ('/' and ' ' are not allowed by the kernel).", ifc))
		}
		// "-i +" is any interface; "! -i +" is kept, as it matches none.
		if ifc == "+" && !o.Neg {
			ifc = ""
		}
		if name == "-i" {
			b.rule.InIface = ifc
		} else {
			b.rule.OutIface = ifc
		}
	case "-f":
		if err := b.generic(optFrag, InvFrag, o); err != nil {
			return err
		}
		if _, err := words(o, 0); err != nil {
			return err
		}
		b.rule.Frag = true
	case "-g":
		if o.Neg {
			return grammar.Paramf("cannot have ! before -g").AtArg(at)
		}
		if b.jumpSet {
			return grammar.Paramf("multiple -j flags not allowed").AtArg(at)
		}
		if _, err := words(o, 1); err != nil {
			return err
		}
		if err := checkTargetName(*o.Arg); err != nil {
			return err.AtArg(at)
		}
		b.jumpSet = true
		b.options |= 1 << optJump
		b.exts = append(b.exts, &ext{name: *o.Arg, isTgt: true})
		b.rule.Kind, b.rule.Chain = KindGoto, *o.Arg
	case "-n", "-x", "--line-numbers":
		bit := map[string]int{"-n": optNumeric, "-x": optExact, "--line-numbers": optLineNumbers}[name]
		if o.Neg {
			return grammar.Paramf("cannot have ! before %s", name).AtArg(at)
		}
		if _, err := words(o, 0); err != nil {
			return err
		}
		b.options |= 1 << bit
		switch name {
		case "-n":
			c.Format.Numeric = true
		case "-x":
			c.Format.Exact = true
		default:
			c.Format.LineNumbers = true
		}
	case "-v":
		if _, err := words(o, 0); err != nil {
			return err
		}
		b.options |= 1 << optVerbose
		c.Verbose++
		c.Format.Verbose = true
	case "-w":
		// Accepted because kube-proxy and Docker pass it; gofwd
		// serialises changes itself, so there is no lock to wait for.
		w, err := words(o, 1)
		if err != nil {
			return err
		}
		if len(w) == 1 {
			if _, ok := match.ParseUint(w[0], 0, 1<<31-1); !ok {
				return grammar.Paramf("wait seconds not numeric").AtArg(at)
			}
		}
	case "-W":
		w, err := words(o, 1)
		if err != nil {
			return err
		}
		if len(w) == 0 {
			return grammar.Paramf("wait interval value required").AtArg(at)
		}
		if v, ok := match.ParseUint(w[0], 0, 1<<32-1); !ok {
			return grammar.Paramf("wait interval not numeric").AtArg(at)
		} else if v > 999999 {
			return grammar.Paramf("too long usec wait %d > 999999 usec", v).AtArg(at)
		}
	case "-c":
		if err := b.generic(optCounters, 0, o); err != nil {
			return err
		}
		w, err := words(o, 2)
		if err != nil {
			return err
		}
		// As iptables: "-c P B" or "-c P,B", the comma searched from the
		// second character on.
		pk, by, haveBy := w[0], "", false
		if len(pk) > 1 {
			if i := strings.IndexByte(pk[1:], ','); i >= 0 {
				by, haveBy = pk[i+2:], true
			}
		}
		if !haveBy && len(w) > 1 {
			by, haveBy = w[1], true
		} else if haveBy && len(w) > 1 {
			return badArg(o.Extra[len(o.Extra)-1])
		}
		if !haveBy {
			return grammar.Paramf("-c requires packet and byte counter").AtArg(at)
		}
		pv, ok := scanCounter(pk)
		if !ok {
			return grammar.Paramf("-c packet counter not numeric").AtArg(at)
		}
		bv, ok := scanCounter(by)
		if !ok {
			return grammar.Paramf("-c byte counter not numeric").AtArg(at)
		}
		c.Counters, c.Packets, c.ByteCount = true, pv, bv
	case "-V":
		if _, err := words(o, 0); err != nil {
			return err
		}
		c.Version = true
	case "-h":
		w, err := words(o, 1)
		if err != nil {
			return err
		}
		c.Help = true
		if len(w) > 0 {
			c.HelpArg = w[0]
		}
	case "-M":
		// The module loader: gofw has no kernel modules to load.
		if _, err := words(o, 1); err != nil {
			return err
		}
	case "-4":
		if _, err := words(o, 0); err != nil {
			return err
		}
	case "-6":
		return grammar.Paramf("-6: this is the IPv4 version of gofw").AtArg(at)
	default:
		return grammar.Paramf("unknown option \"%s\"", name).AtArg(at)
	}
	return nil
}

// scanCounter reads a counter as sscanf("%llu") does: the leading digits.
func scanCounter(s string) (uint64, bool) {
	s = strings.TrimLeft(s, " \t")
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(s[:n], 10, 64)
	return v, err == nil
}

func (b *builder) generic(bit int, inv uint8, o *grammar.Opt) error {
	if err := b.setOpt(bit, o); err != nil {
		return err
	}
	if o.Neg {
		b.rule.Inv |= inv
	}
	return nil
}

func (b *builder) extOption(o *grammar.Opt) error {
	at := o.ArgIndex()
	x := b.exts[o.Name.Owner]
	long := strings.TrimPrefix(o.Name.Name, "--")
	canon, err := match.Resolve(x.opts, x.name, long, o.Neg)
	if err != nil {
		return err.(*grammar.Error).AtArg(at)
	}
	var spec match.Opt
	for _, s := range x.opts {
		if s.Name == long {
			spec = s
		}
	}
	if slices.Contains(x.seen, canon) && !spec.Multi {
		return grammar.Paramf("%s: option \"--%s\" can only be used once.", x.name, long).AtArg(at)
	}
	x.seen = append(x.seen, canon)
	a := &match.Arg{Name: canon, Inv: o.Neg, Index: at, Proto: b.rule.Proto, InvProto: b.rule.Inv&InvProto != 0}
	if o.Arg != nil {
		a.Value = *o.Arg
	}
	for i, w := range o.Extra {
		if i >= spec.Extra {
			return badArg(w)
		}
		a.Extra = append(a.Extra, w.Text)
	}
	if err := x.parse(a); err != nil {
		if e, ok := err.(*grammar.Error); ok {
			return e.AtArg(at)
		}
		return err
	}
	return nil
}

// checkChainName applies the checks iptables makes on a new chain name
// (assert_valid_chain_name).
func checkChainName(name string) *grammar.Error {
	if len(name) >= maxNameLen {
		return grammar.Paramf("chain name `%s' too long (must be under %d chars)", name, maxNameLen)
	}
	if name != "" && (name[0] == '-' || name[0] == '!') {
		return grammar.ParamNLf("chain name not allowed to start with `%c'", name[0])
	}
	if _, ok := standardTargets[name]; ok {
		return grammar.ParamNLf("chain name may not clash with target name")
	}
	if _, ok := target.Lookup(name); ok {
		return grammar.ParamNLf("chain name may not clash with target name")
	}
	if strings.ContainsAny(name, " \t\n\v\f\r") {
		return grammar.Paramf("Invalid chain name `%s'", name)
	}
	return nil
}

func (b *builder) finish() (*Command, error) {
	c, r := b.cmd, b.rule
	if c.Table == "nat" && (c.Policy == "DROP" || r.Kind == KindDrop) {
		return nil, grammar.Paramf("The \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.")
	}
	info := &match.Rule{Proto: r.Proto, InvProto: r.Inv&InvProto != 0, Table: c.Table}
	for _, m := range r.Matches {
		if err := m.M.Final(info); err != nil {
			return nil, err
		}
	}
	if r.Kind == KindExt {
		if err := r.Target.Final(info); err != nil {
			return nil, err
		}
	}
	if c.Version || c.Help {
		return c, nil
	}
	if c.Op == 0 {
		return nil, grammar.Paramf("no command specified")
	}
	if r.Proto == 0 && r.Inv&InvProto != 0 {
		return nil, grammar.Paramf("rule would never match protocol")
	}
	for i, bit := 0, 1; i < len(optChars); i, bit = i+1, bit<<1 {
		if b.options&bit != 0 && optCommands[i]&c.Op == 0 {
			if optChars[i] == '0' {
				return nil, grammar.Paramf("Illegal option `--line-numbers' with this command")
			}
			return nil, grammar.Paramf("Illegal option `-%c' with this command", optChars[i])
		}
	}
	if len(c.Chain) >= maxNameLen {
		return nil, grammar.Paramf("chain name `%s' too long (must be under %d chars)", c.Chain, maxNameLen)
	}
	if c.Op&(opIDRAC|OpDeleteNum) != 0 && c.Op&OpDeleteNum == 0 {
		switch c.Chain {
		case "PREROUTING", "INPUT":
			if b.options&(1<<optOut) != 0 {
				return nil, grammar.ParamNLf("Can't use -o with %s", c.Chain)
			}
		case "POSTROUTING", "OUTPUT":
			if b.options&(1<<optIn) != 0 {
				return nil, grammar.ParamNLf("Can't use -i with %s", c.Chain)
			}
		}
		if len(b.srcs) > 1 || len(b.dsts) > 1 {
			if r.Inv&(InvSrc|InvDst) != 0 {
				return nil, grammar.Paramf("! not allowed with multiple source or destination IP addresses")
			}
			if c.Op == OpReplace {
				return nil, grammar.Paramf("Replacement rule does not specify a unique address")
			}
		}
		c.Rules = expand(r, b.srcs, b.dsts)
		if c.Counters {
			for _, x := range c.Rules {
				x.Counters.Set(c.Packets, c.ByteCount)
			}
		}
	}
	return c, nil
}

// expand makes one rule per source × destination address, as iptables does
// for "-s a,b -d c,d".
func expand(r *Rule, srcs, dsts []addrMask) []*Rule {
	any := []addrMask{{r.Src, r.SrcMask}}
	if len(srcs) == 0 {
		srcs = any
	}
	if len(dsts) == 0 {
		dsts = []addrMask{{r.Dst, r.DstMask}}
	}
	if len(srcs) == 1 && len(dsts) == 1 {
		r.Src, r.SrcMask, r.Dst, r.DstMask = srcs[0].a, srcs[0].m, dsts[0].a, dsts[0].m
		return []*Rule{r}
	}
	var out []*Rule
	for _, s := range srcs {
		for _, d := range dsts {
			x := *r
			x.Src, x.SrcMask, x.Dst, x.DstMask = s.a, s.m, d.a, d.m
			x.Counters = &Counters{}
			out = append(out, &x)
		}
	}
	return out
}

// errNoTable is iptables' failure to initialise an unknown table (exit 3).
func errNoTable(name string) error {
	return &grammar.Error{Code: grammar.ExitVersion,
		Msg: fmt.Sprintf("can't initialize iptables table `%s': Table does not exist (gofw knows filter, nat, mangle and raw)", name)}
}
