package match

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// ownerInfo is the owner match (libxt_owner.c, xt_owner.c), revision 1
// (struct xt_owner_match_info): the socket that sent a locally generated
// packet and its owner. Only locally generated packets have a socket, so
// the kernel allows it from OUTPUT and POSTROUTING only.
var ownerInfo = &Info{
	Name: "owner",
	Opts: []Opt{
		{Name: "uid-owner", Arg: true, Inv: true},
		{Name: "gid-owner", Arg: true, Inv: true},
		{Name: "socket-exists", Inv: true},
		{Name: "suppl-groups"},
	},
	New:   func() Match { return &Owner{} },
	Hooks: packet.Output.Mask() | packet.Postrouting.Mask(),
}

// Owner is one owner match. Each test is on when its flag is set (UID, GID,
// Socket: XT_OWNER_*) and negated on its own; IDs match in [Min, Max].
// SupplGroups extends the GID test to the supplementary groups of the
// socket's credentials.
type Owner struct {
	UID, GID, Socket          bool
	InvUID, InvGID, InvSocket bool
	SupplGroups               bool
	UIDMin, UIDMax            uint32
	GIDMin, GIDMax            uint32
}

// ownerMaxID: -1 (4294967295) is the invalid ID, so the largest one is
// one less, as libxt_owner says.
const ownerMaxID = 0xfffffffe

// parseOwnerRange is owner_parse_range: "N", "N-M" or "N:M".
func parseOwnerRange(opt, s string) (lo, hi uint32, err error) {
	v, rest, ok := XtStrtoul(s, 0, ownerMaxID)
	if !ok {
		return 0, 0, XtBadValue("owner", opt, s)
	}
	w := v
	if rest != "" && (rest[0] == '-' || rest[0] == ':') {
		if w, rest, ok = XtStrtoul(rest[1:], 0, ownerMaxID); !ok {
			return 0, 0, XtBadValue("owner", opt, s)
		}
	}
	if rest != "" {
		return 0, 0, XtBadValue("owner", opt, s)
	}
	return uint32(v), uint32(w), nil
}

// ownerID resolves a user or group as libxt_owner does: a name known to
// the passwd (group) database first, else a number or range.
func ownerID(opt, s string) (lo, hi uint32, err error) {
	var id string
	if opt == "uid-owner" {
		if u, e := user.Lookup(s); e == nil {
			id = u.Uid
		}
	} else if g, e := user.LookupGroup(s); e == nil {
		id = g.Gid
	}
	if id != "" {
		if n, e := strconv.ParseUint(id, 10, 32); e == nil {
			return uint32(n), uint32(n), nil
		}
	}
	return parseOwnerRange(opt, s)
}

// Parse implements Match.
func (o *Owner) Parse(a *Arg) error {
	switch a.Name {
	case "uid-owner":
		lo, hi, err := ownerID(a.Name, a.Value)
		if err != nil {
			return err
		}
		o.UID, o.InvUID, o.UIDMin, o.UIDMax = true, a.Inv, lo, hi
	case "gid-owner":
		lo, hi, err := ownerID(a.Name, a.Value)
		if err != nil {
			return err
		}
		o.GID, o.InvGID, o.GIDMin, o.GIDMax = true, a.Inv, lo, hi
	case "socket-exists":
		o.Socket, o.InvSocket = true, a.Inv
	case "suppl-groups":
		if !o.GID {
			return XtBadValue("owner", a.Name, "you need to use --gid-owner first")
		}
		o.SupplGroups = true
	}
	return nil
}

// Final implements Match.
func (o *Owner) Final(*Rule) error {
	if !o.UID && !o.GID && !o.Socket {
		return grammar.Paramf("owner: At least one of --uid-owner, --gid-owner or --socket-exists is required")
	}
	return nil
}

