package fusefs_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// enumerate does what libndctl does to a sysfs tree: list every
// directory, open, read and close every file, read every link.
func enumerate(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		switch {
		case err != nil:
		case fi.Mode().IsRegular() && fi.Mode()&0o444 != 0:
			_, err = os.ReadFile(p)
		case fi.Mode()&os.ModeSymlink != 0:
			_, err = os.Readlink(p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("enumerating: %v", err)
	}
}

func TestAWarmEnumerationReachesTheServerOnlyToOpenAndRead(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts fusefs.Options
		want map[fusefs.Op]bool // the only operations that may reach the server
	}{
		// Lookups, attributes, listings and links are cached; each read
		// leaves the access time to be asked for with the next stat.
		{"by default opens and reads reach the server", fusefs.Options{},
			map[fusefs.Op]bool{fusefs.OpOpen: true, fusefs.OpRead: true, fusefs.OpGetattr: true}},
		{"with KernelOpen nothing does", fusefs.Options{KernelOpen: true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, dir := mount(t, sysfsLike(20), &tt.opts)
			// The reads that fill the page cache leave the access time
			// to be asked for once more (a getattr with the next stat).
			enumerate(t, dir)
			enumerate(t, dir)
			srv.ResetCalls()
			enumerate(t, dir)
			seen := map[fusefs.Op]bool{}
			for p, ops := range srv.CallCounts() {
				for op, n := range ops {
					if !tt.want[op] {
						t.Errorf("%s: %d %v calls reached the server", p, n, op)
					}
					seen[op] = true
				}
			}
			if tt.want[fusefs.OpOpen] && (!seen[fusefs.OpOpen] || !seen[fusefs.OpRead]) {
				t.Errorf("opens and reads were not all counted: %v", seen)
			}
		})
	}
}

func TestKernelOpenRefusesRulesItCannotApply(t *testing.T) {
	tree := fusefs.Tree{"f": fusefs.File("x")}
	onOpen := fusefs.Fault{Path: "f", Op: fusefs.OpOpen, Errno: syscall.EIO}
	opts := fusefs.Options{KernelOpen: true, Faults: []fusefs.Fault{onOpen}}
	if srv, err := fusefs.Mount(t.TempDir(), tree, &opts); !errors.Is(err, fusefs.ErrInvalidFault) {
		if err == nil {
			srv.Close()
		}
		t.Errorf("Mount with a rule on open: %v, want ErrInvalidFault", err)
	}
	srv, _ := mount(t, tree, &fusefs.Options{KernelOpen: true})
	if err := srv.AddFault(onOpen); !errors.Is(err, fusefs.ErrInvalidFault) || !strings.Contains(err.Error(), "KernelOpen") {
		t.Errorf("AddFault: %v, want ErrInvalidFault naming KernelOpen", err)
	}
	onRead := fusefs.Fault{Path: "f", Op: fusefs.OpRead, Errno: syscall.EIO}
	if err := srv.SetFaults([]fusefs.Fault{onRead}); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults([]fusefs.Fault{onRead, onOpen}); !errors.Is(err, fusefs.ErrInvalidFault) {
		t.Errorf("SetFaults: %v, want ErrInvalidFault", err)
	}
	if got := srv.Faults(); len(got) != 1 || got[0] != onRead {
		t.Errorf("after a refused SetFaults the rules are %v", got)
	}
	shortRead := fusefs.Fault{Path: "f", Op: fusefs.OpRead, Short: 1}
	if err := srv.AddFault(shortRead); !errors.Is(err, fusefs.ErrInvalidFault) || !strings.Contains(err.Error(), "page cache") {
		t.Errorf("AddFault of a short read: %v, want ErrInvalidFault naming the page cache", err)
	}
	if err := srv.AddFault(fusefs.Fault{Path: "f", Op: fusefs.OpWrite, Short: 1}); err != nil {
		t.Errorf("a short write: %v", err)
	}
}

