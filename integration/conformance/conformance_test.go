package conformance

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// verdict is how a case compares.
type verdict string

const (
	identical verdict = "identical"
	knownDiff verdict = "known difference"
	cCrash    verdict = "C crash"
	mismatch  verdict = "MISMATCH"
)

// row is one case of the table: a path of a fixture opened in a mode.
type row struct {
	fixture, path string
	mode          emulate.OpenMode
	goSide, cSide observed
	verdict       verdict
	note          string // the known difference's label
}

func (r row) key() string { return r.fixture + " " + r.path + " " + string(r.mode) }

// TestConformance runs the differential suite as the user running the
// tests and, as root, once more as an unprivileged user (unprivileged_test.go).
func TestConformance(t *testing.T) {
	differential(t)
	if root() && !t.Failed() {
		t.Run("as uid 65534", func(t *testing.T) { asUnprivileged(t, unprivileged) })
	}
}

// differential compares the two sides on every fixture and records the
// summary line of the run.
func differential(t *testing.T) {
	probe := cref.Build(t)
	var rows []row
	l := &ledger{diffs: maps.Clone(known), used: map[string]bool{}}

	t.Run("the default fixture", func(t *testing.T) {
		f := emutest.Start(t, nil).Fixture
		paths := nodePaths(f.Spec())
		for _, c := range f.Spec().Checks() {
			if !slices.Contains(paths, c.Path) {
				t.Fatalf("check %s (%s) is not among the fixture's nodes", c.Path, c.Mode)
			}
		}
		rows = append(rows, compare(t, probe, f, "default", paths, true, l)...)
	})

	t.Run("adversarial sysfs trees", func(t *testing.T) {
		d, opts := devno{major: emulate.DefaultDAXMajor}, []emulate.Option(nil)
		if root() {
			// dax0.0 backed by /dev/zero opens, so r, w and rw reach the
			// library as well as path.
			d, opts = devno{major: 1, minor: 5}, []emulate.Option{emulate.WithDeviceMode()}
		}
		for _, a := range adversaries() {
			t.Run(a.name, func(t *testing.T) {
				f := emutest.Start(t, a.spec(d), opts...).Fixture
				if a.after != nil {
					require.NoError(t, a.after(f, d.entry()))
				}
				if a.diff != nil {
					modes := []emulate.OpenMode{emulate.ModePath}
					if root() {
						modes = append(modes, emulate.ModeR, emulate.ModeRW)
					}
					for _, m := range modes {
						l.diffs[row{fixture: a.name, path: "dev/dax0.0", mode: m}.key()] = *a.diff
					}
				}
				got := compare(t, probe, f, a.name, []string{"dev/dax0.0"}, true, l)
				for _, r := range got {
					g, c := r.goSide.classification(), r.cSide.classification()
					if a.want != "" && r.mode == emulate.ModePath && (g != a.want || c != a.want) {
						t.Errorf("in mode path: Go %s, C %s; the case is built for %s", g, c, a.want)
					}
				}
				rows = append(rows, got...)
			})
		}
	})

	t.Run("a Device DAX without its /dev node", func(t *testing.T) {
		f := emutest.Start(t, noDevNodeSpec()).Fixture
		rows = append(rows, compare(t, probe, f, "no /dev node", nodePaths(f.Spec()), true, l)...)
	})

	t.Run("Device DAX nodes that open, in device mode", func(t *testing.T) {
		if !root() {
			// Not a missing dependency: fusefs allows device mode to
			// root only. The other fixtures cover the path mode.
			t.Skip("device mode needs root; the r, w and rw modes of Device DAX stay at EACCES in the other fixtures")
		}
		f := emutest.Start(t, deviceModeSpec(), emulate.WithDeviceMode()).Fixture
		rows = append(rows, compare(t, probe, f, "device mode", nodePaths(f.Spec()), true, l)...)
	})

	t.Run("DIMMs, interleave sets, NUMA nodes and bad blocks, healthy and broken", func(t *testing.T) {
		f := emutest.Start(t, rasSpec()).Fixture
		rows = append(rows, compare(t, probe, f, "DIMMs", nodePaths(f.Spec()), true, l)...)
	})

	t.Run("an e820 bus: no DIMMs", func(t *testing.T) {
		f := emutest.Start(t, e820Spec()).Fixture
		rows = append(rows, compare(t, probe, f, "e820", nodePaths(f.Spec()), true, l)...)
	})

	for k := range l.diffs {
		if !l.used[k] && !t.Failed() && (root() || !strings.HasPrefix(k, "device mode ")) {
			t.Errorf("known difference %q matched no case: the suite no longer builds it, or the key is wrong", k)
		}
	}
	t.Log("\n" + table(rows))
	line := who() + ": " + summary(rows)
	summaries = append(summaries, line)
	t.Log(line)
}

// summaries are the summary lines of the runs, as root and as the
// unprivileged user; TestMain prints them again, so that they are the
// last lines before go test's verdict.
var summaries []string

func TestMain(m *testing.M) {
	testutil.RunRole(testutil.Roles{roleGoSide: goSideRole})
	code := testutil.Run(m)
	for _, s := range summaries {
		fmt.Println(s)
	}
	os.Exit(code)
}

