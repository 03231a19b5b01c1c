package stress_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

var duration = flag.Duration("stress.duration", 5*time.Second, "how long TestStress's workers run")

const workers = 64

// spec is the fixture under load: a Device DAX backed by /dev/zero (so it
// may be mounted in device mode, and ReadAt maps real memory) and a small
// regular file.
func spec() *emulate.Spec {
	return &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 1, Minor: 5, Size: 16 << 20, Align: 2 << 20}},
		Nodes:      []emulate.Node{{Path: "data/small", Type: fusefs.TypeFile, Content: fileData}},
	}
}

// load is one run: the fixture, its descriptors and shared sources, the
// paths the flipper changes, and the counters.
type load struct {
	t         *testing.T
	f         *emulate.Fixture
	sysfs     pmem2.Option
	daxFD     int
	fileFD    int
	daxSrc    *pmem2.Source
	fileSrc   *pmem2.Source
	sizeFile  string
	alignFile string
	rules     [numRules]emulate.Fault
	log       stateLog

	stop       atomic.Bool
	unexpected atomic.Int64
	straddled  atomic.Int64 // calls during which the state changed
	flips      atomic.Int64
}

// opStats counts one worker's calls of one op.
type opStats struct {
	calls, ok int64
	codes     map[pmem2.Code]int64
}

func TestStress(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("TestStress mounts its fixture in device mode, which needs root: run it as root (sudo make stress)")
	}
	if *duration <= 0 {
		t.Fatalf("-stress.duration=%v: give a positive duration", *duration)
	}
	base := t.TempDir()

	// Warm up once, so descriptors and goroutines the runtime and the
	// packages make on first use (the poller, caches) exist before the
	// baseline is taken.
	warmDir := filepath.Join(base, "warm-up")
	require.NoError(t, os.Mkdir(warmDir, 0o755))
	warm, err := emulate.Mount(warmDir, spec(), emulate.WithDeviceMode())
	require.NoError(t, err)
	warmUp(t, warm)
	require.NoError(t, warm.Close())

	before := takeResources(t)
	dir := filepath.Join(base, "fixture")
	require.NoError(t, os.Mkdir(dir, 0o755))
	l := newLoad(t, dir)
	func() {
		defer l.close()
		l.calibrate()
		if t.Failed() {
			t.Fatal("the oracle disagrees with the library in quiescent states: fix expect (or the library) before loading")
		}
		l.run()
	}()
	checkReturned(t, before, dir, true)
}

// warmUp makes one call of each kind on f.
func warmUp(t *testing.T, f *emulate.Fixture) {
	for _, rel := range []string{"dev/dax0.0", "data/small"} {
		fd, err := unix.Open(f.Path(rel), unix.O_RDWR|unix.O_CLOEXEC, 0)
		require.NoError(t, err)
		src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
		require.NoError(t, err)
		_, _ = src.Size()
		_, _ = src.Alignment()
		_, _ = src.ReadAt(make([]byte, 12), 0)
		src.Delete()
		unix.Close(fd)
	}
}

