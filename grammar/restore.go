package grammar

import (
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// RestoreLine is one meaningful line of an iptables-restore file: exactly
// one of its fields is set.
type RestoreLine struct {
	Table   *TableLine
	Chain   *ChainLine
	Commit  bool
	Command *CommandLine
}

// TableLine is "*TABLE": it opens a table block.
type TableLine struct {
	Name string   `parser:"Star @Word?"`
	Rest []string `parser:"@Word*"` // ignored, as iptables-restore's strtok does
}

// ChainLine is ":CHAIN POLICY [PACKETS:BYTES]".
type ChainLine struct {
	Name     *string  `parser:"Colon @Word?"`
	Policy   *string  `parser:"@Word?"`
	Counters *string  `parser:"@Word?"`
	Rest     []string `parser:"@Word*"`
}

// CommandLine is an iptables command inside a table block, optionally
// prefixed with "[PACKETS:BYTES]".
type CommandLine struct {
	Counters *Counters `parser:"@Counters?"`
	Line     Line      `parser:"@@"`
}

// Counters is a "[PACKETS:BYTES]" prefix, as written.
type Counters struct {
	Packets, Bytes string
}

// Capture implements participle.Capture.
func (c *Counters) Capture(v []string) error {
	c.Packets, c.Bytes, _ = strings.Cut(v[0], "\x00")
	return nil
}

// One parser per kind of line: iptables-restore decides the kind from the
// first character, so the grammar need not guess between them.
var (
	tableParser = sync.OnceValue(func() *participle.Parser[TableLine] {
		return participle.MustBuild[TableLine](participle.Lexer(argvDef{}))
	})
	chainParser = sync.OnceValue(func() *participle.Parser[ChainLine] {
		return participle.MustBuild[ChainLine](participle.Lexer(argvDef{}))
	})
	// commandParser is the reference for the hand-written parse of a
	// command line in ParseRestoreLine (see parseLine).
	commandParser = sync.OnceValue(func() *participle.Parser[CommandLine] {
		return participle.MustBuild[CommandLine](participle.Lexer(argvDef{}), participle.UseLookahead(2))
	})
)

// ParseRestoreLine parses line number n (1-based) of a restore file, given
// without its newline. It returns nil, nil for lines iptables-restore skips
// (empty, or starting with '#'). Lines are classified by their first
// character, nothing trimmed first, as iptables-restore does: so an indented
// "COMMIT" is a command and fails as one. inTable tells whether a "*table"
// block is open; a line outside any block that does not open one is returned
// as an Error with ExitFailure ("line N failed").
func ParseRestoreLine(text string, n int, inTable bool, cat Catalog) (*RestoreLine, error) {
	if text == "" || text[0] == '#' {
		return nil, nil
	}
	pos := func(i int) lexer.Position { return lexer.Position{Line: n, Column: i + 1, Offset: i} }
	eof := func(toks []lexer.Token) []lexer.Token {
		return append(toks, lexer.Token{Type: tokEOF, Pos: pos(len(toks))})
	}
	switch {
	case text == "COMMIT" && inTable:
		return &RestoreLine{Commit: true}, nil
	case text[0] == '*' && !inTable:
		toks := []lexer.Token{{Type: tokStar, Value: "*", Pos: pos(0)}}
		t, err := parseTokens(tableParser(), eof(appendWords(toks, strings.Fields(text[1:]), n)))
		if err != nil {
			return nil, err
		}
		return &RestoreLine{Table: t}, nil
	case text[0] == ':' && inTable:
		toks := []lexer.Token{{Type: tokColon, Value: ":", Pos: pos(0)}}
		c, err := parseTokens(chainParser(), eof(appendWords(toks, strings.Fields(text[1:]), n)))
		if err != nil {
			return nil, err
		}
		return &RestoreLine{Chain: c}, nil
	case inTable:
		// CommandLine's grammar, parsed by hand as parseLine says why:
		// the counters are the line's first token when it has them.
		c := &CommandLine{}
		rest := text
		if text[0] == '[' {
			end := strings.IndexByte(text, ']')
			if end < 0 {
				return nil, &Error{Code: ExitParameter, Msg: "Bad line " + itoa(n) + ": need ]", Line: n}
			}
			pk, by, _ := strings.Cut(text[1:end], ":")
			c.Counters = &Counters{Packets: pk, Bytes: by}
			rest = text[end+1:]
		}
		l, err := lexAndParse(SplitRestoreLine(rest), cat, n)
		if err != nil {
			return nil, err
		}
		c.Line = *l
		return &RestoreLine{Command: c}, nil
	}
	return nil, &Error{Code: ExitFailure, Msg: "line " + itoa(n) + " failed", Line: n}
}

func appendWords(toks []lexer.Token, words []string, n int) []lexer.Token {
	for i, w := range words {
		toks = append(toks, lexer.Token{Type: tokWord, Value: w,
			Pos: lexer.Position{Line: n, Column: i + 2, Offset: i + 1}})
	}
	return toks
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}
