// Package grammar holds gofw's participle grammars: one for an iptables
// command line (the arguments after the program name) and one for a line of
// an iptables-restore file, which shares the rule-spec part.
//
// iptables' options are positional: an extension's options are only known
// after the -m or -j that loads it, and an option that takes an argument
// swallows the next word whatever it looks like. So the lexer is getopt_long
// with a table that grows as extensions load (see Catalog), and the grammar
// then gives the token stream its structure: loads with the options that
// follow them, generic options, negations and stray words. The grammar knows
// nothing of what an option means; ruleset and the extensions do.
package grammar

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Line is one iptables command line: the words before the first option,
// then generic options and extension loads in the order given.
//
// The struct tags here and on Elem, Load, Opt and Word are the grammar, and
// participle builds a parser from them (lineParser), but gofw parses with
// parseLine, a hand-written parser for the same grammar: participle's
// reflective backtracking took some 80 µs a line, which made a 100 000-rule
// restore several times slower than iptables-legacy-restore
// (bench/restore.sh). The grammar's tests parse with both and require the
// same tree and the same error.
type Line struct {
	Lead  []*Word `parser:"@@*"`
	Elems []*Elem `parser:"@@*"`
}

// tokenStream is parseLine's cursor over a token list ending in EOF. It
// hands out the tree's nodes from arrays sized for the line, so that a
// line costs a few allocations, not one per node.
type tokenStream struct {
	toks  []lexer.Token
	i     int
	elems []Elem
	loads []Load
	opts  []Opt
	words []Word
}

// sizeNodes sizes the node arrays: at most one node of each kind per
// token of its kind (every Opt starts at a Gen or Ext token, and so on).
func (s *tokenStream) sizeNodes() {
	var loads, opts, words int
	for i := range s.toks {
		switch s.toks[i].Type {
		case tokLoad:
			loads++
		case tokGen, tokExt:
			opts++
		case tokWord:
			words++
		}
	}
	s.elems = make([]Elem, 0, loads+opts)
	s.loads = make([]Load, 0, loads)
	s.opts = make([]Opt, 0, opts)
	s.words = make([]Word, 0, words)
}

// node appends v to *arr and returns its address, which stays valid:
// sizeNodes made room for every node of the line.
func node[T any](arr *[]T, v T) *T {
	*arr = append(*arr, v)
	return &(*arr)[len(*arr)-1]
}

func (s *tokenStream) peek() *lexer.Token { return &s.toks[s.i] }

// second returns the type of the token after the next one.
func (s *tokenStream) second() lexer.TokenType {
	if s.i+1 < len(s.toks) {
		return s.toks[s.i+1].Type
	}
	return tokEOF
}

// next returns the next token and moves past it (never past EOF).
func (s *tokenStream) next() *lexer.Token {
	t := &s.toks[s.i]
	if s.i < len(s.toks)-1 {
		s.i++
	}
	return t
}

func isOptTok(t lexer.TokenType) bool { return t == tokGen || t == tokExt }

func (s *tokenStream) startsLoad() bool {
	t := s.peek().Type
	return t == tokLoad || t == tokBang && s.second() == tokLoad
}

func (s *tokenStream) startsOpt() bool {
	t := s.peek().Type
	return isOptTok(t) || t == tokBang && isOptTok(s.second())
}

// parseLine parses toks (lexArgs' output, ending in EOF) as participle
// does from Line's tags with two tokens of lookahead (UseLookahead(2)):
//
//	Line = Word* (Load | Opt)*
//	Load = "!"? LoadTok Opt*
//	Opt  = "!"? (Gen | Ext) Arg? Word*
//
// The lexer has typed every token, so each choice is made by the next
// token, or by the one after a "!". It fails where participle fails: at a
// token that cannot start an element, or after a "!" at the token that
// follows it.
func parseLine(toks []lexer.Token) (*Line, error) {
	s := &tokenStream{toks: toks}
	s.sizeNodes()
	l := &Line{}
	if n := cap(s.elems); n > 0 {
		l.Elems = make([]*Elem, 0, n)
	}
	for s.peek().Type == tokWord {
		l.Lead = append(l.Lead, s.word())
	}
	for {
		switch t := s.peek(); {
		case t.Type == tokEOF:
			return l, nil
		case s.startsLoad():
			ld, err := s.load()
			if err != nil {
				return nil, err
			}
			l.Elems = append(l.Elems, node(&s.elems, Elem{Load: ld}))
		case s.startsOpt():
			o, err := s.opt()
			if err != nil {
				return nil, err
			}
			l.Elems = append(l.Elems, node(&s.elems, Elem{Opt: o}))
		default:
			if t.Type == tokBang {
				s.next()
			}
			return nil, badToken(*s.peek(), toks[0].Pos.Line)
		}
	}
}

