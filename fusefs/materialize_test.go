package fusefs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// tmpfs mounts a private nodev,nosuid tmpfs for the test.
func tmpfs(t testing.TB) string {
	t.Helper()
	testutil.RootOnly(t, "it mounts a tmpfs")
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NODEV|unix.MS_NOSUID, "mode=0755"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount tmpfs: %v", err)
		}
	})
	return dir
}

func TestMaterializeWritesTheSameTree(t *testing.T) {
	tree := kinds()
	_, fuse := mount(t, tree, nil)
	real := tmpfs(t)
	require.NoError(t, tree.Materialize(real))
	err := filepathWalk(fuse, func(rel string) {
		f, r := lstat(t, filepath.Join(fuse, rel)), lstat(t, filepath.Join(real, rel))
		if f.Mode != r.Mode || f.Uid != r.Uid || f.Gid != r.Gid || f.Rdev != r.Rdev {
			t.Errorf("%s: fuse mode %#o owner %d:%d rdev %d; tmpfs mode %#o owner %d:%d rdev %d",
				rel, f.Mode, f.Uid, f.Gid, f.Rdev, r.Mode, r.Uid, r.Gid, r.Rdev)
		}
		if f.Mode&unix.S_IFMT != unix.S_IFDIR && f.Size != r.Size {
			t.Errorf("%s: fuse size %d, tmpfs size %d", rel, f.Size, r.Size)
		}
		if n := tree[rel]; n != nil && !n.Mtime.IsZero() && f.Mtim != r.Mtim {
			t.Errorf("%s: fuse mtime %v, tmpfs mtime %v", rel, f.Mtim, r.Mtim)
		}
		if f.Mode&unix.S_IFMT == unix.S_IFLNK {
			a, _ := os.Readlink(filepath.Join(fuse, rel))
			b, _ := os.Readlink(filepath.Join(real, rel))
			if a != b {
				t.Errorf("%s: fuse target %q, tmpfs target %q", rel, a, b)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, filepath.Join(real, "zero")); st.Blocks != 0 {
		t.Errorf("the 1 TiB zero file takes %d blocks on tmpfs", st.Blocks)
	}
	if got := readFile(t, filepath.Join(real, "dir/file")); got != "hello\n" {
		t.Errorf("dir/file holds %q", got)
	}
}

func TestMaterializeWritesDisksOnlyOnNodevMounts(t *testing.T) {
	testutil.RootOnly(t, "it makes device nodes with mknod")
	dir := t.TempDir() // not nodev on this machine's root file system
	var sfs unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &sfs))
	if sfs.Flags&unix.ST_NODEV != 0 {
		t.Fatalf("%s is on a nodev mount; this test needs one without", dir)
	}
	err := fusefs.Tree{"dev/sda": fusefs.BlockDev(8, 0)}.Materialize(dir)
	if !errors.Is(err, fusefs.ErrDeviceNotAllowed) || !strings.Contains(err.Error(), "dev/sda") {
		t.Errorf("Materialize: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "dev/sda")); err == nil {
		t.Error("the disk node was written")
	}
	if err := (fusefs.Tree{"dev/zero": fusefs.CharDev(1, 5)}).Materialize(dir); err != nil {
		t.Errorf("a memory device: %v", err)
	}
}

// filepathWalk calls fn with the relative path of everything under root.
func filepathWalk(root string, fn func(rel string)) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fn(rel)
		return nil
	})
}
