package crash_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// killRounds runs *iterations rounds on dir: a `pmem2emu mount` (env
// added to its environment) serves it and is killed with SIGKILL, then
// recover checks what it left and recovers it. The first round that
// fails ends the test.
func killRounds(t *testing.T, dir string, env []string, recover func(round int)) {
	t.Helper()
	for i := range *iterations {
		s := testutil.StartMount(t, env, dir)
		wantServed(t, dir)
		killedBy(t, s.Signal(t, syscall.SIGKILL), syscall.SIGKILL)
		recover(i)
		if t.Failed() {
			t.Fatalf("round %d", i)
		}
	}
}

// TestKilledMountIsCleanedByItsReaper kills `pmem2emu mount` with SIGKILL,
// which no handler can catch: the server's reaper sees it die and detaches
// the mount by itself, and the same directory is mounted again in the next
// round.
func TestKilledMountIsCleanedByItsReaper(t *testing.T) {
	dir := t.TempDir()
	killRounds(t, dir, nil, func(int) {
		unmountedSoon(t, dir)
		emptyDir(t, dir)
	})
	t.Logf("%d servers killed with SIGKILL, each mount detached by the server's reaper", *iterations)
}

// TestKilledMountIsRecoveredByUmountStale kills `pmem2emu mount` with
// SIGKILL, its reaper off (as if killed too), and recovers the stale mount
// with `pmem2emu umount --stale`; the same directory is mounted again in
// the next round.
func TestKilledMountIsRecoveredByUmountStale(t *testing.T) {
	dir := t.TempDir()
	others := testutil.Lines(testutil.OurMounts(t)) // copies of the host's, taken with the namespace
	killRounds(t, dir, noReaper, func(int) {
		wantStale(t, dir)
		umountStale(t, dir)
		testutil.NothingMountedBelow(t, dir)
		emptyDir(t, dir)
	})
	var left []string
	for _, m := range testutil.Lines(testutil.OurMounts(t)) {
		if !slices.Contains(others, m) {
			left = append(left, m)
		}
	}
	if len(left) > 0 {
		t.Fatalf("pmem2emu mounts left after %d rounds:\n\t%s", *iterations, strings.Join(left, "\n\t"))
	}
	t.Logf("%d servers killed with SIGKILL, %d stale mounts recovered by umount --stale", *iterations, *iterations)
}

// TestKilledMountIsRecoveredByTheNextMount kills `pmem2emu mount` with
// SIGKILL (its reaper off) and starts the next one on the same directory,
// which must find
// the stale mount, detach it and serve (one mount, not two stacked); the
// last one is stopped with SIGTERM and must unmount.
func TestKilledMountIsRecoveredByTheNextMount(t *testing.T) {
	dir := t.TempDir()
	killRounds(t, dir, noReaper, func(int) { wantStale(t, dir) })
	s := testutil.StartMount(t, nil, dir)
	wantServed(t, dir)
	if err := s.Signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("pmem2emu mount after SIGTERM: %v; stderr:\n%s", err, &s.Stderr)
	}
	testutil.NothingMountedBelow(t, dir)
	emptyDir(t, dir)
	t.Logf("%d servers killed with SIGKILL, each stale mount recovered by the next pmem2emu mount", *iterations)
}

// TestKilledMountIsRecoveredByTheNextFixture is the same with the next
// fixture started in-process by emulate.Mount, as emutest.Start does.
func TestKilledMountIsRecoveredByTheNextFixture(t *testing.T) {
	dir := t.TempDir()
	killRounds(t, dir, noReaper, func(i int) {
		wantStale(t, dir)
		f, err := emulate.Mount(dir, nil)
		if err != nil {
			t.Fatalf("round %d: emulate.Mount on a stale mount point: %v", i, err)
		}
		wantServed(t, dir)
		if err := f.Close(); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		testutil.NothingMountedBelow(t, dir)
		emptyDir(t, dir)
	})
	t.Logf("%d servers killed with SIGKILL, each stale mount recovered by the next emulate.Mount", *iterations)
}

// TestKilledCheckAndExecAreRecovered kills the commands that mount a
// fixture of their own in a temporary directory, while the fixture is
// mounted: their reaper detaches the mount.
func TestKilledCheckAndExecAreRecovered(t *testing.T) {
	t.Run("a check killed with SIGKILL while its own call waits on its own mount ends, and its reaper removes the mount", func(t *testing.T) {
		tmp := t.TempDir()
		cmd := cliCmd(t, tmp, "check", "--spec", slowSpec(t))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		dir := waitForMount(t, tmp, "pmem2emu-check-")
		time.Sleep(300 * time.Millisecond) // into the 2 s getattr of data/f
		cmd.Process.Signal(syscall.SIGKILL)
		if !waitExit(done, 10*time.Second) {
			// The process is its fixture's server and its client: its
			// checking thread sleeps uninterruptibly in the kernel
			// (request_wait_answer) for the answer to a request its
			// own server took, and the /dev/fuse descriptor whose
			// release would abort the request is closed only when that
			// very thread exits. The reaper must abort the connection.
			t.Errorf("the killed check (pid %d) has not ended 10s after SIGKILL: %s; its mount %s hangs every access. "+
				"Recovered below by aborting the connection (/sys/fs/fuse/connections/N/abort)",
				cmd.Process.Pid, stuckThreads(cmd.Process.Pid), dir)
			testutil.AbortConnection(t, dir)
			if !waitExit(done, 10*time.Second) {
				t.Fatalf("the killed check has not ended 10s after its connection was aborted: %s", stuckThreads(cmd.Process.Pid))
			}
		}
		unmountedSoon(t, tmp)
	})
	t.Run("an exec killed with SIGKILL while its command runs leaves no mount behind", func(t *testing.T) {
		tmp := t.TempDir()
		cmd := cliCmd(t, tmp, "exec", "--", "sleep", "60")
		cmd.WaitDelay = time.Second // the orphaned command keeps stderr open
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		waitForMount(t, tmp, "pmem2emu-exec-")
		// The command runs in a namespace of its own, which holds a
		// copy of the mount: find it before killing its parent.
		sleeper := waitForCommand(t, cmd.Process.Pid, "sleep")
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		unmountedSoon(t, tmp)
		// The orphaned command still runs, in its namespace, on the
		// detached (and aborted) mount; it is not ours to keep.
		syscall.Kill(sleeper, syscall.SIGKILL)
	})
}

// slowSpec writes a spec whose one check takes 2 s (a delayed getattr),
// so that a check of it is busy long enough to be interrupted.
func slowSpec(t *testing.T) string {
	t.Helper()
	spec := `{"nodes": [{"path": "data/f", "type": "file", "expect": {"all": {"from_fd": 0}}}],
		"faults": [{"path": "data/f", "op": "getattr", "delay": "2s"}]}`
	file := filepath.Join(t.TempDir(), "slow.json")
	require.NoError(t, os.WriteFile(file, []byte(spec), 0o644))
	return file
}

// waitForMount waits up to 20 s for a pmem2emu mount on a directory of tmp
// whose name starts with prefix, and returns it.
func waitForMount(t *testing.T, tmp, prefix string) string {
	t.Helper()
	var dir string
	found := testutil.Eventually(20*time.Second, func() bool {
		for _, m := range testutil.MountsBelow(t, tmp) {
			if strings.HasPrefix(filepath.Base(m.Mountpoint), prefix) && m.FSType == testutil.FSType {
				dir = m.Mountpoint
				return true
			}
		}
		return false
	})
	if !found {
		t.Fatalf("no pmem2emu mount %s* appeared in %s within 20s", prefix, tmp)
	}
	return dir
}
