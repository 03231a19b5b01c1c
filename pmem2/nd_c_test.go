package pmem2_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// The C side of the trees of nd_cases_test.go: the C probe of
// internal/cref, run with the tree bound over /sys and its device nodes in
// the private /dev of the namespace runner, as root and as uid 65534,
// must return what the sources say, which is what the port returns or
// the crash (or hang) each case declares.
func TestDeviceDAXSizeAndAlignmentAreTheCLibrarys(t *testing.T) {
	probe := cref.Build(t)
	for _, c := range pmem2.NDCases {
		t.Run(c.Name, func(t *testing.T) {
			s := pmem2.NewTree(t)
			c.Build(s)
			s.OpenToAll()
			want := c.Want(true, true)
			if got := cResult(t, probe, s, c.OpenPath(), true, want.Hang); got != want {
				t.Errorf("C as root: %s; want %s", got, want)
			}
			t.Run("as uid 65534", func(t *testing.T) {
				needRoot(t)
				want := c.Want(false, true)
				if got := cResult(t, probe, s, c.OpenPath(), false, want.Hang); got != want {
					t.Errorf("C: %s; want %s", got, want)
				}
			})
		})
	}
}

// TestTwoNodesOfOneNumberInC is the C side of TestTwoNodesOfOneNumber:
// libndctl visits the regions of a bus last listed first, so C returns
// the nd_dax of the region the bus directory lists last.
func TestTwoNodesOfOneNumberInC(t *testing.T) {
	probe := cref.Build(t)
	s := pmem2.NewTree(t)
	s.TwoDevNodes()
	s.OpenToAll()
	bus, err := os.Open(filepath.Join(s.Sys(), "devices/platform/e820_pmem/ndbus0"))
	if err != nil {
		t.Fatal(err)
	}
	names, err := bus.Readdirnames(-1) // directory order, unsorted
	bus.Close()
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	for _, n := range names {
		if strings.HasPrefix(n, "region") {
			last = n
		}
	}
	want := map[string]pmem2.NDResult{
		"region0": {Size: pmem2.NDWant{V: 2 << 20}, Align: pmem2.NDWant{V: 2 << 20}},
		"region1": {Size: pmem2.NDWant{V: 1 << 30}, Align: pmem2.NDWant{V: 4096}},
	}[last]
	if got := cResult(t, probe, s, "/dev/zero", true, false); got != want {
		t.Errorf("C: %s; want %s, the nd_dax of %s, listed last", got, want, last)
	}
	t.Run("as uid 65534", func(t *testing.T) {
		needRoot(t)
		if got := cResult(t, probe, s, "/dev/zero", false, false); got != want {
			t.Errorf("C: %s; want %s, the nd_dax of %s, listed last", got, want, last)
		}
	})
}

// needRoot skips a test that must run the probe as another user: the
// probe becomes that user with setuid, which only root may call.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("running the C probe as uid %d needs root: the kernel lets only root change its uid (this test runs as uid %d)",
			pmem2.Nobody, os.Geteuid())
	}
}

// cResult runs the probe twice on the descriptor of open (O_PATH), for
// pmem2_source_size and pmem2_source_alignment, so that a crash in one
// hides nothing of the other; as the test's user when root is set, else
// as uid 65534. mayHang bounds each run to a second: a probe still running
// then is a hang.
func cResult(t *testing.T, probe string, s *pmem2.Tree, open string, root, mayHang bool) pmem2.NDResult {
	t.Helper()
	r := nsRunner{t: t, cfg: nsrun.Config{Sys: s.Sys(), Dev: s.Dev()}}
	if !root {
		r.env = []string{cref.ProbeUIDEnv + "=" + strconv.Itoa(pmem2.Nobody)}
	}
	if mayHang {
		r.timeout = time.Second
	}
	var calls [2]cref.Call
	var signals [2]syscall.Signal
	for i, step := range []cref.Step{cref.StepSize, cref.StepAlignment} {
		res, err := cref.Run(r, probe, open, "path", step)
		if err != nil {
			t.Fatal(err)
		}
		if res.FromFD.RC != 0 && res.Signal == 0 {
			t.Fatalf("C probe: %s", res)
		}
		calls[i], signals[i] = res.Call(step), res.Signal
	}
	switch {
	case signals[0] == syscall.SIGSEGV && signals[1] == syscall.SIGSEGV:
		return pmem2.NDResult{Crash: true}
	case signals[0] == syscall.SIGKILL && signals[1] == syscall.SIGKILL && mayHang:
		return pmem2.NDResult{Hang: true}
	case signals[0] != 0 || signals[1] != 0:
		t.Fatalf("C probe killed by %v (size) and %v (alignment)", signals[0], signals[1])
	}
	want := func(c cref.Call) pmem2.NDWant {
		if c.RC != 0 {
			return pmem2.NDWant{Code: c.RC}
		}
		return pmem2.NDWant{V: c.Value}
	}
	return pmem2.NDResult{Size: want(calls[0]), Align: want(calls[1])}
}

// nsRunner runs the probe with the tree over /sys and /dev, as root or,
// with env, as the uid it names, killed after timeout when one is set.
type nsRunner struct {
	t       *testing.T
	cfg     nsrun.Config
	env     []string
	timeout time.Duration
}

func (r nsRunner) Command(name string, args ...string) (*exec.Cmd, error) {
	ctx := context.Background()
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		r.t.Cleanup(cancel)
	}
	cmd, err := nsrun.CommandContext(ctx, r.cfg, name, args...)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), r.env...)
	return cmd, nil
}