// With KernelOpen, reads go through the page cache and writes through it
// to the server: what the server holds is what every reader reads.
func TestKernelOpenReadsAndWritesAsWithout(t *testing.T) {
	opts := &fusefs.Options{KernelOpen: true}
	t.Run("a write is read back and is the server's", func(t *testing.T) {
		srv, dir := mount(t, mine(fusefs.Tree{"f": fusefs.File("hello\n")}), opts)
		old := openOld(t, filepath.Join(dir, "f"), unix.O_RDONLY)
		pread(old)
		w := openOld(t, filepath.Join(dir, "f"), unix.O_RDWR)
		if n, err := unix.Pwrite(w, []byte("J"), 0); n != 1 || err != nil {
			t.Fatalf("pwrite: %d, %v", n, err)
		}
		if got, err := pread(old); got != "Jello\n" || err != nil {
			t.Errorf("the old descriptor reads %q, %v", got, err)
		}
		if n, _ := srv.Node("f"); string(n.Data) != "Jello\n" {
			t.Errorf("the server holds %q", n.Data)
		}
		if err := unix.Ftruncate(w, 2); err != nil {
			t.Fatal(err)
		}
		if got, err := pread(old); got != "Je" || err != nil {
			t.Errorf("after ftruncate the old descriptor reads %q, %v", got, err)
		}
	})
	t.Run("a short write leaves what the server stored", func(t *testing.T) {
		srv, dir := mount(t, mine(fusefs.Tree{"f": fusefs.File("hello\n")}), opts)
		w := openOld(t, filepath.Join(dir, "f"), unix.O_RDWR)
		pread(w)
		if err := srv.AddFault(fusefs.Fault{Path: "f", Op: fusefs.OpWrite, Short: 2}); err != nil {
			t.Fatal(err)
		}
		if n, err := unix.Pwrite(w, []byte("XYZW"), 0); n != 2 || err != nil {
			t.Errorf("pwrite: %d, %v; want 2", n, err)
		}
		srv.ClearFaults()
		if got, err := pread(w); got != "XYllo\n" || err != nil {
			t.Errorf("read back %q, %v; want the server's \"XYllo\\n\"", got, err)
		}
	})
	t.Run("write and fsync rules fail their calls", func(t *testing.T) {
		srv, dir := mount(t, mine(fusefs.Tree{"f": fusefs.File("hello\n")}), opts)
		w := openOld(t, filepath.Join(dir, "f"), unix.O_RDWR)
		srv.SetFaults([]fusefs.Fault{
			{Path: "f", Op: fusefs.OpWrite, Errno: ruleErrno},
			{Path: "f", Op: fusefs.OpFsync, Errno: ruleErrno},
		})
		_, err := unix.Pwrite(w, []byte("x"), 0)
		wantErrno(t, "pwrite", err, ruleErrno)
		wantErrno(t, "fsync", unix.Fsync(w), ruleErrno)
	})
	t.Run("a read failing once fails one read(2), counted once", func(t *testing.T) {
		srv, dir := mount(t, mine(fusefs.Tree{"f": fusefs.File("hello\n")}), opts)
		old := openOld(t, filepath.Join(dir, "f"), unix.O_RDONLY)
		pread(old)
		srv.AddFault(fusefs.Fault{Path: "f", Op: fusefs.OpRead, Errno: ruleErrno, Times: 1})
		before := srv.Calls("f", fusefs.OpRead)
		if _, err := pread(old); !errors.Is(err, ruleErrno) {
			t.Errorf("first read: %v, want %v", err, ruleErrno)
		}
		if got, err := pread(old); got != "hello\n" || err != nil {
			t.Errorf("second read: %q, %v", got, err)
		}
		if n := srv.Calls("f", fusefs.OpRead) - before; n != 2 {
			t.Errorf("%d reads counted, want 2", n)
		}
	})
}

