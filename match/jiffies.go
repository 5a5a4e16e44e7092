package match

// The stateful matches (limit, hashlimit, recent, connlimit) count time as
// the kernel does, in jiffies, so that their arithmetic, rounding and
// overflow behave as in xt_limit.c, xt_hashlimit.c and xt_recent.c. gofw
// runs them on a virtual 1000 Hz clock derived from the packet's p.Now: the
// finest HZ a kernel is built with, and the one whose CREDITS_PER_JIFFY
// products (32000 credits a second for limit, 2^37*1000 for hashlimit)
// match the rate constants of values_ratelim.go.

// hz is the virtual kernel's HZ.
const hz = 1000

// nsPerJiffy is the length of one jiffy in p.Now units (nanoseconds).
const nsPerJiffy = 1e9 / hz

// jiffies converts an engine clock value (p.Now, nanoseconds) to jiffies.
// The kernel's counter is an unsigned long that wraps; gofw's starts at the
// engine clock's zero and is compared with timeAfter, so a wrap (after
// 584 million years) would still compare right.
func jiffies(now int64) uint64 { return uint64(now) / nsPerJiffy }

// timeAfter is the kernel's time_after(a, b): a is later than b, in the
// wrapping arithmetic of jiffies.
func timeAfter(a, b uint64) bool { return int64(b-a) < 0 }

// msecsToJiffies is msecs_to_jiffies for the virtual 1000 Hz clock.
func msecsToJiffies(ms uint32) uint64 { return uint64(ms) * hz / 1000 }
