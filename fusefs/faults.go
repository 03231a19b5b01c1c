package fusefs

import (
	"fmt"
	"io/fs"
	"math/rand"
	"slices"
	"sync"
	"syscall"
	"time"
)

// rule is a Fault in force, with its own counters and random generator, so
// After, Times and Probability play out the same way on every run.
type rule struct {
	Fault
	m matcher

	mu    sync.Mutex
	seen  int // matching calls so far
	fired int // calls faulted so far
	rng   *rand.Rand
}

func newRule(f Fault) (*rule, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	m, _ := compileGlob(f.Path)
	return &rule{Fault: f, m: m, rng: rand.New(rand.NewSource(f.Seed))}, nil
}

// ruleFor is newRule for this server. With KernelOpen no OPEN reaches it,
// so a rule on open could never fire, and reads go through the page cache,
// where the kernel takes a short read for the end of the file: both are
// refused.
func (s *Server) ruleFor(f Fault) (*rule, error) {
	r, err := newRule(f)
	if err != nil || !s.opts.KernelOpen {
		return r, err
	}
	var why string
	switch {
	case f.Op == OpOpen:
		why = "opens never reach the server"
	case f.Op == OpRead && f.Short > 0:
		why = "reads go through the page cache, where a short read ends the file"
	default:
		return r, nil
	}
	return nil, &fs.PathError{Op: "fault " + f.Op.String(), Path: f.Path,
		Err: fmt.Errorf("%w: the mount has KernelOpen: %s", ErrInvalidFault, why)}
}

// fire counts one matching call and reports whether to fault it.
func (r *rule) fire() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen++
	if r.seen <= r.After || (r.Times > 0 && r.fired >= r.Times) {
		return false
	}
	if r.Probability > 0 && r.Probability < 1 && r.rng.Float64() >= r.Probability {
		return false
	}
	r.fired++
	return true
}

// ruleSet is the immutable list of rules in force.
type ruleSet struct {
	rules []*rule
}

// nodeRules are the rules that match one path, by operation. A node whose
// nodeRules is nil has no rule and is served from the kernel's caches.
type nodeRules struct {
	byOp     [len(opNames)][]*rule
	readlink bool
}

func (rs *ruleSet) match(p string) *nodeRules {
	if rs == nil {
		return nil
	}
	var nr *nodeRules
	for _, r := range rs.rules {
		if r.m.match(p) {
			if nr == nil {
				nr = new(nodeRules)
			}
			nr.byOp[r.Op] = append(nr.byOp[r.Op], r)
			nr.readlink = nr.readlink || r.Op == OpReadlink
		}
	}
	return nr
}

func (rs *ruleSet) faults() []Fault {
	if rs == nil {
		return nil
	}
	out := make([]Fault, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.Fault
	}
	return out
}

// apply runs the rules for one call in order: each counts the call; a
// firing rule adds its Delay; the first firing rule with an Errno or Short
// decides the outcome and ends the walk. short is 0 for "no limit".
func (s *Server) apply(rules []*rule) (errno syscall.Errno, short int) {
	var delay time.Duration
	for _, r := range rules {
		if !r.fire() {
			continue
		}
		delay += r.Delay
		if r.Errno != 0 || r.Short > 0 {
			errno, short = r.Errno, r.Short
			break
		}
	}
	if delay > 0 {
		// Not cut short by signals: Go callers are interrupted all the
		// time (SIGURG) and should see the delay, not EINTR. Close does
		// cut it short, so a slow rule never holds up an unmount.
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.closing:
			t.Stop()
		}
	}
	return errno, short
}

// check counts one op call on e and applies its rules. Nearly free for a
// node without rules: one atomic add and one atomic load.
func (s *Server) check(e *entry, op Op) (syscall.Errno, int) {
	e.calls[op].Add(1)
	nr := e.rules.Load()
	if nr == nil || len(nr.byOp[op]) == 0 {
		return 0, 0
	}
	return s.apply(nr.byOp[op])
}

// AddFault adds a rule after the ones in force; its counters start at zero.
// Nodes it matches stop being served from the kernel's caches at once.
func (s *Server) AddFault(f Fault) error {
	r, err := s.ruleFor(f)
	if err != nil {
		return err
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	var rules []*rule
	if rs := s.rules.Load(); rs != nil {
		rules = slices.Clone(rs.rules)
	}
	s.install(&ruleSet{rules: append(rules, r)})
	return nil
}

// SetFaults replaces every rule; counters of the new rules start at zero.
// An invalid rule leaves the rules in force unchanged.
func (s *Server) SetFaults(faults []Fault) error {
	rules := make([]*rule, 0, len(faults))
	for _, f := range faults {
		r, err := s.ruleFor(f)
		if err != nil {
			return err
		}
		rules = append(rules, r)
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.install(&ruleSet{rules: rules})
	return nil
}

// ClearFaults removes every rule.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.install(&ruleSet{})
}

// Faults returns the rules in force, in order.
func (s *Server) Faults() []Fault { return s.rules.Load().faults() }

// install puts rs in force: every node's rules are recomputed under the
// tree lock (so a concurrent Set sees either the old or the new rules), and
// nodes and missing names that a rule now keeps out of the caches are
// dropped from them. Callers hold faultMu.
func (s *Server) install(rs *ruleSet) {
	var stale []*entry
	s.idx.mu.Lock()
	s.rules.Store(rs)
	s.anyRules.Store(len(rs.rules) > 0)
	s.idx.walk(func(e *entry) {
		old, nr := e.rules.Load(), rs.match(e.path)
		was := s.uncached(e)
		e.rules.Store(nr)
		e.failed.forget()
		if !was && s.uncached(e) || nr != nil && nr.readlink && (old == nil || !old.readlink) {
			stale = append(stale, e)
		}
	})
	s.idx.mu.Unlock()

	for _, p := range s.neg.take(func(p string) bool { return rs.match(p) != nil }) {
		s.invalidateEntry(p)
	}
	for _, e := range stale {
		s.invalidateEntry(e.path)
		s.invalidateNode(e.path, true)
	}
}