// Check implements Checker with xt_owner's owner_check, which refuses a
// descending range without logging why. (The hook restriction is in
// ownerInfo.Hooks, checked generically.)
func (o *Owner) Check(*Where) error {
	if o.UID && o.UIDMax < o.UIDMin {
		return rlKernelErrf("xt_owner: UID range %d-%d is descending", o.UIDMin, o.UIDMax)
	}
	if o.GID && o.GIDMax < o.GIDMin {
		return rlKernelErrf("xt_owner: GID range %d-%d is descending", o.GIDMin, o.GIDMax)
	}
	return nil
}

// printOwnerID is owner_mt_print_item's ID part: a range as numbers, a
// single ID by name unless numeric.
func printOwnerID(b *strings.Builder, lo, hi uint32, group, numeric bool) {
	if lo != hi {
		fmt.Fprintf(b, " %d-%d", lo, hi)
		return
	}
	id := strconv.FormatUint(uint64(lo), 10)
	if !numeric {
		if group {
			if g, err := user.LookupGroupId(id); err == nil {
				b.WriteString(" " + g.Name)
				return
			}
		} else if u, err := user.LookupId(id); err == nil {
			b.WriteString(" " + u.Username)
			return
		}
	}
	b.WriteString(" " + id)
}

// items appends the tests in owner_mt_print's order with the given labels.
func (o *Owner) items(b *strings.Builder, numeric bool, sock, uid, gid, suppl string) {
	if o.Socket {
		if o.InvSocket {
			b.WriteString(" !")
		}
		b.WriteString(" " + sock)
	}
	if o.UID {
		if o.InvUID {
			b.WriteString(" !")
		}
		b.WriteString(" " + uid)
		printOwnerID(b, o.UIDMin, o.UIDMax, false, numeric)
	}
	if o.GID {
		if o.InvGID {
			b.WriteString(" !")
		}
		b.WriteString(" " + gid)
		printOwnerID(b, o.GIDMin, o.GIDMax, true, numeric)
	}
	if o.SupplGroups {
		b.WriteString(" " + suppl)
	}
}

// Save implements Match; IDs are saved as numbers.
func (o *Owner) Save(b *strings.Builder) {
	o.items(b, true, "--socket-exists", "--uid-owner", "--gid-owner", "--suppl-groups")
}

// Print implements Match: "owner UID match root".
func (o *Owner) Print(b *strings.Builder, numeric bool) {
	o.items(b, numeric, "owner socket exists", "owner UID match", "owner GID match", "incl. suppl. groups")
}

// Bind implements Binder: it refuses --suppl-groups, which needs the
// supplementary groups of the sending socket's credentials. The kernel
// reads them from the socket's file; NFQUEUE hands user space the socket's
// uid and gid only (NFQA_UID, NFQA_GID), so gofw cannot know them.
func (o *Owner) Bind(*Env) error {
	if o.SupplGroups {
		return fmt.Errorf("--suppl-groups needs the supplementary groups of the sending socket, which gofw does not get from the kernel (only its uid and gid); use --gid-owner without it")
	}
	return nil
}

// Match implements Matcher as xt_owner.c owner_mt does. Without a known
// owner the match is true exactly when every given test is negated
// ((match ^ invert) == 0), so "! --socket-exists" matches a forwarded
// packet. With one, "! --socket-exists" fails and the uid and gid ranges
// (the socket's fsuid and fsgid) are tested, each negated on its own.
// gofw learns the owner from NFQUEUE, which reports it only for a socket
// that has a file, so a socket without one (a kernel socket, a closing
// one) counts as no socket here, where the kernel would let
// --socket-exists pass and the uid and gid tests fail.
//
// Called for every packet; must not allocate.
func (o *Owner) Match(p *packet.Packet) bool {
	if !p.HasOwner {
		return (!o.UID || o.InvUID) && (!o.GID || o.InvGID) && (!o.Socket || o.InvSocket)
	}
	if o.Socket && o.InvSocket {
		return false
	}
	if o.UID && (p.UID >= o.UIDMin && p.UID <= o.UIDMax) == o.InvUID {
		return false
	}
	if o.GID && (p.GID >= o.GIDMin && p.GID <= o.GIDMax) == o.InvGID {
		return false
	}
	return true
}
