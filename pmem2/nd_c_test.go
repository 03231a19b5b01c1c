package pmem2_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
	"golang.org/x/sys/unix"
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
			s := pmem2.OpenTree(t, c.Build)
			forRootAndNobody(t, func(t *testing.T, root bool) {
				want := c.Want(root, true)
				if got := cResult(t, probe, s, c.OpenPath(), root, want.Hang); got != want {
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
	s := pmem2.OpenTree(t, (*pmem2.Tree).TwoDevNodes)
	last := ""
	for _, n := range testutil.DirNames(t, filepath.Join(s.Sys(), "devices/platform/e820_pmem/ndbus0")) {
		if strings.HasPrefix(n, "region") {
			last = n
		}
	}
	want := map[string]pmem2.NDResult{
		"region0": {Size: pmem2.NDWant{V: 2 << 20}, Align: pmem2.NDWant{V: 2 << 20}},
		"region1": {Size: pmem2.NDWant{V: 1 << 30}, Align: pmem2.NDWant{V: 4096}},
	}[last]
	forRootAndNobody(t, func(t *testing.T, root bool) {
		if got := cResult(t, probe, s, "/dev/zero", root, false); got != want {
			t.Errorf("C: %s; want %s, the nd_dax of %s, listed last", got, want, last)
		}
	})
}

// forRootAndNobody runs check for root (root set) and, in the subtest "as
// uid 65534", for that user. The probe becomes the user with setuid,
// which only root may call: for anyone else that half is skipped.
func forRootAndNobody(t *testing.T, check func(t *testing.T, root bool)) {
	t.Helper()
	check(t, true)
	t.Run("as uid 65534", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skipf("running the C probe as uid %d needs root: the kernel lets only root change its uid (this test runs as uid %d)",
				pmem2.Nobody, os.Geteuid())
		}
		check(t, false)
	})
}

