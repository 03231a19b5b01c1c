package fusefs_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"golang.org/x/sys/unix"
)

// serveInChild mounts a tree on dir from a child process (this test binary,
// see TestMain) and returns it once the mount answers. env adds to the
// child's environment: serveEnv+"="+dir is the default mode.
func serveInChild(t *testing.T, dir string, env ...string) *exec.Cmd {
	t.Helper()
	if len(env) == 0 {
		env = []string{serveEnv + "=" + dir}
	}
	cmd := startChild(t, env, "ready")
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		fusefs.Unmount(dir) // in case the test failed half-way
	})
	return cmd
}

// killed leaves a mount on a fresh directory whose server died of SIGKILL
// (with the reaper off, which would clean it at once).
func killed(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := serveInChild(t, dir, serveEnv+"="+dir, "PMEM2EMU_REAPER=off")
	wantRead(t, dir, "file", "served by a child\n")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.ReadDir(dir); !errors.Is(err, unix.ENOTCONN) {
		t.Fatalf("readdir after SIGKILL: %v, want ENOTCONN", err)
	}
	return dir
}

func TestStaleMountsOfAKilledServerAreFoundAndCleaned(t *testing.T) {
	dir := killed(t)
	_, live := mount(t, fusefs.Tree{}, nil)
	stale, err := fusefs.Stale()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(stale, dir) {
		t.Errorf("Stale() = %q, want it to hold %s", stale, dir)
	}
	if slices.Contains(stale, live) {
		t.Errorf("Stale() = %q holds the live mount %s", stale, live)
	}
	cleaned, err := fusefs.CleanStale()
	if err != nil || !slices.Contains(cleaned, dir) {
		t.Errorf("CleanStale() = %q, %v", cleaned, err)
	}
	if line := mountinfoLine(t, dir); line != "" {
		t.Errorf("still in mountinfo: %s", line)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("the directory underneath: %v, %v", ents, err)
	}
	if line := mountinfoLine(t, live); line == "" {
		t.Error("CleanStale unmounted a live mount")
	}
}

func TestMountRecoversADirectoryLeftByAKilledServer(t *testing.T) {
	dir := killed(t)
	srv, err := fusefs.Mount(dir, fusefs.Tree{"f": fusefs.File("recovered")}, nil)
	if err != nil {
		t.Fatalf("Mount over a stale mount: %v", err)
	}
	defer srv.Close()
	wantRead(t, dir, "f", "recovered")
}

func TestUnmountUnmountsOurMountsOnly(t *testing.T) {
	t.Run("a mount served by another process", func(t *testing.T) {
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		serveInChild(t, dir)
		if err := fusefs.Unmount(dir); err != nil {
			t.Fatal(err)
		}
		if line := mountinfoLine(t, dir); line != "" {
			t.Errorf("still in mountinfo: %s", line)
		}
	})
	t.Run("a dead mount", func(t *testing.T) {
		dir := killed(t)
		if err := fusefs.Unmount(dir); err != nil {
			t.Fatal(err)
		}
		if line := mountinfoLine(t, dir); line != "" {
			t.Errorf("still in mountinfo: %s", line)
		}
	})
	t.Run("a directory without a mount is ErrNotMounted", func(t *testing.T) {
		if err := fusefs.Unmount(t.TempDir()); !errors.Is(err, fusefs.ErrNotMounted) {
			t.Errorf("Unmount: %v", err)
		}
	})
	t.Run("a mount of another file system is ErrNotMounted", func(t *testing.T) {
		if err := fusefs.Unmount("/proc"); !errors.Is(err, fusefs.ErrNotMounted) {
			t.Errorf("Unmount: %v", err)
		}
	})
	t.Run("Close after Unmount still succeeds", func(t *testing.T) {
		srv, err := fusefs.Mount(t.TempDir(), fusefs.Tree{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := fusefs.Unmount(srv.Dir()); err != nil {
			t.Fatal(err)
		}
		within(t, 10e9, "Close", func() {
			if err := srv.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	})
}

// A child that inherited a mount's /dev/fuse descriptor would keep the
// connection alive after the server died: the mount would hang instead of
// failing with ENOTCONN.
func TestChildrenDoNotInheritTheFuseDescriptor(t *testing.T) {
	mount(t, fusefs.Tree{}, nil)
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	cmd := serveInChild(t, dir)
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "fd"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "fd", fd.Name())); target == "/dev/fuse" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the child holds %d /dev/fuse descriptors, want 1 (its own)", n)
	}
}
