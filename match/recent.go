package match

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofw/gofw/grammar"
)

// recentInfo is the recent match (libxt_recent.c, xt_recent.c), revision 1
// (struct xt_recent_mtinfo_v1, with --mask): named lists of recently seen
// addresses that rules add to, check, update and remove from.
var recentInfo = &Info{
	Name: "recent",
	Opts: []Opt{
		{Name: "set", Inv: true},
		{Name: "rcheck", Inv: true},
		{Name: "update", Inv: true},
		{Name: "remove", Inv: true},
		{Name: "seconds", Arg: true},
		{Name: "reap"},
		{Name: "hitcount", Arg: true},
		{Name: "rttl"},
		{Name: "name", Arg: true},
		// --rsource and --rdest are both allowed, the last one wins.
		{Name: "rsource"},
		{Name: "rdest"},
		{Name: "mask", Arg: true},
	},
	New: func() Match {
		return &Recent{Name: "DEFAULT", Mask: 0xffffffff, seen: map[string]bool{}}
	},
}

// recentRules is recent_opts_v1 as the generic final check reads it: one
// command only, --reap needs --seconds, --rttl makes no sense with --set or
// --remove.
var recentRules = []XtOptRule{
	{Name: "set", Excl: []string{"rcheck", "update", "remove"}},
	{Name: "rcheck", Excl: []string{"set", "update", "remove"}},
	{Name: "update", Excl: []string{"set", "rcheck", "remove"}},
	{Name: "remove", Excl: []string{"set", "rcheck", "update"}},
	{Name: "reap", Also: []string{"seconds"}},
	{Name: "rttl", Excl: []string{"set", "remove"}},
}

const (
	recentNameSize = 200   // XT_RECENT_NAME_LEN
	recentMaxHits  = 65536 // XT_RECENT_MAX_NSTAMPS: hitcount must stay below
)

// RecentCmd is what a recent rule does with its list (XT_RECENT_SET, ...).
type RecentCmd uint8

// The four commands; a rule has exactly one.
const (
	RecentSet RecentCmd = iota + 1
	RecentCheck
	RecentUpdate
	RecentRemove
)

// Recent is one recent match. Seconds and HitCount of 0 mean "not given";
// Mask (an IPv4 netmask in host byte order, any bits) is applied to the
// address before it is looked up; Dest picks the destination address
// instead of the source (--rdest).
type Recent struct {
	Cmd      RecentCmd
	Inv      bool
	Seconds  uint32
	Reap     bool
	HitCount uint32
	TTL      bool
	Name     string
	Mask     uint32
	Dest     bool

	seen map[string]bool
}

// Parse implements Match.
func (r *Recent) Parse(a *Arg) error {
	r.seen[a.Name] = true
	switch a.Name {
	case "set", "rcheck", "update", "remove":
		r.Cmd = map[string]RecentCmd{"set": RecentSet, "rcheck": RecentCheck, "update": RecentUpdate, "remove": RecentRemove}[a.Name]
		if a.Inv {
			r.Inv = true
		}
	case "seconds":
		v, err := XtParseUint("recent", a.Name, a.Value, 1, 0xffffffff)
		if err != nil {
			return err
		}
		r.Seconds = uint32(v)
	case "reap":
		r.Reap = true
	case "hitcount":
		v, err := XtParseUint("recent", a.Name, a.Value, 0, 0xffffffff)
		if err != nil {
			return err
		}
		r.HitCount = uint32(v)
	case "rttl":
		r.TTL = true
	case "name":
		r.Name, _ = XtString(a.Value, 0, recentNameSize)
	case "rsource":
		r.Dest = false
	case "rdest":
		r.Dest = true
	case "mask":
		m, err := parseHostXt(a.Value)
		if err != nil {
			return err
		}
		r.Mask = binary.BigEndian.Uint32(m.AsSlice())
	}
	return nil
}

// parseHostXt parses an XTTYPE_HOST value for IPv4. iptables asks
// getaddrinfo; gofw takes only the numeric forms getaddrinfo accepts and
// refuses host names with getaddrinfo's words for a name it cannot find,
// rather than depend on name service at load time.
func parseHostXt(s string) (netip.Addr, error) {
	v, ok := XtInetAton(s)
	if !ok {
		if strings.Contains(s, ":") {
			return netip.Addr{}, grammar.ParamNLf("getaddrinfo: Address family for hostname not supported")
		}
		return netip.Addr{}, grammar.ParamNLf("getaddrinfo: Name or service not known")
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// Final implements Match: recent_check, then the generic exclusions.
func (r *Recent) Final(*Rule) error {
	if r.Cmd == 0 {
		return grammar.Paramf("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
	}
	return XtFcheck("recent", recentRules, r.seen)
}

// Check implements Checker with xt_recent's recent_mt_check.
func (r *Recent) Check(*Where) error {
	if (r.Cmd == RecentSet || r.Cmd == RecentRemove) && (r.Seconds != 0 || r.HitCount != 0 || r.TTL || r.Reap) {
		return rlKernelErrf("xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update")
	}
	if r.Reap && r.Seconds == 0 {
		return rlKernelErrf("xt_recent: --reap needs --seconds")
	}
	if r.HitCount >= recentMaxHits {
		return rlKernelErrf("xt_recent: hitcount (%d) is larger than allowed maximum (%d)", r.HitCount, recentMaxHits-1)
	}
	return checkProcName("xt_recent", r.Name, recentNameSize)
}

func recentMaskText(m uint32) string {
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

var recentCmdText = [...]struct{ save, print string }{
	RecentSet:    {" --set", " SET"},
	RecentCheck:  {" --rcheck", " CHECK"},
	RecentUpdate: {" --update", " UPDATE"},
	RecentRemove: {" --remove", " REMOVE"},
}

// Save implements Match as recent_save: the name, mask and side are always
// written, defaults included. The name is printed as is, unquoted.
func (r *Recent) Save(b *strings.Builder) {
	if r.Inv {
		b.WriteString(" !")
	}
	b.WriteString(recentCmdText[r.Cmd].save)
	if r.Seconds != 0 {
		// iptables 1.8.9 prints it with %d: above 2^31-1 it goes negative.
		fmt.Fprintf(b, " --seconds %d", int32(r.Seconds))
	}
	if r.Reap {
		b.WriteString(" --reap")
	}
	if r.HitCount != 0 {
		fmt.Fprintf(b, " --hitcount %d", r.HitCount)
	}
	if r.TTL {
		b.WriteString(" --rttl")
	}
	b.WriteString(" --name " + r.Name + " --mask " + recentMaskText(r.Mask))
	if r.Dest {
		b.WriteString(" --rdest")
	} else {
		b.WriteString(" --rsource")
	}
}

// Print implements Match as recent_print.
func (r *Recent) Print(b *strings.Builder, numeric bool) {
	if r.Inv {
		b.WriteString(" !")
	}
	b.WriteString(" recent:")
	b.WriteString(recentCmdText[r.Cmd].print)
	if r.Seconds != 0 {
		fmt.Fprintf(b, " seconds: %d", int32(r.Seconds))
	}
	if r.Reap {
		b.WriteString(" reap")
	}
	if r.HitCount != 0 {
		fmt.Fprintf(b, " hit_count: %d", r.HitCount)
	}
	if r.TTL {
		b.WriteString(" TTL-Match")
	}
	b.WriteString(" name: " + r.Name)
	if r.Dest {
		b.WriteString(" side: dest")
	} else {
		b.WriteString(" side: source")
	}
	b.WriteString(" mask: " + recentMaskText(r.Mask))
}