// cResult runs the probe twice on the descriptor of open (O_PATH), for
// pmem2_source_size and pmem2_source_alignment, so that a crash in one
// hides nothing of the other; as the test's user when root is set, else
// as uid 65534. mayHang bounds each run to a second: a probe still running
// then is a hang.
func cResult(t *testing.T, probe string, s *pmem2.Tree, open string, root, mayHang bool) pmem2.NDResult {
	t.Helper()
	r := newNSRunner(t, s, root, mayHang)
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

// newNSRunner runs the probe on the tree s as root when root is set, else
// as uid 65534; mayHang bounds each run to a second.
func newNSRunner(t *testing.T, s *pmem2.Tree, root, mayHang bool) nsRunner {
	r := nsRunner{t: t, cfg: nsrun.Config{Sys: s.Sys(), Dev: s.Dev()}}
	if !root {
		r.env = []string{cref.ProbeUIDEnv + "=" + strconv.Itoa(pmem2.Nobody)}
	}
	if mayHang {
		r.timeout = time.Second
	}
	return r
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

// The C side of the trees of region_cases_test.go: one probe run asks for
// the four functions, as root and as uid 65534.
func TestRegionFunctionsAreTheCLibrarys(t *testing.T) {
	probe := cref.Build(t)
	for _, c := range pmem2.RegionCases {
		t.Run(c.Name, func(t *testing.T) {
			s := pmem2.OpenTree(t, c.Build)
			forRootAndNobody(t, func(t *testing.T, root bool) {
				want := c.WantFor(s, root, true)
				if got := cRegion(t, probe, s, c.OpenPath(s), c.OpenMode(), root, want.Hang); got.String() != want.String() {
					t.Errorf("C: %s\nwant %s", got, want)
				}
			})
		})
	}
}

// cRegion runs the probe once on open, opened in mode, for the four
// functions; as the test's user when root is set, else as uid 65534.
// mayHang bounds the run to a second: a probe still running then is a hang.
func cRegion(t *testing.T, probe string, s *pmem2.Tree, open, mode string, root, mayHang bool) pmem2.RegionResult {
	t.Helper()
	res, err := cref.Run(newNSRunner(t, s, root, mayHang), probe, open, emulate.OpenMode(mode), cref.RegionSteps...)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case res.Signal == syscall.SIGKILL && mayHang:
		return pmem2.RegionResult{Hang: true}
	case res.Signal != 0:
		t.Fatalf("C probe killed by %v in %s", res.Signal, res.Crashed)
	case res.OpenErrno != 0 || res.FromFD.RC != 0:
		t.Fatalf("C probe: %s", res)
	}
	return pmem2.RegionResult{
		Numa: res.NumaNode.Int(), NumaCode: res.NumaNode.RC,
		ID: res.DeviceID.Text, IDCode: res.DeviceID.RC,
		USC: res.USC.Value, USCCode: res.USC.RC,
		BB: res.BadBlockList, BBCode: res.BadBlocks.RC,
	}
}

// A regular file of a FUSE mount has the mount's anonymous device number
// as st_dev: a tree whose fsdax pmem0 carries that number puts the file on
// pmem, as the emulation does for its fixture's files. The region, its
// DIMMs and NUMA node are the file's; FUSE has no FIEMAP (the kernel's
// ioctl_fiemap refuses a file system without the operation:
// -EOPNOTSUPP), so the bad blocks are that code — or -EBADF through an
// O_PATH descriptor, which takes no ioctl. C and the port agree, as root
// and as uid 65534.
func TestRegularFilesOnAFUSEMountOnPmem(t *testing.T) {
	probe := cref.Build(t)
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	// uid 65534's probe opens the file: allow_other, which only root may
	// ask for without user_allow_other in /etc/fuse.conf (and only root
	// runs that half).
	srv, err := fusefs.Mount(mnt, fusefs.Tree{"data": fusefs.File(strings.Repeat("pmem", 2048))},
		&fusefs.Options{AllowOther: os.Geteuid() == 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	file := filepath.Join(mnt, "data")
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	s := pmem2.OpenTree(t, func(s *pmem2.Tree) { s.OnFsdax(fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))) })
	for _, tc := range []struct {
		mode string
		bb   pmem2.Code
	}{{"r", pmem2.Code(-int(syscall.EOPNOTSUPP))}, {"path", pmem2.Code(-int(syscall.EBADF))}} {
		want := pmem2.RegionResult{ID: pmem2.DIMM0ID, USC: 7, BBCode: tc.bb}.String()
		t.Run("opened "+tc.mode, func(t *testing.T) {
			fd := testutil.OpenFD(t, file, map[string]int{"r": unix.O_RDONLY, "path": unix.O_PATH}[tc.mode])
			src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(s.Sys()))
			if err != nil {
				t.Fatal(err)
			}
			forRootAndNobody(t, func(t *testing.T, root bool) {
				pmem2.As(t, root, func() {
					if got := pmem2.RegionOf(t, src).String(); got != want {
						t.Errorf("Go: %s\nwant %s", got, want)
					}
				})
				if got := cRegion(t, probe, s, file, tc.mode, root, false).String(); got != want {
					t.Errorf("C: %s\nwant %s", got, want)
				}
			})
		})
	}
}

// The four region functions on every tree of Size and Alignment: the port
// and C agree, as root and as uid 65534 — found where C finds the device
// (its region's values), the codes of C's branch for no region elsewhere,
// never a crash. Trees where C blocks on a FIFO are left out.
func TestRegionFunctionsOnTheSizeTreesAreTheCLibrarys(t *testing.T) {
	probe := cref.Build(t)
	for _, c := range pmem2.NDCases {
		if c.Want(true, true).Hang {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			s := pmem2.OpenTree(t, c.Build)
			fd := testutil.OpenFD(t, c.OpenPath(), unix.O_PATH)
			src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(s.Sys()))
			if err != nil {
				t.Fatal(err)
			}
			forRootAndNobody(t, func(t *testing.T, root bool) {
				var goSide pmem2.RegionResult
				pmem2.As(t, root, func() { goSide = pmem2.RegionOf(t, src) })
				if got := cRegion(t, probe, s, c.OpenPath(), "path", root, false); got.String() != goSide.String() {
					t.Errorf("C %s\nGo %s", got, goSide)
				}
			})
		})
	}
}
