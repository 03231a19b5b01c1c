package fusefs_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func faultTree() fusefs.Tree {
	return mine(fusefs.Tree{
		"d/f":     fusefs.File("0123456789"),
		"d/g":     fusefs.File("other"),
		"d/link":  fusefs.Symlink("f"),
		"d/sub/f": fusefs.File("deep"),
		"hop":     fusefs.Symlink("d/link"),
	})
}

// A call is one system call on a path below the mount, whose error a
// fault rule decides.
type call func(t *testing.T, dir string) error

// on is fn called on path p below the mount.
func on(p string, fn func(string) error) call {
	return func(t *testing.T, dir string) error { return fn(filepath.Join(dir, p)) }
}

// The calls fn of on.
var (
	stat     = func(p string) error { _, err := os.Stat(p); return err }
	read     = func(p string) error { _, err := os.ReadFile(p); return err }
	readDir  = func(p string) error { _, err := os.ReadDir(p); return err }
	open     = func(p string) error { _, err := osOpen(p); return err }
	readlink = func(p string) error { _, err := os.Readlink(p); return err }
	realpath = func(p string) error { _, err := filepath.EvalSymlinks(p); return err }
)

// onOpenFile opens p with flag, which must succeed, and returns what do
// does with the descriptor.
func onOpenFile(p string, flag int, do func(*os.File) error) call {
	return func(t *testing.T, dir string) error {
		f, err := os.OpenFile(filepath.Join(dir, p), flag, 0)
		require.NoError(t, err, "open must succeed")
		defer f.Close()
		return do(f)
	}
}

func TestEachFaultReachesTheSystemCall(t *testing.T) {
	fstat := func(f *os.File) error { _, err := f.Stat(); return err }
	write := func(f *os.File) error { _, err := f.Write([]byte("x")); return err }
	tests := []struct {
		name  string
		fault fusefs.Fault
		call  call
		want  syscall.Errno
	}{
		{"a getattr fault fails fstat while open succeeds",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpGetattr, Errno: syscall.EIO}, onOpenFile("d/f", os.O_RDONLY, fstat), syscall.EIO},
		{"a getattr fault fails stat",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpGetattr, Errno: syscall.EIO}, on("d/f", stat), syscall.EIO},
		{"a lookup fault fails stat",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpLookup, Errno: syscall.EACCES}, on("d/f", stat), syscall.EACCES},
		{"a lookup fault of ENOENT hides a node",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpLookup, Errno: syscall.ENOENT}, on("d/f", stat), syscall.ENOENT},
		{"a lookup fault on a missing name replaces ENOENT",
			fusefs.Fault{Path: "d/nothing", Op: fusefs.OpLookup, Errno: syscall.EIO}, on("d/nothing", stat), syscall.EIO},
		{"an open fault fails open",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpOpen, Errno: syscall.ENXIO}, on("d/f", open), syscall.ENXIO},
		{"an open fault on a directory fails opendir",
			fusefs.Fault{Path: "d", Op: fusefs.OpOpen, Errno: syscall.EMFILE}, on("d", readDir), syscall.EMFILE},
		{"a read fault fails read",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpRead, Errno: syscall.EIO}, on("d/f", read), syscall.EIO},
		{"a write fault fails write",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpWrite, Errno: syscall.ENOSPC}, onOpenFile("d/f", os.O_WRONLY, write), syscall.ENOSPC},
		{"a readlink fault fails readlink",
			fusefs.Fault{Path: "d/link", Op: fusefs.OpReadlink, Errno: syscall.EIO},
			on("d/link", readlink), syscall.EIO},
		{"a readlink fault fails realpath through a chain",
			fusefs.Fault{Path: "d/link", Op: fusefs.OpReadlink, Errno: syscall.EIO},
			on("hop", realpath), syscall.EIO},
		{"a readlink fault fails a path walk through the link",
			fusefs.Fault{Path: "d/link", Op: fusefs.OpReadlink, Errno: syscall.EIO}, on("hop", stat), syscall.EIO},
		{"a readdir fault fails getdents",
			fusefs.Fault{Path: "d", Op: fusefs.OpReaddir, Errno: syscall.EIO}, on("d", readDir), syscall.EIO},
		{"an fsync fault fails fsync",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpFsync, Errno: syscall.EIO}, onOpenFile("d/f", os.O_RDWR, (*os.File).Sync), syscall.EIO},
		{"an fsync fault on a directory fails fsync of the directory",
			fusefs.Fault{Path: "d", Op: fusefs.OpFsync, Errno: syscall.EROFS}, onOpenFile("d", os.O_RDONLY, (*os.File).Sync), syscall.EROFS},
		{"a truncate fault fails truncate",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpSetattr, Errno: syscall.EPERM},
			on("d/f", func(p string) error { return os.Truncate(p, 1) }), syscall.EPERM},
		{"a truncate fault fails ftruncate",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpSetattr, Errno: syscall.EFBIG},
			onOpenFile("d/f", os.O_RDWR, func(f *os.File) error { return f.Truncate(0) }), syscall.EFBIG},
		{"a setattr fault fails chmod",
			fusefs.Fault{Path: "d/f", Op: fusefs.OpSetattr, Errno: syscall.EIO},
			on("d/f", func(p string) error { return os.Chmod(p, 0600) }), syscall.EIO},
		{"a glob with ** matches at any depth",
			fusefs.Fault{Path: "**/f", Op: fusefs.OpRead, Errno: syscall.EIO}, on("d/sub/f", read), syscall.EIO},
		{"a glob component matches one name",
			fusefs.Fault{Path: "d/*", Op: fusefs.OpRead, Errno: syscall.EIO}, on("d/g", read), syscall.EIO},
		{"a glob component does not match deeper",
			fusefs.Fault{Path: "d/*", Op: fusefs.OpRead, Errno: syscall.EIO}, on("d/sub/f", read), 0},
		{"a rule on another path leaves the call alone",
			fusefs.Fault{Path: "d/g", Op: fusefs.OpRead, Errno: syscall.EIO}, on("d/f", read), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name+" (rule from Mount)", func(t *testing.T) {
			_, dir := mount(t, faultTree(), &fusefs.Options{Faults: []fusefs.Fault{tt.fault}})
			wantErrno(t, "call", tt.call(t, dir), tt.want)
		})
		t.Run(tt.name+" (rule added to a warm cache)", func(t *testing.T) {
			srv, dir := mount(t, faultTree(), nil)
			warmUp(t, dir) // a fault must beat a warm kernel cache
			before := syscall.Errno(0)
			if tt.fault.Path == "d/nothing" {
				before = syscall.ENOENT // and cached as missing
			}
			wantErrno(t, "before the rule", tt.call(t, dir), before)
			wantErrno(t, "before the rule, from the cache", tt.call(t, dir), before)
			require.NoError(t, srv.AddFault(tt.fault))
			wantErrno(t, "call", tt.call(t, dir), tt.want)
			srv.ClearFaults()
			wantErrno(t, "after ClearFaults", tt.call(t, dir), before)
		})
	}
}

