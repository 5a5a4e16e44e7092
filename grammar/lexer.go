package grammar

import (
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// OptSpec is one long option an extension accepts: its name without the
// leading dashes and whether it takes a required argument.
type OptSpec struct {
	Name string
	Arg  bool
}

// Catalog tells the lexer which options each extension has. The lexer only
// needs arity: iptables' options are parsed by getopt_long over a table that
// grows as -m and -j load extensions, so "--comment --dport" gives --comment
// the argument "--dport" and an option is only known after its -m.
type Catalog interface {
	// Match returns the options of match NAME, or an error worded as
	// iptables words an unknown match.
	Match(name string) ([]OptSpec, error)
	// Target returns the options of target NAME and true when NAME is a
	// target extension; false means NAME is a standard verdict or a chain.
	Target(name string) ([]OptSpec, bool)
	// ProtoMatch returns the match iptables loads implicitly for "-p PROTO"
	// when an option is not known ("-p tcp --dport 22"), or "".
	ProtoMatch(proto string) string
}

// Token types produced by the argument lexer.
const (
	tokEOF lexer.TokenType = lexer.EOF - iota
	tokBang
	tokGen  // a generic iptables option, canonical short form ("-A")
	tokExt  // an extension option: "--name\x00owner"
	tokArg  // the required (or attached optional) argument of the option before
	tokWord // a non-option argument (chain name, rule number, extra value)
	tokLoad // -m NAME, -j NAME or an implicit match: "m\x00name", "j\x00name"

	// Only at the start of a restore-file line.
	tokStar     // "*table"
	tokColon    // ":chain"
	tokCommit   // "COMMIT"
	tokCounters // "[packets:bytes]": "packets\x00bytes"
)

// symbols returns the token names the grammars use. It is a function, not a
// package variable, because the parsers are built during package
// initialisation and reach it only through an interface, which Go's
// initialisation order does not see.
func symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF": tokEOF, "Bang": tokBang, "Gen": tokGen, "Ext": tokExt,
		"Arg": tokArg, "Word": tokWord, "Load": tokLoad,
		"Star": tokStar, "Colon": tokColon, "Commit": tokCommit, "Counters": tokCounters,
	}
}

type argKind uint8

const (
	noArg argKind = iota
	reqArg
	optArg
)

type genOpt struct {
	short byte
	long  string
	kind  argKind
}

// genOpts is iptables' own option table (original_opts and the optstring
// "-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvw::W::nt:m:xc:g:46").
var genOpts = []genOpt{
	{'A', "append", reqArg}, {'D', "delete", reqArg}, {'C', "check", reqArg},
	{'I', "insert", reqArg}, {'R', "replace", reqArg}, {'L', "list", optArg},
	{'S', "list-rules", optArg}, {'F', "flush", optArg}, {'Z', "zero", optArg},
	{'N', "new-chain", reqArg}, {'X', "delete-chain", optArg},
	{'E', "rename-chain", reqArg}, {'P', "policy", reqArg},
	{'s', "source", reqArg}, {'d', "destination", reqArg},
	{'s', "src", reqArg}, {'d', "dst", reqArg},
	{'p', "protocol", reqArg}, {'i', "in-interface", reqArg},
	{'j', "jump", reqArg}, {'t', "table", reqArg}, {'m', "match", reqArg},
	{'n', "numeric", noArg}, {'o', "out-interface", reqArg},
	{'v', "verbose", noArg}, {'w', "wait", optArg},
	{'W', "wait-interval", optArg}, {'x', "exact", noArg},
	{'f', "fragment", noArg}, {'V', "version", noArg}, {'h', "help", optArg},
	{'0', "line-numbers", noArg}, {'M', "modprobe", reqArg},
	{'c', "set-counters", reqArg}, {'g', "goto", reqArg},
	{'4', "ipv4", noArg}, {'6', "ipv6", noArg},
}

func shortOpt(c byte) (genOpt, bool) {
	if c == '0' { // --line-numbers has no short form
		return genOpt{}, false
	}
	for _, o := range genOpts {
		if o.short == c {
			return o, true
		}
	}
	return genOpt{}, false
}

