// Package emutest runs emulate fixtures in tests, as net/http/httptest
// runs servers: Start mounts one under t.TempDir() and closes it in
// t.Cleanup, and the Fixture it returns hands back a ready pmem2.Source on
// any node in one line. It is a package of its own so that testing is
// never linked into a program that uses emulate.
package emutest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Fixture is an emulate.Fixture bound to the test that started it.
type Fixture struct {
	*emulate.Fixture
	t testing.TB
}

// watched holds the temporary directories of tests whose stray mounts a
// Cleanup already looks for.
var watched sync.Map

// Start mounts spec (nil means emulate.Default()) under t.TempDir() and
// closes it in t.Cleanup. It fails the test at once, with the reason and
// the remedy, when the spec is invalid or FUSE is unavailable: a test that
// needs the fixture never silently skips.
//
// Close (in Cleanup or earlier) logs through t.Logf a mount it finds busy
// — a descriptor or a working directory left inside — before detaching it.
// A fixture the test mounted itself with emulate.Mount on t.TempDir() and
// never closed is named at the end of the test, where it would otherwise
// surface only as "TempDir RemoveAll cleanup: unlinkat …: operation not
// permitted": when Start made the test's first temporary directory (so no
// Close of the test can still be pending) it fails the test and is
// unmounted; else it is logged.
func Start(t testing.TB, spec *emulate.Spec, opts ...emulate.Option) *Fixture {
	t.Helper()
	dir := t.TempDir()
	if tmp := filepath.Dir(dir); !loaded(tmp) {
		// Registered before any Close of this test, so it runs after
		// them; after every cleanup but the removal when dir is the first.
		last := filepath.Base(dir) == "001"
		t.Cleanup(func() { watched.Delete(tmp); strays(t, tmp, last) })
	}
	busy := emulate.WithBusyReport(func(root string) {
		t.Logf("emutest: %s was busy at Close: a descriptor or a working directory inside it was left open; "+
			"the mount is detached, and whatever still holds it gets ENOTCONN where the connection can be aborted "+
			"(as root, or with /sys/fs/fuse/connections mounted) or is served until it lets go", root)
	})
	ef, err := emulate.Mount(dir, spec, append(slices.Clip(opts), busy)...)
	if err != nil {
		t.Fatal(failure(err))
	}
	t.Cleanup(func() {
		if err := ef.Close(); err != nil {
			t.Errorf("emutest: unmounting the fixture: %v", err)
		}
	})
	return &Fixture{Fixture: ef, t: t}
}

func loaded(dir string) bool {
	_, ok := watched.LoadOrStore(dir, true)
	return ok
}

// failure is Start's message for a failed mount: the error, and for a
// machine without FUSE what to do about it.
func failure(err error) string {
	if errors.Is(err, fusefs.ErrNoFuse) {
		return fmt.Sprintf("emutest.Start: FUSE is unavailable: %v\n"+
			"\tThe fixture needs /dev/fuse (modprobe fuse; in a container run with --device /dev/fuse --cap-add SYS_ADMIN)\n"+
			"\tand, when not root, fusermount3: apt-get install -y fuse3", err)
	}
	return "emutest.Start: " + err.Error()
}

// strays names every fixture still mounted below tmp, the test's
// temporary directory; with last (no cleanup of the test is left to close
// it) it fails t and unmounts it.
func strays(t testing.TB, tmp string, last bool) {
	var top unix.Stat_t
	if unix.Lstat(tmp, &top) != nil {
		return
	}
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		var st unix.Stat_t
		if p == tmp || (err == nil && !d.IsDir()) || (unix.Lstat(p, &st) == nil && st.Dev == top.Dev) {
			return nil
		}
		if sf := (unix.Statfs_t{}); unix.Statfs(p, &sf) == nil && sf.Type != unix.FUSE_SUPER_MAGIC {
			return fs.SkipDir // a mount of something else, not ours to judge
		}
		if !last {
			t.Logf("emutest: a fixture is still mounted on %s at the end of the test: unless a cleanup closes it, it was never closed", p)
			return fs.SkipDir
		}
		switch err := fusefs.Unmount(p); {
		case errors.Is(err, fusefs.ErrNotMounted):
		case err != nil:
			t.Errorf("emutest: a fixture is still mounted on %s: it was never closed, and unmounting it failed: %v", p, err)
		default:
			t.Errorf("emutest: a fixture was still mounted on %s: it was never closed (call its Close); unmounted now", p)
		}
		return fs.SkipDir
	})
}

// Open opens the node at path (relative to the fixture root, or absolute
// below it) with flags and O_CLOEXEC, and closes the descriptor in
// Cleanup. A failed open fails the test.
func (f *Fixture) Open(path string, flags int) int {
	f.t.Helper()
	fd, err := unix.Open(f.Path(path), flags|unix.O_CLOEXEC, 0)
	if err != nil {
		f.t.Fatalf("emutest: %v", &os.PathError{Op: "open", Path: f.Path(path), Err: err})
	}
	f.t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// Source is pmem2.SourceFromFD, reading the fixture's sysfs, on a
// descriptor of the node at path opened with flags (unix.O_PATH,
// unix.O_RDWR …); the source is deleted and the descriptor closed in
// Cleanup. A failure fails the test: to check an error, Open the node and
// call pmem2.SourceFromFD(fd, f.PmemOptions()...) yourself.
func (f *Fixture) Source(path string, flags int) *pmem2.Source {
	f.t.Helper()
	src, err := pmem2.SourceFromFD(f.Open(path, flags), f.PmemOptions()...)
	if err != nil {
		f.t.Fatalf("emutest: pmem2.SourceFromFD on %s: %v", path, err)
	}
	f.t.Cleanup(func() { src.Delete() })
	return src
}