func TestShortReadsAndWritesTransferFewerBytes(t *testing.T) {
	srv, dir := mount(t, faultTree(), &fusefs.Options{Faults: []fusefs.Fault{
		{Path: "d/f", Op: fusefs.OpRead, Short: 3},
		{Path: "d/g", Op: fusefs.OpWrite, Short: 2},
	}})
	f, err := os.Open(filepath.Join(dir, "d/f"))
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 100)
	if n, err := f.Read(buf); n != 3 || err != nil || string(buf[:3]) != "012" {
		t.Errorf("short read: %d %q %v; want 3 bytes", n, buf[:n], err)
	}
	g, err := os.OpenFile(filepath.Join(dir, "d/g"), os.O_WRONLY, 0)
	require.NoError(t, err)
	defer g.Close()
	if n, err := unix.Write(int(g.Fd()), []byte("XYZW")); n != 2 || err != nil {
		t.Errorf("short write: %d %v; want 2", n, err)
	}
	if n, _ := srv.Node("d/g"); string(n.Data) != "XYher" {
		t.Errorf("after the short write the file holds %q", n.Data)
	}
}

func TestAfterAndTimesSelectWhichCallsFail(t *testing.T) {
	srv, dir := mount(t, faultTree(), &fusefs.Options{Faults: []fusefs.Fault{
		{Path: "d/f", Op: fusefs.OpOpen, Errno: syscall.EIO, After: 2, Times: 2},
	}})
	var got []syscall.Errno
	for range 6 {
		f, err := os.Open(filepath.Join(dir, "d/f"))
		if err == nil {
			f.Close()
		}
		got = append(got, errnoOf(t, err))
	}
	want := []syscall.Errno{0, 0, syscall.EIO, syscall.EIO, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("open results %v, want %v", got, want)
		}
	}
	if n := srv.Calls("d/f", fusefs.OpOpen); n != 6 {
		t.Errorf("counted %d opens, want 6 (faulted ones too)", n)
	}
}

func TestProbabilityWithASeedIsReproducible(t *testing.T) {
	srv, dir := mount(t, faultTree(), nil)
	pattern := func(seed int64) string {
		require.NoError(t, srv.SetFaults([]fusefs.Fault{{Path: "d/f", Op: fusefs.OpRead, Errno: syscall.EIO, Probability: 0.5, Seed: seed}}))
		f, err := os.Open(filepath.Join(dir, "d/f"))
		require.NoError(t, err)
		defer f.Close()
		b := make([]byte, 64)
		for range 64 {
			if _, err := f.ReadAt(make([]byte, 1), 0); err != nil {
				b = append(b, 'x')
			} else {
				b = append(b, '.')
			}
		}
		return string(b[64:])
	}
	a, b, c := pattern(42), pattern(42), pattern(7)
	if a != b {
		t.Errorf("same seed, different runs:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same run: %s", a)
	}
	fails := 0
	for _, r := range a {
		if r == 'x' {
			fails++
		}
	}
	if fails < 16 || fails > 48 {
		t.Errorf("%d of 64 calls failed at probability 0.5: %s", fails, a)
	}
}

