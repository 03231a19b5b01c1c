package crash_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/emulate"
)

// TestKilledMountIsCleanedByItsReaper kills `pmem2emu mount` with SIGKILL,
// which no handler can catch: the server's reaper sees it die and detaches
// the mount by itself, and the same directory is mounted again in the next
// round.
func TestKilledMountIsCleanedByItsReaper(t *testing.T) {
	dir := t.TempDir()
	for i := range *iterations {
		s := startMount(t, dir)
		wantServed(t, dir)
		killedBy(t, s.kill(t, syscall.SIGKILL), syscall.SIGKILL)
		unmountedSoon(t, dir)
		emptyDir(t, dir)
		if t.Failed() {
			t.Fatalf("round %d", i)
		}
	}
	t.Logf("%d servers killed with SIGKILL, each mount detached by the server's reaper", *iterations)
}

// TestKilledMountIsRecoveredByUmountStale kills `pmem2emu mount` with
// SIGKILL, its reaper off (as if killed too), and recovers the stale mount
// with `pmem2emu umount --stale`; the same directory is mounted again in
// the next round.
func TestKilledMountIsRecoveredByUmountStale(t *testing.T) {
	dir := t.TempDir()
	others := ourMounts(t) // copies of the host's, taken with the namespace
	for i := range *iterations {
		s := startMountEnv(t, noReaper, dir)
		wantServed(t, dir)
		killedBy(t, s.kill(t, syscall.SIGKILL), syscall.SIGKILL)
		wantStale(t, dir)
		umountStale(t, dir)
		nothingMountedAt(t, dir)
		emptyDir(t, dir)
		if t.Failed() {
			t.Fatalf("round %d", i)
		}
	}
	var left []string
	for _, m := range ourMounts(t) {
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
	for i := range *iterations {
		s := startMountEnv(t, noReaper, dir)
		wantServed(t, dir)
		killedBy(t, s.kill(t, syscall.SIGKILL), syscall.SIGKILL)
		wantStale(t, dir)
		if t.Failed() {
			t.Fatalf("round %d", i)
		}
	}
	s := startMount(t, dir)
	wantServed(t, dir)
	if ee := s.kill(t, syscall.SIGTERM); ee != nil {
		t.Fatalf("pmem2emu mount after SIGTERM: %v; stderr:\n%s", ee, s.stderr)
	}
	nothingMountedAt(t, dir)
	emptyDir(t, dir)
	t.Logf("%d servers killed with SIGKILL, each stale mount recovered by the next pmem2emu mount", *iterations)
}

// TestKilledMountIsRecoveredByTheNextFixture is the same with the next
// fixture started in-process by emulate.Mount, as emutest.Start does.
func TestKilledMountIsRecoveredByTheNextFixture(t *testing.T) {
	dir := t.TempDir()
	for i := range *iterations {
		s := startMountEnv(t, noReaper, dir)
		killedBy(t, s.kill(t, syscall.SIGKILL), syscall.SIGKILL)
		wantStale(t, dir)
		f, err := emulate.Mount(dir, nil)
		if err != nil {
			t.Fatalf("round %d: emulate.Mount on a stale mount point: %v", i, err)
		}
		wantServed(t, dir)
		if err := f.Close(); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		nothingMountedAt(t, dir)
		emptyDir(t, dir)
	}
	t.Logf("%d servers killed with SIGKILL, each stale mount recovered by the next emulate.Mount", *iterations)
}

// TestKilledCheckAndExecAreRecovered kills the commands that mount a
// fixture of their own in a temporary directory, while the fixture is
// mounted: their reaper detaches the mount.
func TestKilledCheckAndExecAreRecovered(t *testing.T) {
	t.Run("a check killed with SIGKILL while its own call waits on its own mount ends, and its reaper removes the mount", func(t *testing.T) {
		tmp := t.TempDir()
		cmd := exec.Command(bin, "check", "--spec", slowSpec(t))
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
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
			abortConnection(t, dir)
			if !waitExit(done, 10*time.Second) {
				t.Fatalf("the killed check has not ended 10s after its connection was aborted: %s", stuckThreads(cmd.Process.Pid))
			}
		}
		unmountedSoon(t, tmp)
	})
	t.Run("an exec killed with SIGKILL while its command runs leaves no mount behind", func(t *testing.T) {
		tmp := t.TempDir()
		cmd := exec.Command(bin, "exec", "--", "sleep", "60")
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		cmd.WaitDelay = time.Second // the orphaned command keeps stderr open
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
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
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// waitForMount waits up to 20 s for a pmem2emu mount on a directory of tmp
// whose name starts with prefix, and returns it.
func waitForMount(t *testing.T, tmp, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range mountsAt(t, tmp) {
			f := strings.Fields(l)
			if strings.HasPrefix(filepath.Base(f[4]), prefix) && strings.Contains(l, " - fuse.pmem2emu ") {
				return f[4]
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no pmem2emu mount %s* appeared in %s within 20s", prefix, tmp)
	return ""
}

// wantStaleAt is wantStale for a mount point that might be reached while
// the dying server's last requests drain.
func wantStaleAt(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Stat(dir)
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantStale(t, dir)
}
