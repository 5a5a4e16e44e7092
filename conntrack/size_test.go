package conntrack

import (
	"testing"
	"unsafe"
)

// TestConnSize guards the memory budget: a Conn must stay within the
// 192-byte allocation size class (issue #3: ≤ 256 bytes per entry with the
// index at 1 M entries).
func TestConnSize(t *testing.T) {
	if got := unsafe.Sizeof(Conn{}); got > 192 {
		t.Errorf("sizeof(Conn) = %d, want <= 192", got)
	}
	if got := unsafe.Sizeof(Tuple{}); got != 38 {
		t.Errorf("sizeof(Tuple) = %d, want 38", got)
	}
}
