package conntrack

import (
	"sync"
	"sync/atomic"
)

// sink is what entry and expectation subscriptions share: a buffered
// channel that delivery never blocks on, closed once, and a count of what
// a full buffer lost.
type sink[E any] struct {
	// C delivers the events. It is closed by Close.
	C <-chan E

	ch     chan E
	mu     sync.Mutex
	closed bool
	lost   atomic.Uint64
}

func newSink[E any](buf int) sink[E] {
	ch := make(chan E, max(buf, 1))
	return sink[E]{C: ch, ch: ch}
}

// Lost returns how many events could not be delivered because C was full.
func (s *sink[E]) Lost() uint64 { return s.lost.Load() }

// send delivers ev without blocking; false when the buffer is full. A
// closed sink swallows everything.
func (s *sink[E]) send(ev *E) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return true
	}
	select {
	case s.ch <- *ev:
		return true
	default:
		return false
	}
}

func (s *sink[E]) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
}

// addSub and removeSub change a copy-on-write subscriber list under mu, so
// the packet path reads it with one atomic load and no lock.
func addSub[S comparable](mu *sync.Mutex, list *atomic.Pointer[[]S], s S) {
	mu.Lock()
	defer mu.Unlock()
	var l []S
	if p := list.Load(); p != nil {
		l = append(l, *p...)
	}
	l = append(l, s)
	list.Store(&l)
}

func removeSub[S comparable](mu *sync.Mutex, list *atomic.Pointer[[]S], s S) {
	mu.Lock()
	defer mu.Unlock()
	if p := list.Load(); p != nil {
		var l []S
		for _, x := range *p {
			if x != s {
				l = append(l, x)
			}
		}
		list.Store(&l)
	}
}
