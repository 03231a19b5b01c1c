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
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// serveInChild mounts a tree on dir from a child process (this test binary
// in the role "serve", see TestMain) and returns it once the mount
// answers. env adds to the child's environment.
func serveInChild(t *testing.T, dir string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := startRole(t, "serve", dir, env, "ready")
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
	require.NoError(t, err)
	return killedAt(t, dir)
}

// killedAt is killed on the empty directory dir.
func killedAt(t *testing.T, dir string) string {
	t.Helper()
	cmd := serveInChild(t, dir, reaperOff)
	wantRead(t, dir, "file", "served by a child\n")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	_, err := os.ReadDir(dir)
	require.ErrorIs(t, err, unix.ENOTCONN, "readdir after SIGKILL")
	return dir
}

func TestStaleMountsOfAKilledServerAreFoundAndCleaned(t *testing.T) {
	dir := killed(t)
	_, live := mount(t, fusefs.Tree{}, nil)
	stale, err := fusefs.Stale()
	require.NoError(t, err)
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
	testutil.NothingMountedBelow(t, dir)
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("the directory underneath: %v, %v", ents, err)
	}
	assert.NotNil(t, testutil.MountAt(t, live), "CleanStale unmounted a live mount")
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
		require.NoError(t, fusefs.Unmount(dir))
		testutil.NothingMountedBelow(t, dir)
	})
	t.Run("a dead mount", func(t *testing.T) {
		dir := killed(t)
		require.NoError(t, fusefs.Unmount(dir))
		testutil.NothingMountedBelow(t, dir)
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
		require.NoError(t, err)
		require.NoError(t, fusefs.Unmount(srv.Dir()))
		testutil.Within(t, 10*time.Second, "Close", func() {
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
	require.NoError(t, err)
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

// The mount table escapes a space, a tab or a backslash in a mount point
// (\040, \011, \134): mounts on such directories are found by their real
// names all the same.
func TestMountPointsWithEscapedCharactersAreFoundByTheirNames(t *testing.T) {
	odd := func(t *testing.T) string {
		dir, err := filepath.EvalSymlinks(t.TempDir())
		require.NoError(t, err)
		dir = filepath.Join(dir, "a b\tc\\d")
		require.NoError(t, os.Mkdir(dir, 0o755))
		return dir
	}
	t.Run("Unmount finds a live mount", func(t *testing.T) {
		dir := odd(t)
		srv, err := fusefs.Mount(dir, fusefs.Tree{}, nil)
		require.NoError(t, err)
		require.NoError(t, fusefs.Unmount(dir))
		assert.Nil(t, testutil.MountAt(t, dir))
		assert.NoError(t, srv.Close())
	})
	t.Run("Stale lists a dead mount and CleanStale detaches it", func(t *testing.T) {
		dir := killedAt(t, odd(t))
		stale, err := fusefs.Stale()
		require.NoError(t, err)
		assert.Contains(t, stale, dir)
		cleaned, err := fusefs.CleanStale()
		require.NoError(t, err)
		assert.Contains(t, cleaned, dir)
		testutil.NothingMountedBelow(t, dir)
	})
	t.Run("a new Mount recovers the directory", func(t *testing.T) {
		dir := killedAt(t, odd(t))
		srv, err := fusefs.Mount(dir, fusefs.Tree{"f": fusefs.File("recovered")}, nil)
		require.NoError(t, err)
		defer srv.Close()
		wantRead(t, dir, "f", "recovered")
	})
}
