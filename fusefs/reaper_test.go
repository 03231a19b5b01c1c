package fusefs_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// reaperOff is the environment entry that keeps a child's reaper from
// starting.
const reaperOff = "PMEM2EMU_REAPER=off"

// startRole runs this test binary in role (see TestMain) on dir, with env
// added to its environment, and waits for each line it says, in order.
func startRole(t *testing.T, role, dir string, env []string, says ...string) *exec.Cmd {
	t.Helper()
	cmd := testutil.Command(role, dir)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := bufio.NewReader(out)
	for _, want := range says {
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) != want {
			cmd.Process.Kill()
			t.Fatalf("child said %q (%v), want %q", line, err, want)
		}
	}
	return cmd
}

// waiter waits for cmd in the background; the function it returns
// reports whether cmd has ended within d (and may be called again).
func waiter(cmd *exec.Cmd) func(d time.Duration) bool {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	return func(d time.Duration) bool {
		select {
		case <-done:
			return true
		case <-time.After(d):
			return false
		}
	}
}

// gone waits up to d for dir to hold no mount.
func gone(t *testing.T, dir string, d time.Duration) bool {
	t.Helper()
	return testutil.Eventually(d, func() bool { return testutil.MountAt(t, dir) == nil })
}

// abortByHand ends dir's connection and detaches dir, as the reaper does,
// for the control cases that run without it.
func abortByHand(t *testing.T, dir string) {
	t.Helper()
	testutil.AbortConnection(t, dir)
	fusefs.Unmount(dir)
}

func TestReaper(t *testing.T) {
	t.Run("a server killed while it waits on its own mount still dies, and its mount goes", func(t *testing.T) {
		if !testutil.CanAbortFuse(t) {
			testutil.RootOnly(t, "the reaper aborts the connection, which takes root where /sys/fs/fuse/connections is not mounted")
		}
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		cmd := startRole(t, "stuck", dir, nil, "ready", "calling")
		time.Sleep(300 * time.Millisecond) // the stat reaches the server and waits in its delay
		cmd.Process.Signal(syscall.SIGKILL)
		if !waiter(cmd)(10 * time.Second) {
			abortByHand(t, dir)
			t.Fatal("the killed server did not die within 10 s")
		}
		if !gone(t, dir, 5*time.Second) {
			abortByHand(t, dir)
			t.Fatal("its mount is still there 5 s after it died")
		}
	})

	t.Run("without the reaper the same server hangs half dead (the control)", func(t *testing.T) {
		if !testutil.CanAbortFuse(t) {
			testutil.RootOnly(t, "the hung server is freed by aborting its connection, which takes root where /sys/fs/fuse/connections is not mounted")
		}
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		cmd := startRole(t, "stuck", dir, []string{reaperOff}, "ready", "calling")
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		ended := waiter(cmd)
		hung := !ended(2 * time.Second)
		abortByHand(t, dir)
		require.True(t, hung, "the killed server died on its own: the case above proves nothing")
		require.True(t, ended(10*time.Second), "aborting the connection did not free the process")
	})

	t.Run("a server that exits without Close leaves no mount", func(t *testing.T) {
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		startRole(t, "exit", dir, nil, "ready").Wait()
		if !gone(t, dir, 5*time.Second) {
			fusefs.Unmount(dir)
			t.Fatal("the mount of a server that exited is still there after 5 s")
		}
	})

	t.Run("without the reaper that mount stays behind, stale (the control)", func(t *testing.T) {
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		startRole(t, "exit", dir, []string{reaperOff}, "ready").Wait()
		time.Sleep(500 * time.Millisecond)
		stayed := testutil.MountAt(t, dir) != nil
		fusefs.Unmount(dir)
		require.True(t, stayed, "the mount went without the reaper: the case above proves nothing")
	})
}
