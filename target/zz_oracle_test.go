//go:build oracle

package target

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gofw/gofw/packet"
)

var hookByName = map[string]packet.Hook{"PREROUTING": packet.Prerouting, "INPUT": packet.Input, "FORWARD": packet.Forward, "OUTPUT": packet.Output, "POSTROUTING": packet.Postrouting}

func ipt(ns string, args ...string) (string, string, int) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "iptables-legacy"}, args...)...)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	}
	return so.String(), se.String(), rc
}

func tail(line, any string) string {
	i := strings.Index(line, any)
	j := strings.Index(line[i+len(any):], any)
	if i < 0 || j < 0 {
		return "<??>" + line
	}
	d := i + len(any) + j
	return line[d+20:]
}

func TestOracle(t *testing.T) {
	ns := "gofwtgtoracle"
	exec.Command("ip", "netns", "add", ns).Run()
	defer exec.Command("ip", "netns", "del", ns).Run()
	f, err := os.Open(os.Getenv("ORACLE_CASES"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		// TABLE CHAIN spec
		fs := strings.SplitN(line, " ", 3)
		table, chain, spec := fs[0], fs[1], fs[2]
		n++
		args := append([]string{"-t", table, "-A", chain}, splitWords(spec)...)
		_, se, rc := ipt(ns, args...)
		var S, L, LN string
		if rc == 0 {
			so, _, _ := ipt(ns, "-t", table, "-S", chain)
			for _, l := range strings.Split(so, "\n") {
				if strings.HasPrefix(l, "-A ") {
					S = l
				}
			}
			so, _, _ = ipt(ns, "-t", table, "-L", chain, "-n")
			ls := strings.Split(strings.TrimRight(so, "\n"), "\n")
			LN = tail(ls[len(ls)-1], "0.0.0.0/0")
			so, _, _ = ipt(ns, "-t", table, "-L", chain)
			ls = strings.Split(strings.TrimRight(so, "\n"), "\n")
			L = tail(ls[len(ls)-1], "anywhere")
			ipt(ns, "-t", table, "-F", chain)
		}
		b, perr := build(spec)
		grc := 0
		var lerr error
		if perr != nil {
			grc = 2
		} else {
			lerr = b.check(table, hookByName[chain].Mask())
			if lerr == nil {
				if tm, ok := b.tg.(*TCPMSS); ok {
					_ = tm // matches not modelled here
				}
				lerr = checkPlacement(b.info, table, hookByName[chain], b.rule)
			}
			if lerr != nil {
				grc = 1
			}
		}
		se = strings.TrimSuffix(strings.TrimPrefix(se, "iptables v1.8.9 (legacy): "), "Try `iptables -h' or 'iptables --help' for more information.\n")
		if grc != rc {
			t.Errorf("%s: rc %d, oracle %d (%q) gofw err %v %v", line, grc, rc, se, perr, lerr)
			continue
		}
		if rc == 2 {
			got := errText(perr)
			got = got[len("exit 2: "):] + "\n"
			if got != se {
				t.Errorf("%s: err\n got %q\nwant %q", line, got, se)
			}
			continue
		}
		if rc != 0 {
			continue
		}
		gS := "-A " + chain + " "
		if b.rule.Proto != 0 {
			gS += protoText(b.rule) + " "
		}
		gS += b.save
		if gS != S {
			t.Errorf("%s: -S\n got %q\nwant %q", line, gS, S)
		}
		if b.listN != LN {
			t.Errorf("%s: -L -n\n got %q\nwant %q", line, b.listN, LN)
		}
		if b.list != L {
			t.Errorf("%s: -L\n got %q\nwant %q", line, b.list, L)
		}
	}
	t.Logf("%d cases", n)
}

func dmesgLines() []string {
	out, _ := exec.Command("dmesg").Output()
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

func TestOracleGen(t *testing.T) {
	ns := "gofwtgtoraclegen"
	exec.Command("ip", "netns", "add", ns).Run()
	defer exec.Command("ip", "netns", "del", ns).Run()
	f, err := os.Open(os.Getenv("ORACLE_CASES"))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := os.Create(os.Getenv("ORACLE_OUT"))
	defer out.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] == '#' {
			out.WriteString("\n\t// " + strings.TrimPrefix(line, "# ") + "\n")
			continue
		}
		fs := strings.SplitN(line, " ", 3)
		table, chain, spec := fs[0], fs[1], fs[2]
		args := append([]string{"-t", table, "-A", chain}, splitWords(spec)...)
		before := len(dmesgLines())
		_, se, rc := ipt(ns, args...)
		var S, L, LN, dm string
		if rc == 1 {
			d := dmesgLines()
			if len(d) > before {
				dm = d[len(d)-1]
				if i := strings.Index(dm, "] "); i >= 0 {
					dm = dm[i+2:]
				}
			}
		}
		if rc == 0 {
			so, _, _ := ipt(ns, "-t", table, "-S", chain)
			for _, l := range strings.Split(so, "\n") {
				if strings.HasPrefix(l, "-A ") {
					S = strings.TrimPrefix(l, "-A "+chain+" ")
				}
			}
			so, _, _ = ipt(ns, "-t", table, "-L", chain, "-n")
			ls := strings.Split(strings.TrimRight(so, "\n"), "\n")
			LN = tail(ls[len(ls)-1], "0.0.0.0/0")
			so, _, _ = ipt(ns, "-t", table, "-L", chain)
			ls = strings.Split(strings.TrimRight(so, "\n"), "\n")
			L = tail(ls[len(ls)-1], "anywhere")
			ipt(ns, "-t", table, "-F", chain)
		}
		b, perr := build(spec)
		var lerr, perr2 error
		if perr == nil {
			lerr = b.check(table, hookByName[chain].Mask())
			perr2 = checkPlacement(b.info, table, hookByName[chain], b.rule)
		}
		se = strings.TrimSuffix(strings.TrimPrefix(se, "iptables v1.8.9 (legacy): "), "Try `iptables -h' or 'iptables --help' for more information.\n")
		want := ""
		note := ""
		switch rc {
		case 2:
			g := errText(perr)
			if strings.Contains(g, "can only be used once") || strings.Contains(g, "cannot be inverted") || strings.Contains(g, "requires an argument") || strings.Contains(g, "unknown option") {
				want = "generic"
			} else {
				want = g
				if len(g) < 8 || g[8:]+"\n" != se {
					note = " // ORACLE: " + strings.ReplaceAll(se, "\n", "\\n")
				}
			}
		case 1:
			if lerr != nil {
				want = "kernel: " + lerr.Error()
				if !strings.HasSuffix(dm, lerr.Error()) {
					note = " // DMESG: " + dm
				}
			} else if perr2 != nil {
				want = "placement"
				note = " // DMESG: " + dm
			} else {
				note = " // MISSED rc=1 DMESG: " + dm
			}
		case 0:
			if perr != nil || lerr != nil || perr2 != nil {
				note = fmt.Sprintf(" // GOFW REFUSED %v %v %v", perr, lerr, perr2)
			} else {
				g := b.save
				if b.rule.Proto != 0 {
					g = protoText(b.rule) + " " + g
				}
				if g != S || b.list != L || b.listN != LN {
					note = fmt.Sprintf(" // MISMATCH gofw %q %q %q", g, b.list, b.listN)
				}
			}
		}
		fmt.Fprintf(out, "\t{%q, packet.%s, %q, %q, %q, %q, %q},%s\n", table, hookGo[chain], spec, S, L, LN, want, note)
	}
}

var hookGo = map[string]string{"PREROUTING": "Prerouting", "INPUT": "Input", "FORWARD": "Forward", "OUTPUT": "Output", "POSTROUTING": "Postrouting"}
