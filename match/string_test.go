package match

import (
	"strings"
	"syscall"
	"testing"

	"github.com/gofw/gofw/packet"
)

var stringRows = []rlRow{
	// libxt_string.t
	{rule: "-m string --algo bm --string \"test\"", save: "-m string --string \"test\" --algo bm", print: ` STRING match  "test" ALGO name bm`},
	{rule: "-m string --string \"test\" --algo kmp", save: "=", print: ` STRING match  "test" ALGO name kmp`},
	{rule: "-m string ! --string \"test\" --algo kmp", save: "=", print: ` STRING match ! "test" ALGO name kmp`},
	{rule: "-m string --string \"" + strings.Repeat("x", 128) + "\" --algo bm", save: "=", print: ` STRING match  "` + strings.Repeat("x", 128) + `" ALGO name bm`},
	{rule: "-m string --string \"" + strings.Repeat("x", 129) + "\" --algo bm", err: `STRING too long "` + strings.Repeat("x", 129) + `"`},
	{rule: "-m string --hex-string \"|0a0a0a0a|\" --algo bm", save: "=", print: ` STRING match  "|0a0a0a0a|" ALGO name bm`},
	{rule: "-m string --algo bm --from 0 --to 65535 --string \"test\"", save: "-m string --string \"test\" --algo bm", print: ` STRING match  "test" ALGO name bm`},
	{rule: "-m string --algo wrong", err: "STRING match: You must specify `--string' or `--hex-string'"},
	{rule: "-m string --algo bm", err: "STRING match: You must specify `--string' or `--hex-string'"},
	{rule: "-m string", err: "STRING match: You must specify `--string' or `--hex-string'"},
	{chain: "FORWARD", rule: "-m string --string \"test\" --algo kmp", save: "=", print: ` STRING match  "test" ALGO name kmp`},
	{chain: "OUTPUT", rule: "-m string --hex-string \"|0a0a0a0a|\" --algo bm", save: "=", print: ` STRING match  "|0a0a0a0a|" ALGO name bm`},

	// Offsets and case.
	{rule: "-m string --string x --algo bm --from 5 --to 10 --icase", save: "-m string --string \"x\" --algo bm --from 5 --to 10 --icase", print: ` STRING match  "x" ALGO name bm FROM 5 TO 10 ICASE`},
	{rule: "-m string --string x --algo bm --from 65535", save: "-m string --string \"x\" --algo bm --from 65535", print: ` STRING match  "x" ALGO name bm FROM 65535`},
	{rule: "-m string --string x --algo bm --to 65536", err: "string: bad value for option \"--to\", or out of range (0-65535).\n"},
	{rule: "-m string --string x --algo bm --from -1", err: "string: bad value for option \"--from\", or out of range (0-65535).\n"},
	{rule: "-m string --string x", err: "string: option \"--algo\" must be specified\n"},
	{rule: "-m string --string x --hex-string y --algo bm", err: "string: option \"--string\" cannot be used together with \"--hex-string\".\n"},

	// Quoting: " and \ escaped; a pattern with a byte outside printable
	// ASCII, or ending in a backslash, is shown in hex.
	{rule: `-m string --string "a\"b\\c" --algo bm`, save: `-m string --string "a\"b\\c" --algo bm`, print: ` STRING match  "a\"b\\c" ALGO name bm`},
	{rule: `-m string --string "ab\\" --algo bm`, save: `-m string --hex-string "|61625c|" --algo bm`, print: ` STRING match  "|61625c|" ALGO name bm`},
	{rule: `-m string --string "a'b c" --algo bm`, save: "=", print: ` STRING match  "a'b c" ALGO name bm`},
	{rule: `-m string --string "é" --algo bm`, save: `-m string --hex-string "|c3a9|" --algo bm`, print: ` STRING match  "|c3a9|" ALGO name bm`},
	// Hex strings: |..| blocks with optional spaces, \ quoting outside.
	{rule: `-m string --hex-string "|41 42|C" --algo bm`, save: `-m string --string "ABC" --algo bm`, print: ` STRING match  "ABC" ALGO name bm`},
	{rule: `-m string --hex-string "|0a|x|00|" --algo bm`, save: `-m string --hex-string "|0a7800|" --algo bm`, print: ` STRING match  "|0a7800|" ALGO name bm`},
	{rule: `-m string --hex-string "a\\|b" --algo bm`, save: `-m string --string "a|b" --algo bm`, print: ` STRING match  "a|b" ALGO name bm`},
	{rule: `-m string --hex-string "|  41|" --algo bm`, save: `-m string --string "A" --algo bm`, print: ` STRING match  "A" ALGO name bm`},
	{rule: `-m string --hex-string "abc|" --algo bm`, save: `-m string --string "abc" --algo bm`, print: ` STRING match  "abc" ALGO name bm`},
	{rule: `-m string --hex-string "|41||42|" --algo bm`, save: `-m string --string "A|42" --algo bm`, print: ` STRING match  "A|42" ALGO name bm`},
	{rule: `-m string --hex-string "|7e|" --algo bm`, save: `-m string --string "~" --algo bm`, print: ` STRING match  "~" ALGO name bm`},
	{rule: `-m string --hex-string "|7f|" --algo bm`, save: "=", print: ` STRING match  "|7f|" ALGO name bm`},
	{rule: `-m string --hex-string "" --algo bm`, err: "STRING must contain at least one char"},
	{rule: `-m string --hex-string "|4|" --algo bm`, err: "Invalid hex block"},
	{rule: `-m string --hex-string "|4g|" --algo bm`, err: "Invalid hex char 'g'"},
	{rule: `-m string --hex-string "|41" --algo bm`, err: "Invalid hex block"},
	{rule: `-m string --hex-string "|414" --algo bm`, err: "Odd number of hex digits"},
	{rule: `-m string --hex-string "|41  42|" --algo bm`, err: "Invalid hex char ' '"},
	{rule: `-m string --hex-string "x\\" --algo bm`, err: "Bad literal placement at end of string"},
	{rule: `-m string --hex-string "|41\\42|" --algo bm`, err: "Cannot include literals in hex data"},
	{rule: "-m string --hex-string \"|" + strings.Repeat("41", 129) + "|\" --algo bm", err: "STRING too long \"|" + strings.Repeat("41", 129) + "|\""},
	// 128 bytes fit, but the closing "|" of a full hex block is one step
	// too many for parse_hex_string: iptables refuses what it would save
	// for a 128-byte binary pattern.
	{rule: "-m string --hex-string \"|" + strings.Repeat("01", 127) + "|\" --algo bm", save: "=", print: ` STRING match  "|` + strings.Repeat("01", 127) + `|" ALGO name bm`},
	{rule: "-m string --hex-string \"|" + strings.Repeat("01", 128) + "|\" --algo bm", err: "STRING too long \"|" + strings.Repeat("01", 128) + "|\""},
	{rule: "-m string --hex-string \"|" + strings.Repeat("01", 128) + "\" --algo bm", err: "Invalid hex block"},

	// xt_string's checkentry and textsearch_prepare.
	{rule: "-m string --string x --algo wrong", err: `xt_string: no textsearch algorithm "wrong"`, errno: syscall.ENOENT},
	{rule: "-m string --string x --algo BM", err: `xt_string: no textsearch algorithm "BM"`, errno: syscall.ENOENT},
	{rule: "-m string --string x --algo bmxxxxxxxxxxxxxxxxxxxxxx", err: `xt_string: no textsearch algorithm "bmxxxxxxxxxxxxx"`, errno: syscall.ENOENT},
	{rule: "-m string --string x --algo fsm", err: `xt_string: textsearch algorithm "fsm" is not supported by gofw`, errno: syscall.EINVAL},
	{rule: "-m string --string \"\" --algo bm", err: "xt_string: the pattern must not be empty", errno: syscall.EINVAL},
	{rule: "-m string --string \"\" --algo wrong", err: "xt_string: the pattern must not be empty", errno: syscall.EINVAL},
	{rule: "-m string --hex-string \"|\" --algo bm", err: "xt_string: the pattern must not be empty", errno: syscall.EINVAL},
	{rule: "-m string --string x --algo bm --from 10 --to 5", err: "xt_string: --from 10 is past --to 5", errno: syscall.EINVAL},
}