func (s *tokenStream) word() *Word {
	t := s.next()
	return node(&s.words, Word{Pos: t.Pos, Text: t.Value})
}

// load reads a Load; startsLoad has checked its first tokens.
func (s *tokenStream) load() (*Load, error) {
	ld := node(&s.loads, Load{Pos: s.peek().Pos})
	if s.peek().Type == tokBang {
		ld.Neg = true
		s.next()
	}
	if err := ld.Ref.Capture([]string{s.next().Value}); err != nil {
		return nil, err
	}
	for s.startsOpt() {
		o, err := s.opt()
		if err != nil {
			return nil, err
		}
		ld.Opts = append(ld.Opts, o)
	}
	return ld, nil
}

// opt reads an Opt; startsOpt has checked its first tokens.
func (s *tokenStream) opt() (*Opt, error) {
	o := node(&s.opts, Opt{Pos: s.peek().Pos})
	if s.peek().Type == tokBang {
		o.Neg = true
		s.next()
	}
	if err := o.Name.Capture([]string{s.next().Value}); err != nil {
		return nil, err
	}
	if s.peek().Type == tokArg {
		v := s.next().Value
		o.Arg = &v
	}
	for s.peek().Type == tokWord {
		o.Extra = append(o.Extra, s.word())
	}
	return o, nil
}

// Elem is a generic option or an extension load with the options after it.
type Elem struct {
	Load *Load `parser:"@@"`
	Opt  *Opt  `parser:"| @@"`
}

// Load is "-m NAME", "-j NAME" or a match iptables loads implicitly for
// "-p PROTO", with the extension options that follow it.
type Load struct {
	Pos  lexer.Position
	Neg  bool    `parser:"@Bang?"`
	Ref  LoadRef `parser:"@Load"`
	Opts []*Opt  `parser:"@@*"`
}

// LoadRef names what a Load loads.
type LoadRef struct {
	Target bool // -j rather than -m
	Name   string
}

// Capture implements participle.Capture.
func (r *LoadRef) Capture(v []string) error {
	r.Target = v[0][0] == 'j'
	r.Name = v[0][2:]
	return nil
}

// Opt is one option with its negation, its argument and any non-option
// words after it (rule numbers, the second list of --tcp-flags, ...).
type Opt struct {
	Pos   lexer.Position
	Neg   bool    `parser:"@Bang?"`
	Name  OptName `parser:"@(Gen | Ext)"`
	Arg   *string `parser:"@Arg?"`
	Extra []*Word `parser:"@@*"`
}

// OptName is an option's canonical spelling; for an extension option also
// the ordinal of the extension (in load order) that owns it.
type OptName struct {
	Name  string // "-A", "--line-numbers", "--dport"
	Owner int    // -1 for generic options
}

// Capture implements participle.Capture.
func (n *OptName) Capture(v []string) error {
	name, owner, ok := strings.Cut(v[0], "\x00")
	n.Name, n.Owner = name, -1
	if ok {
		o, err := strconv.Atoi(owner)
		if err != nil {
			return err
		}
		n.Owner = o
	}
	return nil
}

// Word is a non-option argument.
type Word struct {
	Pos  lexer.Position
	Text string `parser:"@Word"`
}

// Generic reports whether o is one of iptables' own options.
func (o *Opt) Generic() bool { return o.Name.Owner < 0 }

// ArgIndex is the 1-based argument index of o, for error messages.
func (o *Opt) ArgIndex() int { return o.Pos.Offset + 1 }

// argvDef is the lexer definition participle is built with. Text is never
// lexed by participle: the tokens come from lexArgs through ParseFromLexer.
type argvDef struct{}

