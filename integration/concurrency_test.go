package integration_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// sharedOp is one call on the shared source. It returns the call's error
// and, when the call succeeded, what is wrong with its result ("" if
// nothing); faults lists the codes a fault rule in force may cause.
type sharedOp struct {
	name   string
	call   func() (err error, bad string)
	faults []pmem2.Code
}

// race is one run of TestConcurrentUse: workers calling ops in a loop on
// one source while the test flips fault rules and then deletes it.
type race struct {
	t       *testing.T
	src     *pmem2.Source
	ops     []sharedOp
	faults  [][]emulate.Fault // each set is installed in turn
	fixture *emulate.Fixture

	okCalls, faulted atomic.Int64
	deleting         atomic.Bool // Delete has been called
	deleted          atomic.Bool // Delete has returned
	stop             atomic.Bool
	problems         atomic.Int64
}

const workers = 8

func (r *race) report(format string, args ...any) {
	if r.problems.Add(1) <= 20 {
		r.t.Errorf(format, args...)
	}
}

// work calls every op in turn until stopped; it marks saw once a call
// begun after Delete returned has failed with ErrDeleted.
func (r *race) work(saw *atomic.Bool) {
	for !r.stop.Load() {
		for _, o := range r.ops {
			after := r.deleted.Load()
			err, bad := o.call()
			code := pmem2.Code(pmem2.CodeOf(err))
			switch {
			case err == nil && bad != "":
				r.report("%s: %s", o.name, bad)
			case err == nil:
				if after {
					r.report("%s succeeded although it began after Delete returned", o.name)
				}
				r.okCalls.Add(1)
			case errors.Is(err, pmem2.ErrDeleted):
				if code != pmem2.ErrInvalidFileHandle {
					r.report("%s: deleted, but code %d: %v", o.name, code, err)
				}
				if !r.deleting.Load() {
					r.report("%s failed with ErrDeleted before Delete was called: %v", o.name, err)
				}
				if after {
					saw.Store(true)
				}
			case contains(o.faults, code):
				if after {
					r.report("%s reached the file system although it began after Delete returned: %v", o.name, err)
				}
				r.faulted.Add(1)
			default:
				r.report("%s: unexpected error %v (code %d)", o.name, err, code)
			}
		}
	}
}

