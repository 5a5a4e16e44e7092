package grammar

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// testCatalog is a few extensions in the shape of gofw's: enough for
// every kind of token (options with and without arguments, an option that
// takes extra words, an implicit protocol match, a target with options).
type testCatalog struct{}

var testMatches = map[string][]OptSpec{
	"tcp":     {{Name: "sport", Arg: true}, {Name: "dport", Arg: true}, {Name: "syn"}, {Name: "tcp-flags", Arg: true}},
	"comment": {{Name: "comment", Arg: true}},
	"mark":    {{Name: "mark", Arg: true}},
	"recent":  {{Name: "set"}, {Name: "name", Arg: true}},
}

func (testCatalog) Match(name string) ([]OptSpec, error) {
	if o, ok := testMatches[name]; ok {
		return o, nil
	}
	return nil, ParamNLf("Couldn't load match `%s':No such file or directory", name)
}

func (testCatalog) Target(name string) ([]OptSpec, bool) {
	if name == "LOG" {
		return []OptSpec{{Name: "log-prefix", Arg: true}, {Name: "log-uid"}}, true
	}
	return nil, false
}

func (testCatalog) ProtoMatch(proto string) string {
	if proto == "tcp" {
		return "tcp"
	}
	return ""
}

// refParse parses toks with participle's parser built from Line's tags,
// the reference for parseLine.
func refParse(toks []lexer.Token) (*Line, error) {
	return parseTokens(lineParser(), append([]lexer.Token(nil), toks...))
}