func TestKernelOpenLeavesPermissionsToTheKernel(t *testing.T) {
	testutil.RootOnly(t, "it reads as root what only root may read, and calls as another user (setfsuid)")
	const nobody = 65534
	tree := fusefs.Tree{
		"private": {Type: fusefs.TypeFile, Mode: 0600, Data: []byte("root only")},
		"public":  {Type: fusefs.TypeFile, Mode: 0644, Data: []byte("anyone reads")},
		"wonly":   {Type: fusefs.TypeFile, Mode: 0200, Data: []byte("4096\n")},
	}
	t.Run("a private mount leaves the checks to the kernel too", func(t *testing.T) {
		// A normal user who mounted the tree must still meet EACCES on
		// a root-only file, as on real hardware.
		srv, dir := mount(t, tree, &fusefs.Options{KernelOpen: true})
		if !superOptions(t, srv.Dir())["default_permissions"] {
			t.Errorf("no default_permissions: %s", testutil.Line(testutil.MountAt(t, srv.Dir())))
		}
		// Without KernelOpen root could not read a file without r bits
		// (as in sysfs); the kernel lets root read anything.
		if got := readFile(t, filepath.Join(dir, "wonly")); got != "4096\n" {
			t.Errorf("root reads %q", got)
		}
	})
	t.Run("with AllowOther the kernel checks the bits", func(t *testing.T) {
		srv, dir := mount(t, tree, &fusefs.Options{KernelOpen: true, AllowOther: true})
		if !superOptions(t, srv.Dir())["default_permissions"] {
			t.Errorf("no default_permissions: %s", testutil.Line(testutil.MountAt(t, srv.Dir())))
		}
		root := testutil.OpenFD(t, dir, unix.O_PATH|unix.O_DIRECTORY)
		for _, c := range []struct {
			path string
			want syscall.Errno
		}{{"private", unix.EACCES}, {"public", 0}} {
			var err error
			asUser(nobody, nobody, func() {
				var fd int
				if fd, err = unix.Openat(root, c.path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
					unix.Close(fd)
				}
			})
			wantErrno(t, "nobody opens "+c.path, err, c.want)
		}
	})
}

// With NoCache every read and listing reaches the server, also through
// descriptors that read via the page cache.
func TestNoCacheReachesTheServerOnEveryCall(t *testing.T) {
	for _, mode := range cacheModes {
		t.Run(mode.name, func(t *testing.T) {
			opts := mode.opts
			opts.NoCache = true
			srv, dir := mount(t, cacheTree(), &opts)
			f := openOld(t, filepath.Join(dir, "d/f"), unix.O_RDONLY)
			d := openOld(t, filepath.Join(dir, "d"), unix.O_RDONLY|unix.O_DIRECTORY)
			for i := 1; i <= 3; i++ {
				if got, err := pread(f); got != "old\n" || err != nil {
					t.Fatalf("pread: %q, %v", got, err)
				}
				if _, err := listAgain(d); err != nil {
					t.Fatal(err)
				}
				if n := srv.Calls("d/f", fusefs.OpRead); n != uint64(i) {
					t.Errorf("after %d reads, %d counted", i, n)
				}
				if n := srv.Calls("d", fusefs.OpReaddir); n != uint64(i) {
					t.Errorf("after %d listings, %d counted", i, n)
				}
			}
		})
	}
}

