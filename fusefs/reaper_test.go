package fusefs_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startChild runs this test binary in one of TestMain's modes and waits
// for each of the lines it says, in order.
func startChild(t *testing.T, env []string, says ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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

// gone waits up to d for dir to hold no mount of ours.
func gone(t *testing.T, dir string, d time.Duration) bool {
	t.Helper()
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if !mountedAt(t, dir) {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

func mountedAt(t *testing.T, dir string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir && strings.Contains(l, " fuse.pmem2emu ") {
			return true
		}
	}
	return false
}

// abortByHand ends dir's connection through a private fusectl mount and
// detaches dir, as the reaper does, for the control cases that run
// without it.
func abortByHand(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		var major, minor uint64
		if len(f) < 5 || f[4] != dir {
			continue
		}
		if _, err := fmt.Sscanf(f[2], "%d:%d", &major, &minor); err != nil {
			continue
		}
		ctl := t.TempDir()
		if err := syscall.Mount("fusectl", ctl, "fusectl", 0, ""); err != nil {
			t.Errorf("mount fusectl: %v", err)
			continue
		}
		os.WriteFile(filepath.Join(ctl, strconv.FormatUint(major<<20|minor, 10), "abort"), []byte("1"), 0)
		syscall.Unmount(ctl, syscall.MNT_DETACH)
	}
	syscall.Unmount(dir, syscall.MNT_DETACH)
}

func TestReaper(t *testing.T) {
	t.Run("a server killed while it waits on its own mount still dies, and its mount goes", func(t *testing.T) {
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		cmd := startChild(t, []string{stuckEnv + "=" + dir}, "ready", "calling")
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
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		cmd := startChild(t, []string{stuckEnv + "=" + dir, "PMEM2EMU_REAPER=off"}, "ready", "calling")
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		ended := waiter(cmd)
		hung := !ended(2 * time.Second)
		abortByHand(t, dir)
		if !hung {
			t.Fatal("the killed server died on its own: the case above proves nothing")
		}
		if !ended(10 * time.Second) {
			t.Fatal("aborting the connection did not free the process")
		}
	})

	t.Run("a server that exits without Close leaves no mount", func(t *testing.T) {
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		cmd := startChild(t, []string{exitEnv + "=" + dir}, "ready")
		cmd.Wait()
		if !gone(t, dir, 5*time.Second) {
			syscall.Unmount(dir, syscall.MNT_DETACH)
			t.Fatal("the mount of a server that exited is still there after 5 s")
		}
	})

	t.Run("without the reaper that mount stays behind, stale (the control)", func(t *testing.T) {
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		cmd := startChild(t, []string{exitEnv + "=" + dir, "PMEM2EMU_REAPER=off"}, "ready")
		cmd.Wait()
		time.Sleep(500 * time.Millisecond)
		stayed := mountedAt(t, dir)
		syscall.Unmount(dir, syscall.MNT_DETACH)
		if !stayed {
			t.Fatal("the mount went without the reaper: the case above proves nothing")
		}
	})
}