func (argvDef) Symbols() map[string]lexer.TokenType { return symbols() }
func (argvDef) Lex(string, io.Reader) (lexer.Lexer, error) {
	return nil, errors.New("grammar: text must be split into words first")
}

// lineParser is participle's parser for Line's grammar, built from its
// tags: the reference the grammar's tests hold parseLine to. Parsers are
// built on first use, not when a program starts: building one costs
// milliseconds that a plain gofw call should not pay.
var lineParser = sync.OnceValue(func() *participle.Parser[Line] {
	return participle.MustBuild[Line](participle.Lexer(argvDef{}), participle.UseLookahead(2))
})

// ParseArgs parses one command line (words as the shell or the restore
// tokenizer split them). line is the restore-file line number, 0 for argv.
func ParseArgs(words []string, cat Catalog, line int) (*Line, error) {
	return lexAndParse(words, cat, line)
}

// tokenBufs recycles the token lists of lexAndParse: a line's tokens are
// dead once parseLine has built its tree, which copies what it keeps, and
// a restore lexes a line per rule.
var tokenBufs = sync.Pool{New: func() any { return new([]lexer.Token) }}

// lexAndParse lexes words and parses them with parseLine.
func lexAndParse(words []string, cat Catalog, line int) (*Line, error) {
	bp := tokenBufs.Get().(*[]lexer.Token)
	defer tokenBufs.Put(bp)
	toks, err := lexArgsInto(*bp, words, cat, line)
	if err != nil {
		return nil, err
	}
	l, err := parseLine(toks)
	clear(toks) // drop the words' strings before the list is reused
	*bp = toks[:0]
	return l, err
}

func lexArgs(words []string, cat Catalog, line int) ([]lexer.Token, error) {
	return lexArgsInto(make([]lexer.Token, 0, len(words)+4), words, cat, line)
}

// lexArgsInto is lexArgs appending to buf[:0].
func lexArgsInto(buf []lexer.Token, words []string, cat Catalog, line int) ([]lexer.Token, error) {
	l := &argLexer{cat: cat, words: words, line: line, toks: buf[:0]}
	if err := l.run(); err != nil {
		if e, ok := err.(*Error); ok && e.Line == 0 {
			e.Line = line
		}
		return nil, err
	}
	return l.toks, nil
}

func parseTokens[G any](p *participle.Parser[G], toks []lexer.Token) (g *G, err error) {
	// participle reports some grammar-level surprises by panicking; input
	// must never crash gofw, so they become a parameter problem.
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, &Error{Code: ExitParameter, Msg: fmt.Sprint("cannot parse the line: ", r)}
		}
	}()
	pl, err := lexer.Upgrade(&tokens{toks: toks})
	if err != nil {
		return nil, err
	}
	g, err = p.ParseFromLexer(pl)
	if err != nil {
		return nil, badArgument(err, toks)
	}
	return g, nil
}

// badArgument turns a participle error into iptables' wording for a word
// nobody consumed.
func badArgument(err error, toks []lexer.Token) error {
	line := 0
	if len(toks) > 0 {
		line = toks[0].Pos.Line
	}
	if pe, ok := err.(participle.Error); ok {
		pos := pe.Position()
		for _, t := range toks {
			if t.Pos.Offset == pos.Offset && t.Type != tokEOF {
				return badToken(t, line)
			}
		}
		if pos.Offset >= 0 {
			return badToken(lexer.Token{Type: tokEOF, Pos: pos}, line)
		}
	}
	return &Error{Code: ExitParameter, Msg: err.Error(), Line: line}
}

// badToken is iptables' wording for a token the grammar cannot take there:
// a second "!", a stray word, or the end of the line after a "!".
func badToken(t lexer.Token, line int) error {
	at := t.Pos.Offset + 1
	switch t.Type {
	case tokBang:
		return &Error{Code: ExitParameter, Msg: "Multiple `!' flags not allowed", Arg: at, Line: line}
	case tokEOF:
		return &Error{Code: ExitParameter, Msg: "unexpected end of arguments after \"!\"", Arg: at, Line: line}
	}
	return &Error{Code: ExitParameter, Msg: "Bad argument `" + t.Value + "'", Arg: at, Line: line, Bare: true}
}
