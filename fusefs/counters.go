package fusefs

import (
	"sync"
	"sync/atomic"
)

// opCounts counts the calls of each Op on one path; index is the Op.
type opCounts [len(opNames)]atomic.Uint64

// counters holds the call counts by path. A declared node keeps a pointer
// to its path's opCounts, so counting its calls is one atomic add; only
// lookups of paths that do not exist go through the map.
type counters struct {
	mu     sync.Mutex
	byPath map[string]*opCounts
}

// of returns the counts of path p, creating them.
func (c *counters) of(p string) *opCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	oc := c.byPath[p]
	if oc == nil {
		if c.byPath == nil {
			c.byPath = make(map[string]*opCounts)
		}
		oc = new(opCounts)
		c.byPath[p] = oc
	}
	return oc
}

func (c *counters) get(p string, op Op) uint64 {
	if int(op) >= len(opNames) {
		return 0
	}
	c.mu.Lock()
	oc := c.byPath[p]
	c.mu.Unlock()
	if oc == nil {
		return 0
	}
	return oc[op].Load()
}

func (c *counters) snapshot() map[string]map[Op]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]map[Op]uint64)
	for p, oc := range c.byPath {
		for op := range oc {
			if n := oc[op].Load(); n != 0 {
				if out[p] == nil {
					out[p] = make(map[Op]uint64)
				}
				out[p][Op(op)] = n
			}
		}
	}
	return out
}

func (c *counters) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, oc := range c.byPath {
		for op := range oc {
			oc[op].Store(0)
		}
	}
}

// Calls is how many op calls on path reached the server since Mount or the
// last ResetCalls, faulted or not. A path is relative to the mount ("." or
// "" is the root); lookups of names that do not exist count too. Calls the
// kernel answers from its caches never reach the server and are not
// counted: a rule on a node turns caching off for it, so every call counts.
// With KernelOpen no open reaches the server.
func (s *Server) Calls(path string, op Op) uint64 {
	p, err := apiPath("calls", path)
	if err != nil {
		return 0
	}
	return s.counts.get(p, op)
}

// CallCounts returns every non-zero count, by path and operation.
func (s *Server) CallCounts() map[string]map[Op]uint64 { return s.counts.snapshot() }

// ResetCalls sets every count to zero.
func (s *Server) ResetCalls() { s.counts.reset() }
