package ruleset

import (
	"strings"
	"testing"

	"github.com/gofw/gofw/grammar"
)

// FuzzRuleSpec feeds arbitrary command lines through the rule grammar and the
// extensions. Nothing may panic, and a rule that loads must print as a spec
// that loads again to the same spec (save → restore is lossless).
func FuzzRuleSpec(f *testing.F) {
	for _, s := range []string{
		"-A INPUT -p tcp --dport 22 -j ACCEPT",
		"-A INPUT -m state --state NEW,ESTABLISHED -j ACCEPT",
		"-t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 198.18.0.2:8080",
		"-A FORWARD ! -s 198.18.0.0/15 -m comment --comment \"x y\" -j LOG --log-prefix \"a: \"",
		"-A INPUT -m multiport --dports 1,2,3:4 -m limit --limit 3/min -j REJECT --reject-with tcp-reset -p tcp",
		"-I INPUT 2 -m conntrack --ctstate RELATED --ctorigsrc 198.18.0.1 -g X",
		"-nvL INPUT 3", "-S", "-ptcp --dp 1 -jACCEPT -A INPUT", "! ! -A", "-c 1,2 -A INPUT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words := grammar.SplitRestoreLine(line)
		c, err := ParseCommand(words, false, 0)
		if err != nil {
			if _, ok := err.(*grammar.Error); !ok {
				t.Fatalf("%q: error of type %T: %v", line, err, err)
			}
			return
		}
		for _, r := range c.Rules {
			spec := r.Spec()
			again, err := ParseCommand(append([]string{"-t", c.Table, "-A", "X"}, grammar.SplitRestoreLine(spec)...), false, 0)
			if err != nil {
				t.Fatalf("%q printed as %q, which does not parse: %v", line, spec, err)
			}
			if got := again.Rules[0].Spec(); got != spec {
				t.Fatalf("%q printed as %q, which reprints as %q", line, spec, got)
			}
		}
	})
}

// FuzzRestore feeds arbitrary restore files to Restore: no panic, and a
// failure leaves the ruleset it was given untouched.
func FuzzRestore(f *testing.F) {
	f.Add("*filter\n:INPUT DROP [1:2]\n:X - [0:0]\n-A INPUT -j X\n[3:4] -A X -p udp --sport 53 -j ACCEPT\nCOMMIT\n")
	f.Add("*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n*raw\n-A PREROUTING -j CT --notrack\nCOMMIT\n")
	f.Add("*filter\n-A INPUT -j NOPE\nCOMMIT\n")
	f.Add("# c\n*mangle\n:PREROUTING ACCEPT\n-A PREROUTING -j MARK --set-mark 1\n")
	f.Fuzz(func(t *testing.T, in string) {
		base, _, err := Run(New(), []string{"-A", "INPUT", "-j", "ACCEPT"})
		if err != nil {
			t.Fatal(err)
		}
		before := dump(base)
		var out strings.Builder
		for _, o := range []RestoreOptions{{}, {Noflush: true, Counters: true}} {
			rs, err := Restore(base, strings.NewReader(in), o, &out)
			if err != nil {
				if _, ok := err.(*grammar.Error); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
			}
			if rs == nil {
				t.Fatal("Restore returned no ruleset")
			}
			if got := dump(base); got != before {
				t.Fatalf("Restore changed the ruleset it was given:\n%s\nwas\n%s", got, before)
			}
		}
	})
}

func dump(rs *Ruleset) string {
	var b strings.Builder
	for _, t := range rs.Tables() {
		t.ListRules(&b, "", 0, true)
	}
	return b.String()
}

// FuzzControlRequest feeds arbitrary frames to the control-socket decoder:
// it must return a request or an error, never panic, and a request it
// accepts must be answered without a panic.
func FuzzControlRequest(f *testing.F) {
	f.Add([]byte(`{"cmd":"iptables","args":["-S"]}`))
	f.Add([]byte(`{"cmd":"restore","restore":{"Noflush":true},"input":"*filter\nCOMMIT\n"}`))
	f.Add([]byte(`{"cmd":"save","table":"nat","counters":true}`))
	f.Add([]byte(`{"cmd":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			return
		}
		resp := NewLive(New()).Handle(req)
		if resp == nil {
			t.Fatal("no response")
		}
	})
}