func TestDelaySlowsTheCallDown(t *testing.T) {
	_, dir := mount(t, faultTree(), &fusefs.Options{Faults: []fusefs.Fault{
		{Path: "d/f", Op: fusefs.OpRead, Delay: 150 * time.Millisecond},
		{Path: "d/g", Op: fusefs.OpLookup, Delay: 150 * time.Millisecond, Errno: syscall.EIO},
	}})
	start := time.Now()
	if got := readFile(t, filepath.Join(dir, "d/f")); got != "0123456789" {
		t.Errorf("read %q", got)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("read took %v, want at least the delay", d)
	}
	start = time.Now()
	_, err := os.Stat(filepath.Join(dir, "d/g"))
	wantErrno(t, "stat", err, syscall.EIO)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("stat took %v, want at least the delay", d)
	}
}

func TestCloseCutsADelayedCallShort(t *testing.T) {
	srv, err := fusefs.Mount(t.TempDir(), faultTree(), &fusefs.Options{Faults: []fusefs.Fault{
		{Path: "d/f", Op: fusefs.OpRead, Delay: time.Hour},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(srv.Dir(), "d/f"))
	require.NoError(t, err)
	defer f.Close()
	go f.Read(make([]byte, 10)) // blocks in the delay
	time.Sleep(100 * time.Millisecond)
	testutil.Within(t, 20*time.Second, "Close", func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	testutil.NothingMountedBelow(t, srv.Dir())
}

func TestFaultRulesAreValidated(t *testing.T) {
	srv, _ := mount(t, faultTree(), nil)
	tests := []struct {
		name  string
		fault fusefs.Fault
	}{
		{"an unknown operation is refused", fusefs.Fault{Path: "d/f", Op: 0, Errno: syscall.EIO}},
		{"an errno with a short is refused", fusefs.Fault{Path: "d/f", Op: fusefs.OpRead, Errno: syscall.EIO, Short: 1}},
		{"a short on getattr is refused", fusefs.Fault{Path: "d/f", Op: fusefs.OpGetattr, Short: 1}},
		{"a rule that does nothing is refused", fusefs.Fault{Path: "d/f", Op: fusefs.OpRead}},
		{"a probability above 1 is refused", fusefs.Fault{Path: "d/f", Op: fusefs.OpRead, Errno: syscall.EIO, Probability: 1.5}},
		{"negative times are refused", fusefs.Fault{Path: "d/f", Op: fusefs.OpRead, Errno: syscall.EIO, Times: -1}},
		{"a negative delay is refused", fusefs.Fault{Path: "d/f", Op: fusefs.OpRead, Delay: -time.Second}},
		{"a bad glob is refused", fusefs.Fault{Path: "d/[", Op: fusefs.OpRead, Errno: syscall.EIO}},
		{"an absolute path is refused", fusefs.Fault{Path: "/d/f", Op: fusefs.OpRead, Errno: syscall.EIO}},
		{"a path with .. is refused", fusefs.Fault{Path: "../f", Op: fusefs.OpRead, Errno: syscall.EIO}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := srv.AddFault(tt.fault)
			if !errors.Is(err, fusefs.ErrInvalidFault) {
				t.Errorf("AddFault: %v, want ErrInvalidFault", err)
			}
			if err := srv.SetFaults([]fusefs.Fault{tt.fault}); !errors.Is(err, fusefs.ErrInvalidFault) {
				t.Errorf("SetFaults: %v, want ErrInvalidFault", err)
			}
			if _, err := fusefs.Mount(t.TempDir(), faultTree(), &fusefs.Options{Faults: []fusefs.Fault{tt.fault}}); !errors.Is(err, fusefs.ErrInvalidFault) {
				t.Errorf("Mount: %v, want ErrInvalidFault", err)
			}
		})
	}
	if len(srv.Faults()) != 0 {
		t.Errorf("refused rules were installed: %v", srv.Faults())
	}
}

func TestFaultsListsTheRulesInForce(t *testing.T) {
	a := fusefs.Fault{Path: "d/f", Op: fusefs.OpRead, Errno: syscall.EIO}
	b := fusefs.Fault{Path: "d/*", Op: fusefs.OpWrite, Short: 1}
	srv, _ := mount(t, faultTree(), &fusefs.Options{Faults: []fusefs.Fault{a}})
	require.NoError(t, srv.AddFault(b))
	if got := srv.Faults(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("Faults() = %v", got)
	}
	srv.ClearFaults()
	if got := srv.Faults(); len(got) != 0 {
		t.Errorf("after ClearFaults: %v", got)
	}
}
