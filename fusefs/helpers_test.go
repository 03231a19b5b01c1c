package fusefs_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"golang.org/x/sys/unix"
)

// mount serves tree on a fresh directory and unmounts it when the test
// ends, checking that nothing is left in /proc/self/mountinfo.
func mount(t testing.TB, tree fusefs.Tree, opts *fusefs.Options) (*fusefs.Server, string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := fusefs.Mount(dir, tree, opts)
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if m := mountinfoLine(t, srv.Dir()); m != "" {
			t.Errorf("still mounted after Close: %s", m)
		}
	})
	return srv, srv.Dir()
}

// mountinfoLine returns the /proc/self/mountinfo line for mount point dir,
// or "".
func mountinfoLine(t testing.TB, dir string) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == dir {
			return sc.Text()
		}
	}
	return ""
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

func openDir(t testing.TB, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func within(t testing.TB, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %v", what, d)
	}
}

func osOpen(p string) (*os.File, error) {
	f, err := os.Open(p)
	if err == nil {
		f.Close()
	}
	return f, err
}
