package crash_test

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// TestHelperProcess is the child test process of the tests below, not a
// test of its own: run by helperProcess with a mode as its argument, it
// starts a fixture with emutest.Start, prints its root and then ends the
// way the mode says. Without an argument it does nothing.
func TestHelperProcess(t *testing.T) {
	mode := flag.Arg(0)
	if mode == "" {
		return
	}
	f := emutest.Start(t, &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}},
		Nodes:      []emulate.Node{{Path: "data/slow", Type: fusefs.TypeFile}},
		Faults:     []emulate.Fault{{Path: "data/slow", Op: fusefs.OpGetattr, Delay: time.Hour}},
	})
	fmt.Printf("fixture %s\n", f.Root())
	os.Stdout.Sync()
	switch mode {
	case "timeout-in-call":
		// A call that hangs on the fixture, as a call does when the
		// test has a reason to time out.
		os.Stat(f.Path("data/slow"))
	case "panic":
		panic("a test panics while holding a fixture")
	case "panic-in-goroutine":
		go func() { panic("a goroutine of a test panics while the test holds a fixture") }()
		select {}
	case "timeout":
		time.Sleep(time.Hour)
	case "exit":
		os.Exit(3)
	case "fatal":
		t.Fatal("a test fails with t.Fatal while holding a fixture")
	default:
		t.Fatalf("unknown helper mode %q", mode)
	}
}

// TestPanicWhileHoldingAFixture runs a test that holds an emutest.Start
// fixture and ends badly, as a child test process, then looks at what the
// fixture left.
//
// Go runs t.Cleanup functions when the test's own goroutine panics (the
// panic is reported after them) or calls t.Fatal, so Start's cleanup
// unmounts and t.TempDir's removes the directory. It runs none when the
// process dies without returning to the testing package: a panic in
// another goroutine, the -test.timeout alarm (a panic in the testing
// package's timer goroutine), os.Exit. The server dies with the process;
// its reaper (see fusefs) detaches the mount — also when a call was waiting
// on it, which would otherwise keep the process from dying. With the
// reaper gone too, the mount stays stale (ENOTCONN) and `pmem2emu umount
// --stale` (also run by `make clean`) recovers it.
func TestPanicWhileHoldingAFixture(t *testing.T) {
	const (
		cleanup = iota // t.Cleanup ran: unmounted, directory gone
		reaped         // no cleanup ran: the reaper detached the mount
		stale          // reaper off: the mount stays stale until umount --stale
	)
	for _, c := range []struct {
		name, mode string
		exit       int
		says       string
		after      int
	}{
		{"a panic in the test's goroutine runs t.Cleanup: the fixture is unmounted", "panic", 2,
			"panic: a test panics while holding a fixture", cleanup},
		{"t.Fatal runs t.Cleanup: the fixture is unmounted", "fatal", 1,
			"a test fails with t.Fatal while holding a fixture", cleanup},
		{"a panic in another goroutine runs no cleanup: the reaper detaches the mount", "panic-in-goroutine", 2,
			"panic: a goroutine of a test panics", reaped},
		{"a -test.timeout runs no cleanup: the reaper detaches the mount", "timeout", 2,
			"panic: test timed out after", reaped},
		{"os.Exit in a test runs no cleanup: the reaper detaches the mount", "exit", 3,
			"", reaped},
		{"a -test.timeout while a call waits on the fixture ends the process, and the reaper detaches the mount", "timeout-in-call", 2,
			"panic: test timed out after", reaped},
		{"without the reaper, a panic in another goroutine leaves a stale mount that umount --stale recovers", "panic-in-goroutine", 2,
			"panic: a goroutine of a test panics", stale},
		{"without the reaper, os.Exit leaves a stale mount that umount --stale recovers", "exit", 3,
			"", stale},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			var env []string
			if c.after == stale {
				env = noReaper
			}
			root, code, out := runHelper(t, c.mode, tmp, env)
			if code != c.exit {
				t.Errorf("the child test exited %d, want %d; output:\n%s", code, c.exit, out)
			}
			if !strings.Contains(out, c.says) {
				t.Errorf("the child test's output does not say %q:\n%s", c.says, out)
			}
			switch c.after {
			case cleanup:
				testutil.NothingMountedBelow(t, root)
				if _, err := os.Lstat(root); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the fixture's directory %s is still there: %v", root, err)
				}
			case reaped:
				unmountedSoon(t, tmp)
				emptyDir(t, root)
			case stale:
				wantStale(t, root)
				umountStale(t, root)
				testutil.NothingMountedBelow(t, tmp)
				emptyDir(t, root)
			}
		})
	}
}

// helperProcess prepares TestHelperProcess in mode, with TMPDIR=tmp and env
// added to this environment, stopped by -test.timeout after timeout.
func helperProcess(mode, tmp string, timeout time.Duration, env ...string) *exec.Cmd {
	cmd := testutil.Command("test", "-test.run=^TestHelperProcess$", "-test.v", "-test.timeout="+timeout.String(), mode)
	cmd.Env = append(append(cmd.Env, env...), "TMPDIR="+tmp)
	return cmd
}

// runHelper runs TestHelperProcess in mode with TMPDIR=tmp and env added to
// this environment, and returns the fixture root it printed, its exit
// status and its output. A child that
// has not ended 20 s after its start is reported and then freed by
// aborting its fixture's FUSE connection.
func runHelper(t *testing.T, mode, tmp string, env []string) (root string, code int, output string) {
	t.Helper()
	cmd := helperProcess(mode, tmp, 3*time.Second, env...)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	pw.Close()
	var mu sync.Mutex
	var out strings.Builder
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			if r, ok := strings.CutPrefix(sc.Text(), "fixture "); ok {
				root = r
			}
			mu.Unlock()
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if !waitExit(done, 20*time.Second) {
		mu.Lock()
		r := root
		mu.Unlock()
		// See TestKilledCheckAndExecAreRecovered: the process is its
		// fixture's server and a client waiting on it; its exit kills
		// the server but not the waiting thread.
		t.Errorf("the child test (pid %d) has not ended 20s after its start, 17s after its -test.timeout: %s. "+
			"Recovered below by aborting the FUSE connection of %s", cmd.Process.Pid, stuckThreads(cmd.Process.Pid), r)
		if r == "" {
			cmd.Process.Kill()
			t.Fatal("and it printed no fixture root")
		}
		testutil.AbortConnection(t, r)
		if !waitExit(done, 10*time.Second) {
			t.Fatalf("the child test has not ended 10s after its connection was aborted: %s", stuckThreads(cmd.Process.Pid))
		}
	}
	<-read
	pr.Close()
	code = cmd.ProcessState.ExitCode()
	if root == "" || !strings.HasPrefix(root, tmp+"/") {
		t.Fatalf("the child test printed no fixture root below %s; output:\n%s", tmp, out.String())
	}
	return root, code, out.String()
}