func newLoad(t *testing.T, dir string) *load {
	f, err := emulate.Mount(dir, spec(), emulate.WithDeviceMode())
	require.NoError(t, err)
	l := &load{t: t, f: f, sysfs: pmem2.WithSysfsRoot(f.Sysfs()), daxFD: -1, fileFD: -1}
	defer func() {
		if t.Failed() {
			l.close()
		}
	}()
	real, err := filepath.EvalSymlinks(f.Path("sys/dev/char/1:5"))
	require.NoError(t, err)
	devDir, err := filepath.Rel(f.Root(), real)
	require.NoError(t, err)
	devDir = filepath.ToSlash(devDir)
	l.sizeFile = path.Dir(devDir) + "/size"
	l.alignFile = path.Dir(devDir) + "/align"
	l.rules = [numRules]emulate.Fault{
		ruleDevGetattr:  {Path: "dev/dax0.0", Op: fusefs.OpGetattr, Errno: syscall.EIO},
		ruleSubsystem:   {Path: devDir + "/subsystem", Op: fusefs.OpReadlink, Errno: syscall.EIO},
		ruleSizeRead:    {Path: l.sizeFile, Op: fusefs.OpRead, Errno: syscall.EIO},
		ruleAlignRead:   {Path: l.alignFile, Op: fusefs.OpRead, Errno: syscall.EIO},
		ruleFileGetattr: {Path: "data/small", Op: fusefs.OpGetattr, Errno: syscall.EIO},
		ruleFileRead:    {Path: "data/small", Op: fusefs.OpRead, Errno: syscall.EIO},
	}
	l.daxFD, err = unix.Open(f.Path("dev/dax0.0"), unix.O_RDWR|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	l.fileFD, err = unix.Open(f.Path("data/small"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	l.daxSrc, err = pmem2.SourceFromFD(l.daxFD, l.sysfs)
	require.NoError(t, err)
	l.fileSrc, err = pmem2.SourceFromFD(l.fileFD, l.sysfs)
	require.NoError(t, err)
	l.set(state{what: "start"})
	return l
}

// close gives everything back: sources, descriptors, the mount.
func (l *load) close() {
	l.daxSrc.Delete()
	l.fileSrc.Delete()
	for _, fd := range []int{l.daxFD, l.fileFD} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	l.daxFD, l.fileFD = -1, -1
	if err := l.f.Close(); err != nil {
		l.t.Errorf("unmounting the fixture: %v", err)
	}
}

func (l *load) rulesOf(m mask) []emulate.Fault {
	var out []emulate.Fault
	for r := range numRules {
		if m.has(r) {
			out = append(out, l.rules[r])
		}
	}
	return out
}

// set puts the fixture in state s in one go (for calibration and the
// start, with no workers running) and logs it.
func (l *load) set(s state) {
	l.log.begin(s)
	require.NoError(l.t, l.f.SetFaults(l.rulesOf(s.faults)))
	require.NoError(l.t, l.f.WriteFile(l.sizeFile, []byte(sizes[s.size].text)))
	require.NoError(l.t, l.f.WriteFile(l.alignFile, []byte(aligns[s.align].text)))
	l.log.end()
}

// calibrate checks expect against the library in quiescent states: every
// subset of the rules, every size and every alignment content.
func (l *load) calibrate() {
	var states []state
	for m := range mask(1 << numRules) {
		states = append(states, state{faults: m})
	}
	for si := range sizes {
		states = append(states, state{size: si})
	}
	for ai := range aligns {
		states = append(states, state{align: ai})
	}
	w := l.newWorker(0)
	for _, s := range states {
		l.set(s)
		for o := range numOps {
			got, bad := w.call(o)
			want := expect(o, withDevNode(s.faults), s.size, s.align)
			if bad != "" || got != want {
				l.t.Errorf("quiescent state faults {%s} size %q align %q: %v gave %v%s, expect says %v",
					l.describe(s.faults), sizes[s.size].text, aligns[s.align].text, o, got, bad, want)
			}
		}
	}
	l.set(state{what: "calibrated"})
}

func (l *load) describe(m mask) string {
	var names []string
	for r := range numRules {
		if m.has(r) {
			names = append(names, r.String())
		}
	}
	return strings.Join(names, ", ")
}

// worker is one goroutine's buffers and counters.
type worker struct {
	l       *load
	rng     *rand.Rand
	daxBuf  []byte
	fileBuf []byte
	stats   [numOps]opStats
}

func (l *load) newWorker(seed uint64) *worker {
	w := &worker{l: l, rng: rand.New(rand.NewPCG(seed, 0x5eed)), daxBuf: make([]byte, daxReadLen),
		fileBuf: make([]byte, len(fileData))}
	for i := range w.stats {
		w.stats[i].codes = map[pmem2.Code]int64{}
	}
	return w
}

// call makes one call of op o and returns its result, or what is wrong with
// it beyond its code and value (a panic, an error of another type, wrong
// bytes).
func (w *worker) call(o op) (r result, bad string) {
	defer func() {
		if p := recover(); p != nil {
			bad = fmt.Sprintf(" (panic: %v)", p)
		}
	}()
	l := w.l
	var val uint64
	var err error
	switch o {
	case daxFromFD, fileFromFD:
		fd := l.daxFD
		if o == fileFromFD {
			fd = l.fileFD
		}
		var src *pmem2.Source
		if src, err = pmem2.SourceFromFD(fd, l.sysfs); err == nil {
			val = uint64(src.Type())
			src.Delete()
		}
	case daxSize:
		val, err = l.daxSrc.Size()
	case fileSize:
		val, err = l.fileSrc.Size()
	case daxAlign:
		val, err = l.daxSrc.Alignment()
	case fileAlign:
		val, err = l.fileSrc.Alignment()
	case daxRead:
		for i := range w.daxBuf {
			w.daxBuf[i] = 0xa5
		}
		var n int
		n, err = l.daxSrc.ReadAt(w.daxBuf, 0)
		val = uint64(n)
		if err == nil && strings.Trim(string(w.daxBuf), "\x00") != "" {
			bad = " (the bytes read from /dev/zero are not all zero)"
		}
	case fileRead:
		clear(w.fileBuf)
		var n int
		n, err = l.fileSrc.ReadAt(w.fileBuf, 0)
		val = uint64(n)
		if err == nil && string(w.fileBuf[:n]) != fileData[:n] {
			bad = fmt.Sprintf(" (read %q)", w.fileBuf[:n])
		}
	}
	if err != nil {
		var pe *pmem2.Error
		if !errors.As(err, &pe) {
			bad += fmt.Sprintf(" (error %T is not a *pmem2.Error: %v)", err, err)
		}
		return result{code: pmem2.Code(pmem2.CodeOf(err))}, bad
	}
	return result{val: val}, bad
}

// loop calls random ops until stopped, holding each result to the states
// in force during the call.
func (w *worker) loop() {
	l := w.l
	for !l.stop.Load() {
		o := op(w.rng.IntN(int(numOps)))
		lo := l.log.finished.Load()
		got, bad := w.call(o)
		hi := l.log.started.Load()
		st := &w.stats[o]
		st.calls++
		if got.code == 0 {
			st.ok++
		} else {
			st.codes[got.code]++
		}
		if hi > lo {
			l.straddled.Add(1)
		}
		sp := l.log.span(lo, hi)
		if bad == "" && sp.allows(o, got) {
			continue
		}
		if l.unexpected.Add(1) <= 20 {
			l.t.Errorf("unexpected result: %v gave %v%s during states %d…%d (%s), which allow only {%s}",
				o, got, bad, lo, hi, l.log.changes(lo, hi), strings.Join(sp.allowed(o), ", "))
		}
	}
}

// flip makes one random change and logs it.
func (l *load) flip(rng *rand.Rand) error {
	next := l.log.current()
	var apply func() error
	switch rng.IntN(5) {
	case 0:
		next.faults, next.what = 0, "ClearFaults"
		apply = func() error { l.f.ClearFaults(); return nil }
	case 1:
		r := rule(rng.IntN(int(numRules)))
		next.faults |= 1 << r
		next.what = "AddFault " + r.String()
		apply = func() error { return l.f.AddFault(l.rules[r]) }
	case 2:
		m := mask(rng.IntN(1 << numRules))
		next.faults, next.what = m, "SetFaults {"+l.describe(m)+"}"
		apply = func() error { return l.f.SetFaults(l.rulesOf(m)) }
	case 3:
		next.size = pick(rng, len(sizes))
		next.what = fmt.Sprintf("size %q", sizes[next.size].text)
		apply = func() error { return l.f.WriteFile(l.sizeFile, []byte(sizes[next.size].text)) }
	default:
		next.align = pick(rng, len(aligns))
		next.what = fmt.Sprintf("align %q", aligns[next.align].text)
		apply = func() error { return l.f.WriteFile(l.alignFile, []byte(aligns[next.align].text)) }
	}
	l.log.begin(next)
	err := apply()
	l.log.end()
	l.flips.Add(1)
	if err != nil {
		return fmt.Errorf("%s: %w", next.what, err)
	}
	return nil
}

// pick chooses a content index, one of the three valid ones (listed
// first) half of the time, so that calls succeed often enough to count.
func pick(rng *rand.Rand, n int) int {
	if rng.IntN(2) == 0 {
		return rng.IntN(3)
	}
	return rng.IntN(n)
}

func (l *load) run() {
	t := l.t
	ws := make([]*worker, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		ws[i] = l.newWorker(uint64(i + 1))
		wg.Add(1)
		go func() { defer wg.Done(); ws[i].loop() }()
	}
	flipDone := make(chan struct{})
	go func() {
		defer close(flipDone)
		rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), 1))
		for !l.stop.Load() {
			if err := l.flip(rng); err != nil {
				t.Errorf("the flipper's change failed: %v", err)
			}
			// Mostly quick changes, so calls see them happen; now and
			// then a still state, so that many calls run in one state
			// and are held to exactly one result.
			if rng.IntN(4) == 0 {
				time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
			} else {
				time.Sleep(time.Duration(rng.IntN(1000)) * time.Microsecond)
			}
		}
	}()
	time.Sleep(*duration)
	l.stop.Store(true)
	wg.Wait()
	<-flipDone
	elapsed := time.Since(start)

	var total [numOps]opStats
	var calls int64
	for o := range numOps {
		total[o].codes = map[pmem2.Code]int64{}
		for _, w := range ws {
			s := w.stats[o]
			total[o].calls += s.calls
			total[o].ok += s.ok
			for c, n := range s.codes {
				total[o].codes[c] += n
			}
		}
		calls += total[o].calls
	}
	unexpected := l.unexpected.Load()
	straddled := l.straddled.Load()
	t.Logf("stress: %d goroutines for %v (-race: %v): %d calls, %.0f calls/s; %d changes of the fixture (%.0f/s); "+
		"%d calls ran in one state (one allowed result), %d saw changes; unexpected results: %d (budget 0)",
		workers, elapsed.Round(time.Millisecond), raceEnabled, calls, float64(calls)/elapsed.Seconds(),
		l.flips.Load(), float64(l.flips.Load())/elapsed.Seconds(), calls-straddled, straddled, unexpected)
	for o := range numOps {
		s := total[o]
		var codes []string
		for c, n := range s.codes {
			codes = append(codes, fmt.Sprintf("%s %d", c.Name(), n))
		}
		sort.Strings(codes)
		t.Logf("  %-20s %8d calls, %8d ok; %s", o, s.calls, s.ok, strings.Join(codes, ", "))
		// A run that never crossed from success to failure proves
		// nothing about the states it was meant to cross.
		if o != fileAlign && (s.ok == 0 || s.ok == s.calls) {
			t.Errorf("%v: %d of %d calls succeeded: the run did not cross its states", o, s.ok, s.calls)
		}
	}
	if exact := calls - straddled; exact < calls/20 {
		t.Errorf("only %d of %d calls ran in one state: the oracle was too loose to tell much", exact, calls)
	}
	if l.flips.Load() < 50 {
		t.Errorf("only %d changes of the fixture in %v", l.flips.Load(), elapsed)
	}
	if unexpected > 0 {
		t.Errorf("%d unexpected results (error budget 0)", unexpected)
	}
}
