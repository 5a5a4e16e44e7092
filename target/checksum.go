package target

import (
	"strings"

	"github.com/gofw/gofw/match"
)

// checksumInfo is the CHECKSUM target (libxt_CHECKSUM.c, xt_CHECKSUM.c):
// compute the checksum of a packet whose checksum was left to offloading
// (old DHCP clients drop such packets from virtual bridges). The kernel
// allows it in the mangle table only.
var checksumInfo = &Info{
	Name:  "CHECKSUM",
	Opts:  []match.Opt{{Name: "checksum-fill"}},
	New:   func() Target { return &Checksum{} },
	Table: "mangle",
}

// Checksum is one CHECKSUM target.
type Checksum struct {
	Fill bool // XT_CHECKSUM_OP_FILL, the only operation there is
}

// Parse implements Target.
func (t *Checksum) Parse(a *match.Arg) error {
	t.Fill = true
	return nil
}

// Final implements Target: --checksum-fill is mandatory (XTOPT_MAND).
func (t *Checksum) Final(*match.Rule) error {
	return match.XtFcheck("CHECKSUM", []match.XtOptRule{{Name: "checksum-fill", Mand: true}}, given{"checksum-fill": t.Fill})
}

// Save implements Target.
func (t *Checksum) Save(b *strings.Builder) { b.WriteString(" --checksum-fill") }

// Print implements Target.
func (t *Checksum) Print(b *strings.Builder, numeric bool) { b.WriteString(" CHECKSUM fill") }