// sameParse checks that parseLine and participle agree on words: the
// same tree, or the same error.
func sameParse(t *testing.T, words []string) {
	t.Helper()
	toks, err := lexArgs(words, testCatalog{}, 3)
	if err != nil {
		return // the lexer's errors come before either parser runs
	}
	want, werr := refParse(toks)
	got, gerr := parseLine(toks)
	if (werr == nil) != (gerr == nil) || werr != nil && !reflect.DeepEqual(werr, gerr) {
		t.Fatalf("%q:\n  parseLine error: %#v\n  participle:      %#v", words, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n  parseLine:  %s\n  participle: %s", words, dumpLine(got), dumpLine(want))
	}
}

func dumpLine(l *Line) string {
	var b strings.Builder
	for _, w := range l.Lead {
		b.WriteString("lead(" + w.Text + ") ")
	}
	opt := func(o *Opt) {
		if o.Neg {
			b.WriteString("!")
		}
		b.WriteString(o.Name.Name)
		if o.Arg != nil {
			b.WriteString("=" + *o.Arg)
		}
		for _, w := range o.Extra {
			b.WriteString("+" + w.Text)
		}
		b.WriteString(" ")
	}
	for _, e := range l.Elems {
		if e.Load != nil {
			if e.Load.Neg {
				b.WriteString("!")
			}
			b.WriteString("load(" + e.Load.Ref.Name + ")[ ")
			for _, o := range e.Load.Opts {
				opt(o)
			}
			b.WriteString("] ")
			continue
		}
		opt(e.Opt)
	}
	return b.String()
}

// TestParseLineMatchesParticiple holds the hand-written parser to the
// grammar in Line's tags: lines chosen for every branch and error of the
// grammar, then random lines over a vocabulary of every kind of token.
func TestParseLineMatchesParticiple(t *testing.T) {
	for _, l := range []string{
		"-A INPUT -p tcp --dport 22 -j ACCEPT",
		"-A INPUT -p tcp ! --syn -m comment --comment x -j LOG --log-prefix p --log-uid",
		"-A INPUT ! -s 1.2.3.4 -m tcp ! --tcp-flags SYN,ACK SYN -m mark ! --mark 1",
		"-A INPUT -m tcp --tcp-flags SYN ACK extra words",
		"-nvL INPUT 3", "-I INPUT 2 -j ACCEPT", "-D INPUT 1", "-Z", "",
		"foo bar -A INPUT", "-A INPUT -m tcp foo", "-A INPUT -j LOG foo",
		"-A INPUT ! ! -s 1.2.3.4", "-A INPUT ! foo", "-A INPUT !", "!", "! !", "! -A INPUT",
		"-A INPUT ! -m tcp", "-A INPUT -m tcp ! -m mark --mark 1", "-A INPUT -m tcp ! ! --dport 1",
		"-A INPUT -m tcp --dport=22 ! --sport 1 -s 1.2.3.4 word", "-A INPUT -j LOG ! --log-uid !",
		"-w -A INPUT -w 5", "-A INPUT -- -x y",
	} {
		sameParse(t, SplitRestoreLine(l))
	}
	vocab := []string{"!", "!", "-A", "INPUT", "-I", "2", "-p", "tcp", "-s", "1.2.3.4", "-m", "tcp",
		"-m", "mark", "-m", "comment", "--dport", "22", "--syn", "--tcp-flags", "SYN", "ACK", "--mark",
		"--comment", "-j", "LOG", "-j", "ACCEPT", "--log-prefix", "--log-uid", "-g", "X", "-L", "-n",
		"-nvL", "word", "--", "-w", "--sport=1", "-m", "recent", "--set", "--name"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		words := make([]string, r.IntN(12))
		for i := range words {
			words[i] = vocab[r.IntN(len(vocab))]
		}
		sameParse(t, words)
	}
}

// TestRestoreCommandMatchesParticiple checks a restore-file command line,
// parsed by hand in ParseRestoreLine, against participle's CommandLine
// parser, with and without counters.
func TestRestoreCommandMatchesParticiple(t *testing.T) {
	for _, text := range []string{
		"-A INPUT -p tcp --dport 22 -j ACCEPT",
		"[1:2] -A INPUT -p tcp ! --syn -j LOG --log-prefix \"a b\"",
		"[3:4] -A INPUT", "[:] -A INPUT -m mark --mark 1", "-A INPUT ! ! -s 1.2.3.4",
		"-A INPUT -m tcp word", "-A INPUT !",
	} {
		got, gerr := ParseRestoreLine(text, 7, true, testCatalog{})
		var toks []lexer.Token
		rest := text
		if text[0] == '[' {
			end := strings.IndexByte(text, ']')
			pk, by, _ := strings.Cut(text[1:end], ":")
			toks = append(toks, lexer.Token{Type: tokCounters, Value: pk + "\x00" + by, Pos: lexer.Position{Line: 7, Column: 1}})
			rest = text[end+1:]
		}
		lt, err := lexArgs(SplitRestoreLine(rest), testCatalog{}, 7)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		want, werr := parseTokens(commandParser(), append(toks, lt...))
		if (werr == nil) != (gerr == nil) || werr != nil && !reflect.DeepEqual(werr, gerr) {
			t.Fatalf("%q:\n  ParseRestoreLine error: %#v\n  participle:             %#v", text, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got.Command, want) {
			t.Fatalf("%q:\n  ParseRestoreLine: %+v %s\n  participle:       %+v %s", text, got.Command.Counters, dumpLine(&got.Command.Line), want.Counters, dumpLine(&want.Line))
		}
	}
}

// FuzzParseLine compares parseLine with participle on arbitrary lines.
func FuzzParseLine(f *testing.F) {
	f.Add("-A INPUT -p tcp ! --syn -m tcp --dport 22 -j LOG --log-uid")
	f.Add("! ! -A INPUT -m tcp foo")
	f.Add("-nvL INPUT 3 -m mark ! --mark 1 -- x")
	f.Fuzz(func(t *testing.T, line string) {
		words := SplitRestoreLine(line)
		if len(words) > 64 {
			return
		}
		sameParse(t, words)
	})
}

// FuzzSplitRestoreLine checks SplitRestoreLine's fast path for lines
// without quotes against the general tokenizer.
func FuzzSplitRestoreLine(f *testing.F) {
	f.Add("-A INPUT  -s 1.2.3.4\t-j ACCEPT\n")
	f.Add(" a\\b 'c d' \xff ")
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Contains(line, `"`) {
			return
		}
		got, want := SplitRestoreLine(line), splitQuoted(line)
		if !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
			t.Fatalf("%q: split as %q, want %q", line, got, want)
		}
	})
}