func contains(codes []pmem2.Code, c pmem2.Code) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// waitFor polls until counter exceeds from by more than one call per
// worker (so that several goroutines crossed the state), failing the test after 20s.
func (r *race) waitFor(what string, counter *atomic.Int64, from int64) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for counter.Load() <= from+workers {
		if time.Now().After(deadline) {
			r.t.Fatalf("no %s within 20s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *race) run() {
	t := r.t
	saw := make([]atomic.Bool, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); r.work(&saw[i]) }()
	}
	defer func() { r.stop.Store(true); wg.Wait() }()

	// Flip the faults: each set must be seen by some call, and so must
	// its removal, so the run is sure to have crossed every state.
	for round := range 2 {
		for i, set := range r.faults {
			require.NoError(t, r.fixture.SetFaults(set))
			r.waitFor(fmt.Sprintf("faulted call under fault set %d (round %d)", i, round), &r.faulted, r.faulted.Load())
			r.fixture.ClearFaults()
			r.waitFor(fmt.Sprintf("successful call after clearing fault set %d", i), &r.okCalls, r.okCalls.Load())
		}
	}
	// Delete while the workers run, with a fault in force so that calls
	// are failing inside the file system as it happens.
	require.NoError(t, r.fixture.SetFaults(r.faults[0]))
	r.deleting.Store(true)
	require.NoError(t, r.src.Delete())
	r.deleted.Store(true)
	deadline := time.Now().Add(20 * time.Second)
	for i := range saw {
		for !saw[i].Load() {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d saw no ErrDeleted within 20s after Delete", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	r.stop.Store(true)
	wg.Wait()
	t.Logf("%d successful and %d faulted calls before Delete", r.okCalls.Load(), r.faulted.Load())
}

// TestConcurrentUse shares one Source between goroutines calling every
// method while fault rules flip and a Delete races them, under -race:
// every call returns the right value, the fault's code, or (once Delete has
// begun) ErrDeleted, and nothing reaches the file system after Delete.
func TestConcurrentUse(t *testing.T) {
	t.Run("a Device DAX source shared by many goroutines while faults flip and a Delete races", func(t *testing.T) {
		f := startDevice(t, deviceSpec())
		src, fd := newSource(t, f, "dev/dax0.0", rdwr)
		dev := devDir(t, f, "sys/dev/char/1:5")
		// Faults on what the calls read: the device's size (libdaxctl
		// then leaves the device out: not found), the nd_dax's align
		// (unreadable: 0) and the descriptor's node (Size's fstat, and
		// the /dev node libdaxctl stats).
		sizeFaults := []pmem2.Code{-5, pmem2.ErrDAXRegionNotFound}
		alignFaults := []pmem2.Code{pmem2.ErrInvalidAlignmentValue, pmem2.ErrInvalidAlignmentFormat}
		value := func(name string, got, want uint64) string {
			if got != want {
				return fmt.Sprintf("%s = %d, want %d", name, got, want)
			}
			return ""
		}
		r := &race{t: t, src: src, fixture: f,
			faults: [][]emulate.Fault{
				{{Path: dev + "/size", Op: fusefs.OpRead, Errno: syscall.EIO}},
				{{Path: pathDir(dev) + "/align", Op: fusefs.OpRead, Errno: syscall.EIO}},
				{{Path: "dev/dax0.0", Op: fusefs.OpGetattr, Errno: syscall.EIO}},
			},
			ops: []sharedOp{
				{name: "Size", faults: sizeFaults, call: func() (error, string) {
					v, err := src.Size()
					return err, value("Size", v, 16*mib)
				}},
				{name: "Alignment", faults: alignFaults, call: func() (error, string) {
					v, err := src.Alignment()
					return err, value("Alignment", v, 2*mib)
				}},
				{name: "ReadAt", faults: append(sizeFaults, alignFaults...), call: func() (error, string) {
					p := filled(64, 0xAA)
					n, err := src.ReadAt(p, 0)
					if err == nil && (n != 64 || !bytes.Equal(p, filled(64, 0))) {
						return nil, fmt.Sprintf("ReadAt = %d, %x; want 64 zeros", n, p)
					}
					return err, ""
				}},
				{name: "FD", call: func() (error, string) {
					got, err := src.FD()
					return err, value("FD", uint64(got), uint64(fd))
				}},
				{name: "Type", call: typeOp(src, pmem2.FileTypeDevDAX)},
			},
		}
		r.run()
	})

	t.Run("a regular source shared by many goroutines while faults flip and a Delete races", func(t *testing.T) {
		f := start(t, nil)
		src, fd := newSource(t, f, "data/small", rdwr)
		content := []byte("hello, pmem\n")
		r := &race{t: t, src: src, fixture: f,
			faults: [][]emulate.Fault{
				{{Path: "data/small", Op: fusefs.OpGetattr, Errno: syscall.EIO}},
				{{Path: "data/small", Op: fusefs.OpRead, Errno: syscall.EIO}},
				{{Path: "data/small", Op: fusefs.OpWrite, Errno: syscall.EACCES}},
				{{Path: "data/small", Op: fusefs.OpRead, Short: 5}, {Path: "data/small", Op: fusefs.OpWrite, Short: 3},
					{Path: "data/small", Op: fusefs.OpGetattr, Errno: syscall.EIO, Probability: 0.5, Seed: 1}},
			},
			ops: []sharedOp{
				{name: "Size", faults: []pmem2.Code{-5}, call: func() (error, string) {
					v, err := src.Size()
					if v != 12 && err == nil {
						return nil, fmt.Sprintf("Size = %d, want 12", v)
					}
					return err, ""
				}},
				{name: "Alignment", call: func() (error, string) {
					v, err := src.Alignment()
					if v != page && err == nil {
						return nil, fmt.Sprintf("Alignment = %d, want %d", v, page)
					}
					return err, ""
				}},
				{name: "ReadAt", faults: []pmem2.Code{-5, pmem2.ErrIOFail}, call: func() (error, string) {
					p := make([]byte, 12)
					n, err := src.ReadAt(p, 0)
					if err == nil && (n != 12 || !bytes.Equal(p, content)) {
						return nil, fmt.Sprintf("ReadAt = %d, %q; want %q", n, p, content)
					}
					return err, ""
				}},
				{name: "WriteAt", faults: []pmem2.Code{-5, -13}, call: func() (error, string) {
					n, err := src.WriteAt(content, 0)
					if err == nil && n != 12 {
						return nil, fmt.Sprintf("WriteAt = %d, want 12", n)
					}
					return err, ""
				}},
				{name: "FD", call: func() (error, string) {
					got, err := src.FD()
					if err == nil && got != fd {
						return nil, fmt.Sprintf("FD = %d, want %d", got, fd)
					}
					return err, ""
				}},
				{name: "Type", call: typeOp(src, pmem2.FileTypeRegular)},
			},
		}
		r.run()
		f.ClearFaults()
		if node, _ := f.Server().Node("data/small"); !bytes.Equal(node.Data, content) {
			t.Errorf("the file holds %q after the race, want %q", node.Data, content)
		}
	})
}

// typeOp checks Type: the source's type while it lives, unknown (reported
// as ErrDeleted) once deleted.
func typeOp(src *pmem2.Source, want pmem2.FileType) func() (error, string) {
	return func() (error, string) {
		switch got := src.Type(); got {
		case want:
			return nil, ""
		case pmem2.FileTypeUnknown:
			return fmt.Errorf("Type: %w", &pmem2.Error{Func: "Type", Code: pmem2.ErrInvalidFileHandle, Err: pmem2.ErrDeleted}), ""
		default:
			return nil, fmt.Sprintf("Type = %v, want %v", got, want)
		}
	}
}