// who says which user ran the cases: "as root", "as uid 65534".
func who() string {
	if root() {
		return "as root"
	}
	return fmt.Sprintf("as uid %d", os.Geteuid())
}

// nodePaths lists every node of a spec that can be opened: the device
// nodes, then the declared nodes, in declaration order.
func nodePaths(s *emulate.Spec) []string {
	var paths []string
	for _, d := range s.DAXDevices {
		paths = append(paths, "dev/"+d.Name)
	}
	for _, p := range s.PmemDevices {
		paths = append(paths, "dev/"+p.Name)
	}
	for _, n := range s.Nodes {
		if !slices.Contains(paths, n.Path) {
			paths = append(paths, n.Path)
		}
	}
	return paths
}

// compare runs both sides on every path in every mode and judges each
// case, failing t for every difference nobody declared.
func compare(t *testing.T, probe string, f *emulate.Fixture, fixture string, paths []string, steps bool, l *ledger) []row {
	t.Helper()
	var rows []row
	for _, p := range paths {
		for _, m := range emulate.Modes() {
			r := row{fixture: fixture, path: p, mode: m}
			abs := f.Path(p)
			if root() {
				r.goSide = goSide(abs, m, f.Sysfs(), steps)
			} else {
				r.goSide = goSideInRunner(t, f, abs, m)
			}
			r.cSide = cSide(t, f, probe, abs, m, steps)
			var problems []string
			r.verdict, r.note, problems = l.judge(r)
			for _, p := range problems {
				t.Error(p)
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// ledger holds the known differences of a run, by row key, and which of
// them a case matched.
type ledger struct {
	diffs map[string]difference
	used  map[string]bool
}

// judge compares the two sides of a case with each other and with the
// known differences. Each problem it returns fails the suite.
func (l *ledger) judge(r row) (v verdict, note string, problems []string) {
	g, c := r.goSide, r.cSide
	at := fmt.Sprintf("%s in mode %s: ", r.path, r.mode)
	k, ok := l.diffs[r.key()]
	if !ok {
		switch {
		case same(g, c):
			return identical, "", nil
		case c.crashed():
			return mismatch, "", []string{fmt.Sprintf("%sC crashed where no crash is known: Go %s, C %s", at, g, c)}
		}
		return mismatch, "", []string{fmt.Sprintf("%sGo %s, C %s", at, g, c)}
	}
	l.used[r.key()] = true
	// A known difference states the classification, size and alignment;
	// the calls on DIMMs and bad blocks must agree wherever both ran them.
	if g.core() != k.goWant {
		problems = append(problems, fmt.Sprintf("%sGo now returns %s; documented: %s (%s)", at, g.core(), k.goWant, k.why.label))
	}
	if c.core() != k.cWant {
		problems = append(problems, fmt.Sprintf("%sC now returns %s; observed before: %s (%s)", at, c.core(), k.cWant, k.why.label))
	}
	if same(g, c) {
		problems = append(problems, fmt.Sprintf("%sdeclared a difference (%s) but both return %s", at, k.why.label, g))
	}
	if g.fromFD.rc == 0 && c.fromFD.ran && c.fromFD.rc == 0 && !sameRAS(g, c) {
		problems = append(problems, fmt.Sprintf("%sthe calls on DIMMs and bad blocks differ: Go %s, C %s", at, g, c))
	}
	gCalls, cCalls := append(g.calls(), g.fromFD), append(c.calls(), c.fromFD)
	for i := range cCalls {
		if k.why.goFails && cCalls[i].crash != 0 && (!gCalls[i].ran || gCalls[i].rc == 0) {
			problems = append(problems, fmt.Sprintf("%sC crashes and Go returns no error: %s", at, g))
		}
	}
	switch {
	case problems != nil:
		return mismatch, k.why.label, problems
	case c.crashed():
		return cCrash, k.why.label, nil
	}
	return knownDiff, k.why.label, nil
}

// table renders every case with both results, fixture by fixture.
func table(rows []row) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	last := ""
	for _, r := range rows {
		if r.fixture != last {
			if last != "" {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "fixture: %s\n", r.fixture)
			fmt.Fprintln(w, "  PATH\tMODE\tGO (pmem2)\tC (libpmem2 1.12.1)\tVERDICT")
			last = r.fixture
		}
		v := string(r.verdict)
		if r.note != "" {
			v += " [" + r.note + "]"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", r.path, r.mode, r.goSide, r.cSide, v)
	}
	w.Flush()
	b.WriteString("\nKnown differences:\n")
	for _, why := range reasons {
		fmt.Fprintf(&b, "  [%s] %s\n", why.label, why.text)
	}
	return b.String()
}

func summary(rows []row) string {
	n := map[verdict]int{}
	for _, r := range rows {
		n[r.verdict]++
	}
	s := fmt.Sprintf("%d cases: %d identical, %d known differences, %d C crashes", len(rows), n[identical], n[knownDiff], n[cCrash])
	if n[mismatch] > 0 {
		s += fmt.Sprintf(", %d MISMATCHES", n[mismatch])
	}
	return s
}
