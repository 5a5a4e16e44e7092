package match

import (
	"strings"

	"github.com/gofw/gofw/packet"
)

// commentInfo is the comment match (libxt_comment.c, xt_comment.c): it
// always matches and only carries text for people reading the rules.
var commentInfo = &Info{
	Name: "comment",
	Opts: []Opt{
		{Name: "comment", Arg: true},
	},
	New: func() Match { return &Comment{} },
}

// CommentMax is the longest comment the kernel keeps: XT_MAX_COMMENT_LEN
// (256) bytes including the terminating NUL.
const CommentMax = 255

// Comment is one comment match.
type Comment struct {
	Text string

	set bool
}

// Parse implements Match. Longer text is cut to CommentMax bytes without a
// word, as iptables 1.8.9 does when it copies the string into the
// fixed-size kernel structure (xtopt_parse_string).
func (c *Comment) Parse(a *Arg) error {
	c.Text, _ = XtString(a.Value, 0, CommentMax+1)
	c.set = true
	return nil
}

// Final implements Match: --comment is mandatory (XTOPT_MAND).
func (c *Comment) Final(*Rule) error {
	if !c.set {
		return xoMissing("comment", "comment")
	}
	return nil
}

// Save implements Match, quoting as xtables_save_string does.
func (c *Comment) Save(b *strings.Builder) {
	b.WriteString(" --comment ")
	SaveString(b, c.Text)
}

// Print implements Match: the text between C comment marks, unquoted.
func (c *Comment) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" /* " + c.Text + " */")
}

// Match implements Matcher: a comment always matches (xt_comment.c has no
// match function of its own beyond returning true).
//
// Called for every packet; must not allocate.
func (c *Comment) Match(*packet.Packet) bool { return true }