// GenName returns the canonical token text of a generic option: "-X" for
// those with a short form, "--line-numbers" for the one without.
func (o genOpt) name() string {
	if o.short == '0' {
		return "--line-numbers"
	}
	return "-" + string(o.short)
}

// longEntry is one row of the merged getopt_long table.
type longEntry struct {
	name  string
	kind  argKind
	gen   *genOpt
	owner int // extension ordinal for extension options
}

// argLexer turns argv into tokens with getopt_long's in-order semantics.
type argLexer struct {
	cat         Catalog
	words       []string
	line        int
	toks        []lexer.Token
	exts        [][]OptSpec // loaded extensions, by ordinal
	proto       string      // last -p value, for implicit protocol matches
	protoLoaded bool
}

func (l *argLexer) emit(typ lexer.TokenType, val string, arg int) {
	l.toks = append(l.toks, lexer.Token{Type: typ, Value: val,
		Pos: lexer.Position{Line: l.line, Column: arg + 1, Offset: arg}})
}

// genTable is the generic part of the merged long-option table.
var genTable = func() []longEntry {
	t := make([]longEntry, len(genOpts))
	for i := range genOpts {
		t[i] = longEntry{name: genOpts[i].long, kind: genOpts[i].kind, gen: &genOpts[i]}
	}
	return t
}()

// each calls f on the merged long-option table in order, until f returns
// false: generic options first, then the extensions newest first, which is
// the precedence iptables shows when two loaded extensions share an option
// name (-m mark --mark 1 -m connmark --mark 2 gives each its own). It walks
// the tables in place: a restore looks up several options on each of its
// lines.
func (l *argLexer) each(f func(e longEntry) bool) {
	for _, e := range genTable {
		if !f(e) {
			return
		}
	}
	for o := len(l.exts) - 1; o >= 0; o-- {
		for _, s := range l.exts[o] {
			k := noArg
			if s.Arg {
				k = reqArg
			}
			if !f(longEntry{name: s.Name, kind: k, owner: o}) {
				return
			}
		}
	}
}

// lookupLong resolves a long option name as glibc's getopt_long does: an
// exact match wins, else a unique prefix (entries that agree on everything
// count once), else the option is unknown.
func (l *argLexer) lookupLong(name string) (longEntry, bool) {
	var exact longEntry
	ok := false
	l.each(func(e longEntry) bool {
		if e.name == name {
			exact, ok = e, true
			return false
		}
		return true
	})
	if ok {
		return exact, true
	}
	var found longEntry
	ambiguous := false
	l.each(func(e longEntry) bool {
		if !strings.HasPrefix(e.name, name) {
			return true
		}
		if !ok {
			found, ok = e, true
			return true
		}
		same := found.kind == e.kind && found.gen != nil && e.gen != nil && found.gen.short == e.gen.short
		ambiguous = !same
		return same
	})
	if !ok || ambiguous {
		return longEntry{}, false
	}
	return found, true
}

func (l *argLexer) load(kind byte, name string, arg int) error {
	switch kind {
	case 'm':
		opts, err := l.cat.Match(name)
		if err != nil {
			if e, ok := err.(*Error); ok {
				return e.AtArg(arg + 1)
			}
			return err
		}
		l.exts = append(l.exts, opts)
		if name == l.cat.ProtoMatch(l.proto) {
			l.protoLoaded = true
		}
	case 'j':
		opts, ok := l.cat.Target(name)
		if !ok {
			opts = nil
		}
		l.exts = append(l.exts, opts)
	}
	l.emit(tokLoad, string(kind)+"\x00"+name, arg)
	return nil
}