// On a kernel without a feature the mount serves as well, only with less
// caching: without AUTO_INVAL_DATA no page or listing cache (every read
// and listing reaches the server); without no-open support the kernel
// opens through the server, and files open for direct I/O.
func TestMountsFallBackOnKernelsWithoutAFeature(t *testing.T) {
	for _, tt := range []struct {
		name        string
		hide        uint64
		listsCached bool
	}{
		{"no AUTO_INVAL_DATA", fuse.CAP_AUTO_INVAL_DATA, false},
		{"no no-open support", fuse.CAP_NO_OPEN_SUPPORT | fuse.CAP_NO_OPENDIR_SUPPORT, true},
	} {
		for _, mode := range cacheModes {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
				restore := fusefs.HideKernelFeatures(tt.hide)
				srv, dir := mount(t, cacheTree(), &mode.opts)
				restore()
				warmUp(t, dir)
				srv.ResetCalls()
				wantRead := func(p, want string) {
					t.Helper()
					if got := readFile(t, filepath.Join(dir, p)); got != want {
						t.Errorf("%s: %q, want %q", p, got, want)
					}
				}
				wantRead("d/f", "old\n")
				if _, err := os.ReadDir(filepath.Join(dir, "d")); err != nil {
					t.Fatal(err)
				}
				if n := srv.Calls("d/f", fusefs.OpRead); n == 0 {
					t.Error("a warm read did not reach the server")
				}
				if lists := srv.Calls("d", fusefs.OpReaddir); (lists == 0) != tt.listsCached {
					t.Errorf("%d warm listings reached the server; want cached %v", lists, tt.listsCached)
				}
				if err := srv.SetData("d/f", []byte("new data\n")); err != nil {
					t.Fatal(err)
				}
				wantRead("d/f", "new data\n")
				if err := srv.AddFault(fusefs.Fault{Path: "d/f", Op: fusefs.OpRead, Errno: ruleErrno}); err != nil {
					t.Fatal(err)
				}
				if _, err := os.ReadFile(filepath.Join(dir, "d/f")); !errors.Is(err, ruleErrno) {
					t.Errorf("read under a rule: %v", err)
				}
			})
		}
	}
}

// Under KernelOpen many threads opening and reading a file that changes
// and that a rule watches on and off each get one whole content or the
// rule's error, and while the rule is in force only the error.
func TestKernelOpenConcurrentReadsOfAChangingFileAreWhole(t *testing.T) {
	contents := []string{"16777216\n", "0x2000000\n", "", "sixteen megabytes\n", "0x400\n"}
	srv, dir := mount(t, mine(fusefs.Tree{"d/size": fusefs.File(contents[0])}), &fusefs.Options{KernelOpen: true})
	p := filepath.Join(dir, "d/size")
	var (
		state   atomic.Int64 // even when no change is under way
		ruled   atomic.Bool
		stop    atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		badOnes []string
	)
	for range 16 {
		wg.Go(func() {
			buf := make([]byte, 64)
			for !stop.Load() {
				before, inRule := state.Load(), ruled.Load()
				fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					t.Error(err)
					return
				}
				n, err := unix.Pread(fd, buf, 0)
				unix.Close(fd)
				stable := before%2 == 0 && state.Load() == before
				got := string(buf[:max(n, 0)])
				var bad string
				switch {
				case err != nil && !errors.Is(err, ruleErrno):
					bad = err.Error()
				case err == nil && stable && inRule:
					bad = fmt.Sprintf("%q while the rule was in force", got)
				case err == nil && !slices.Contains(contents, got):
					bad = fmt.Sprintf("%q, which the file never held", got)
				}
				if bad != "" {
					mu.Lock()
					badOnes = append(badOnes, bad)
					mu.Unlock()
				}
			}
		})
	}
	for i := range 600 {
		state.Add(1)
		switch i % 3 {
		case 0:
			srv.SetData("d/size", []byte(contents[i%len(contents)]))
		case 1:
			srv.SetFaults([]fusefs.Fault{{Path: "d/size", Op: fusefs.OpRead, Errno: ruleErrno}})
			ruled.Store(true)
		case 2:
			srv.ClearFaults()
			ruled.Store(false)
		}
		state.Add(1)
		time.Sleep(time.Duration(i%5) * 200 * time.Microsecond)
	}
	stop.Store(true)
	wg.Wait()
	if len(badOnes) > 0 {
		t.Errorf("%d bad reads, first: %s", len(badOnes), badOnes[0])
	}
}

// superOptions are the file system's options (mountinfo's last field) of
// the mount on dir, where FUSE shows default_permissions.
func superOptions(t *testing.T, dir string) map[string]bool {
	t.Helper()
	m := testutil.MountAt(t, dir)
	if m == nil {
		t.Fatalf("%s is not mounted", dir)
	}
	return testutil.Options(m.VFSOptions)
}