func TestString(t *testing.T) { rlRun(t, stringRows) }

func TestStringOracle(t *testing.T) { rlOracle(t, stringRows) }

// TestStringPattern checks the bytes a hex string stands for.
func TestStringPattern(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"|0d 0a|", "\r\n"},
		{"GET |2f|", "GET /"},
		{`a\|b`, "a|b"},
		{"|00|", "\x00"},
	} {
		p, err := parseHexString(c.in)
		if err != nil || string(p) != c.want {
			t.Errorf("parseHexString(%q) = %q, %v; want %q", c.in, p, err, c.want)
		}
	}
}

// FuzzStringHex: parsing never panics, and what iptables-save prints for a
// pattern reads back as the same bytes.
func FuzzStringHex(f *testing.F) {
	for _, s := range []string{"|0a0a0a0a|", "|41 42|C", `a\|b`, "|  41|", "|41||42|", "x", "|7f|", `ab\`, "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseHexString(s)
		if err != nil || len(p) == 0 || len(p) > stringMaxPattern {
			return
		}
		if len(p) == stringMaxPattern && stringIsHex(p) {
			// iptables cannot read back a 128-byte hex string either:
			// the closing "|" trips its length check (see stringRows).
			return
		}
		var b strings.Builder
		(&String{Pattern: p, Algo: "bm", To: 65535}).Save(&b)
		ms, err := rlParse(append([]string{"-m", "string"}, grammarWords(b.String())...))
		if err != nil {
			t.Fatalf("%q saved as %q, which does not parse: %v", s, b.String(), err)
		}
		if got := ms[0].m.(*String).Pattern; string(got) != string(p) {
			t.Fatalf("%q: pattern %q saved as %q reads back as %q", s, p, b.String(), got)
		}
	})
}

// stringPayload is the HTTP request the string rows search; in a TCP
// segment without options it starts at byte 40 of the datagram.
const stringPayload = "GET /index.html HTTP/1.1\r\nHost: Example.org\r\n\r\n"

// TestStringMatch: offsets count from the first byte of the IP header, an
// occurrence must end at or before --to, --icase folds as the kernel's
// toupper (Latin-1 included), and bm and kmp agree except where the
// kernel's Boyer-Moore steps over a folded occurrence.
func TestStringMatch(t *testing.T) {
	for _, c := range []struct {
		rule    string
		payload string // "" means stringPayload
		want    bool
	}{
		{`--string "GET" --algo bm`, "", true},
		{`--string "GET" --algo kmp`, "", true},
		{`--string "Host: Example.org" --algo bm`, "", true},
		{`--string "POST" --algo bm`, "", false},
		{`! --string "POST" --algo kmp`, "", true},
		{`! --string "GET" --algo bm`, "", false},
		{`--hex-string "|0d0a0d0a|" --algo bm`, "", true},
		// Case: exact by default, folded with --icase.
		{`--string "get /INDEX" --algo bm`, "", false},
		{`--string "get /INDEX" --algo bm --icase`, "", true},
		{`--string "get /INDEX" --algo kmp --icase`, "", true},
		// The kernel folds Latin-1 bytes (é 0xe9, É 0xc9), not UTF-8
		// sequences: UTF-8 é and É differ in a byte toupper leaves alone.
		{`--hex-string "|e9|" --algo kmp --icase`, "CAF\xc9", true},
		{`--hex-string "|c9|" --algo bm --icase`, "caf\xe9", true},
		{`--hex-string "|e9|" --algo kmp`, "CAF\xc9", false},
		{`--string "é" --algo kmp --icase`, "CAFÉ", false},
		// "GET" is bytes 40-42: the window must hold all of it.
		{`--string "GET" --algo bm --from 40 --to 43`, "", true},
		{`--string "GET" --algo kmp --from 40 --to 43`, "", true},
		{`--string "GET" --algo bm --from 40 --to 42`, "", false},
		{`--string "GET" --algo kmp --from 41`, "", false},
		{`--string "GET" --algo bm --from 0 --to 40`, "", false},
		// The window starts at the IP header: 198.18.0.1 is bytes 12-15.
		{`--hex-string "|c6120001|" --algo bm`, "", true},
		{`--hex-string "|c6120001|" --algo kmp --to 16`, "", true},
		{`--hex-string "|c6120001|" --algo bm --from 13`, "", false},
		// A window past the end of the packet finds nothing.
		{`--string "GET" --algo bm --from 2000`, "", false},
		{`! --string "GET" --algo kmp --from 2000`, "", true},
		// ts_bm indexes its bad-character table by the raw byte: ÿ (0xff)
		// folds to 0xdf, but only 0xdf itself is in the table, so bm
		// jumps over the occurrence at 41 that kmp finds.
		{`--hex-string "|ff|a" --algo bm --icase`, "\xff\xffa", false},
		{`--hex-string "|ff|a" --algo kmp --icase`, "\xff\xffa", true},
	} {
		m := stMatch(t, &Env{}, "-m string "+c.rule)
		payload := c.payload
		if payload == "" {
			payload = stringPayload
		}
		p := stTCP(t, "198.18.0.1", 40000, "198.18.0.2", 80, packet.TCPAck|packet.TCPPsh, []byte(payload))
		if got := m.Match(p); got != c.want {
			t.Errorf("%s in %q: %v, want %v", c.rule, payload, got, c.want)
		}
	}
}

// TestStringAllocs: searching allocates nothing.
func TestStringAllocs(t *testing.T) {
	for _, algo := range []string{"bm", "kmp"} {
		m := stMatch(t, &Env{}, `-m string --string "example.ORG" --icase --algo `+algo)
		p := stTCP(t, "198.18.0.1", 40000, "198.18.0.2", 80, packet.TCPAck, []byte(stringPayload))
		if n := testing.AllocsPerRun(1000, func() { m.Match(p) }); n != 0 {
			t.Errorf("%s: Match allocates %v times per packet", algo, n)
		}
	}
}

// textSearchBrute is the reference: the first offset where every byte
// agrees after folding.
func textSearchBrute(pat, text []byte, icase bool) int {
	fold := func(c byte) byte {
		if icase {
			return ctypeUpper[c]
		}
		return c
	}
	for s := 0; s+len(pat) <= len(text); s++ {
		i := 0
		for i < len(pat) && fold(text[s+i]) == fold(pat[i]) {
			i++
		}
		if i == len(pat) {
			return s
		}
	}
	return -1
}

// FuzzTextSearch: kmp finds the first occurrence, with or without case
// folding; the kernel's bm does too when the case is kept.
func FuzzTextSearch(f *testing.F) {
	f.Add([]byte("abab"), []byte("aabababab"), false)
	f.Add([]byte("GET"), []byte("xx get"), true)
	f.Add([]byte("aab"), []byte("aaab"), false)
	f.Fuzz(func(t *testing.T, pat, text []byte, icase bool) {
		if len(pat) == 0 || len(pat) > stringMaxPattern {
			return
		}
		want := textSearchBrute(pat, text, icase)
		if got := prepareTextSearch("kmp", pat, icase).find(text); got != want {
			t.Fatalf("kmp %q in %q (icase %v): %d, want %d", pat, text, icase, got, want)
		}
		if !icase {
			if got := prepareTextSearch("bm", pat, false).find(text); got != want {
				t.Fatalf("bm %q in %q: %d, want %d", pat, text, got, want)
			}
		}
	})
}