func (l *argLexer) genOption(o genOpt, val string, hasVal bool, i *int, written string) error {
	arg := *i
	switch o.kind {
	case reqArg:
		if !hasVal {
			if *i+1 >= len(l.words) {
				return &Error{Code: ExitParameter, Msg: "option \"" + written + "\" requires an argument", Arg: arg + 1}
			}
			*i++
			val, hasVal = l.words[*i], true
		}
	case noArg:
		if hasVal {
			return &Error{Code: ExitParameter, Msg: "unknown option \"" + written + "\"", Arg: arg + 1}
		}
	}
	switch o.short {
	case 'm', 'j':
		return l.load(o.short, val, arg)
	case 'p':
		l.proto = val
		l.protoLoaded = false
	}
	l.emit(tokGen, o.name(), arg)
	if hasVal {
		l.emit(tokArg, val, *i)
	}
	return nil
}

func (l *argLexer) run() error {
	for i := 0; i < len(l.words); i++ {
		w := l.words[i]
		switch {
		case w == "!":
			l.emit(tokBang, w, i)
		case len(w) < 2 || w[0] != '-':
			l.emit(tokWord, w, i)
		case w == "--": // end of options, as getopt
			for i++; i < len(l.words); i++ {
				l.emit(tokWord, l.words[i], i)
			}
		case strings.HasPrefix(w, "--"):
			name, val, hasVal := strings.Cut(w[2:], "=")
			e, ok := l.lookupLong(name)
			if !ok {
				if pm := l.cat.ProtoMatch(l.proto); pm != "" && !l.protoLoaded {
					// iptables loads the protocol's match on demand and
					// reparses the option (command_default's load_proto).
					opts, err := l.cat.Match(pm)
					if err == nil {
						l.exts = append(l.exts, opts)
						l.protoLoaded = true
						// A "!" already read negates the option, not the
						// load: iptables keeps its invert flag across the
						// reparse ("-p tcp ! --syn").
						var bang []lexer.Token
						if n := len(l.toks); n > 0 && l.toks[n-1].Type == tokBang {
							bang, l.toks = append(bang, l.toks[n-1]), l.toks[:n-1]
						}
						l.emit(tokLoad, "m\x00"+pm, i)
						l.toks = append(l.toks, bang...)
						i--
						continue
					}
				}
				return &Error{Code: ExitParameter, Msg: "unknown option \"" + w + "\"", Arg: i + 1}
			}
			if e.gen != nil {
				if err := l.genOption(*e.gen, val, hasVal, &i, w); err != nil {
					return err
				}
				continue
			}
			at := i
			if e.kind == noArg && hasVal {
				return &Error{Code: ExitParameter, Msg: "unknown option \"" + w + "\"", Arg: i + 1}
			}
			if e.kind == reqArg && !hasVal {
				if i+1 >= len(l.words) {
					return &Error{Code: ExitParameter, Msg: "option \"" + w + "\" requires an argument", Arg: i + 1}
				}
				i++
				val, hasVal = l.words[i], true
			}
			l.emit(tokExt, "--"+e.name+"\x00"+strconv.Itoa(e.owner), at)
			if hasVal {
				l.emit(tokArg, val, i)
			}
		default:
			// A cluster of short options: "-nvL", "-ptcp", "-Lchain".
			at := i
			for k := 1; k < len(w); k++ {
				o, ok := shortOpt(w[k])
				if !ok {
					return &Error{Code: ExitParameter, Msg: "unknown option \"-" + string(w[k]) + "\"", Arg: at + 1}
				}
				rest := w[k+1:]
				if o.kind == noArg {
					if err := l.genOption(o, "", false, &i, "-"+string(w[k])); err != nil {
						return err
					}
					continue
				}
				if err := l.genOption(o, rest, rest != "", &i, "-"+string(w[k])); err != nil {
					return err
				}
				break
			}
		}
	}
	l.emit(tokEOF, "", len(l.words))
	return nil
}

// tokens is a lexer.Lexer over a pre-built token list.
type tokens struct {
	toks []lexer.Token
	i    int
}

func (t *tokens) Next() (lexer.Token, error) {
	if t.i >= len(t.toks) {
		return t.toks[len(t.toks)-1], nil
	}
	t.i++
	return t.toks[t.i-1], nil
}
