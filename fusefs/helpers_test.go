package fusefs_test

import (
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// me and myGroup run the tests. A tree whose files a test writes, or whose
// directories it lists as itself, is theirs (mine), so that the test holds
// for root and for a normal user alike: the server checks permissions as
// the kernel would, and a normal user cannot write root's 0644 file.
var me, myGroup = uint32(os.Geteuid()), uint32(os.Getegid())

// mine gives every node of tree, the root included when declared, to me
// and myGroup, and returns tree.
func mine(tree fusefs.Tree) fusefs.Tree {
	for _, n := range tree {
		n.UID, n.GID = me, myGroup
	}
	return tree
}

// mount serves tree on a fresh directory and unmounts it when the test
// ends, checking that nothing is left in the mount table.
func mount(t testing.TB, tree fusefs.Tree, opts *fusefs.Options) (*fusefs.Server, string) {
	t.Helper()
	srv, err := fusefs.Mount(t.TempDir(), tree, opts)
	require.NoError(t, err, "Mount")
	t.Cleanup(func() {
		assert.NoError(t, srv.Close(), "Close")
		testutil.NothingMountedBelow(t, srv.Dir())
	})
	return srv, srv.Dir()
}

func lstat(t testing.TB, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st
}

// errnoOf returns the errno inside err, 0 for nil, or fails the test.
func errnoOf(t testing.TB, err error) syscall.Errno {
	t.Helper()
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an errno", err)
	}
	return e
}

func wantErrno(t testing.TB, what string, err error, want syscall.Errno) {
	t.Helper()
	if got := errnoOf(t, err); got != want {
		t.Errorf("%s: got %v (%v), want %v", what, got, err, want)
	}
}

// dirent is one getdents64 record.
type dirent struct {
	ino  uint64
	typ  uint8
	name string
}

// readdir lists dir with getdents64, keeping the inode numbers os.ReadDir
// hides.
func readdir(t testing.TB, dir string) ([]dirent, error) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return getdents(fd)
}

// getdents reads the open directory fd from its offset to its end.
func getdents(fd int) ([]dirent, error) {
	var out []dirent
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return out, err
		}
		if n == 0 {
			return out, nil
		}
		for b := buf[:n]; len(b) > 0; {
			reclen := binary.LittleEndian.Uint16(b[16:18])
			name := b[19:reclen]
			if i := strings.IndexByte(string(name), 0); i >= 0 {
				name = name[:i]
			}
			out = append(out, dirent{ino: binary.LittleEndian.Uint64(b[0:8]), typ: b[18], name: string(name)})
			b = b[reclen:]
		}
	}
}

// asUser runs fn on an OS thread whose filesystem uid and gid are uid and
// gid, which is what FUSE reports as the caller. The thread is discarded
// afterwards. Paths fn uses should be relative to a descriptor opened
// beforehand, as the test's temporary directories are closed to others.
func asUser(uid, gid int, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with us
		unix.Setfsgid(gid)
		unix.Setfsuid(uid)
		fn()
	}()
	<-done
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func osOpen(p string) (*os.File, error) {
	f, err := os.Open(p)
	if err == nil {
		f.Close()
	}
	return f, err
}
