package nsrun_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// TestMain runs the roles a test starts this binary in: Go code that looks
// at the namespace from inside, or that starts the runner from a
// particular place (another user, another namespace).
func TestMain(m *testing.M) {
	testutil.Main(m, testutil.Roles{
		"stat":      helperStat,
		"map":       helperMap,
		"isolated":  helperIsolated,
		"unpriv":    helperUnpriv,
		"limited":   helperLimited,
		"supported": helperSupported,
	})
}

// helperSupported prints what Supported says.
func helperSupported([]string) int {
	fmt.Println(errText(nsrun.Supported()))
	return 0
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// testExe is the path of this test binary, for a command nsrun runs.
func testExe(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

// roleOutput runs this test binary in role with args under the runner of
// cfg, in an environment of a PATH and the role alone, and returns its
// standard output; a failed run fails the test.
func roleOutput(t *testing.T, cfg nsrun.Config, role string, args ...string) string {
	t.Helper()
	cmd := command(t, cfg, testExe(t), args...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, testutil.Env(role)...)
	out, _ := testutil.OutputOK(t, cmd)
	return out
}

// tree is a fake sys and dev made of plain files: what a FUSE file system
// would serve, minus the device semantics of a nodev mount.
type tree struct{ root, sys, dev string }

// The fake sysfs describes one character device 251:0 reachable through
// the symbolic links the kernel would make.
const (
	fakeSize   = "1073741824\n"
	fakeMarker = "nsrun-marker" // a name the real /sys does not have
)

// devEntries are the names makeTree puts into dev.
var devEntries = []string{"data", "fifo0", "link", "mynull", "sub"}

func makeTree(root string) (tree, error) {
	tr := tree{root: root, sys: filepath.Join(root, "sys"), dev: filepath.Join(root, "dev")}
	dax := filepath.Join(tr.sys, "devices/platform/dax0.0")
	for _, d := range []string{dax, filepath.Join(tr.sys, "bus/dax/devices"), filepath.Join(tr.sys, "dev/char"), filepath.Join(tr.dev, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return tr, err
		}
	}
	files := map[string]string{
		filepath.Join(tr.sys, fakeMarker):  "fake\n",
		filepath.Join(dax, "size"):         fakeSize,
		filepath.Join(tr.dev, "data"):      "hello\n",
		filepath.Join(tr.dev, "sub/inner"): "inner\n",
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			return tr, err
		}
	}
	symlinks := map[string]string{
		filepath.Join(dax, "subsystem"):                 "../../../bus/dax",
		filepath.Join(tr.sys, "bus/dax/devices/dax0.0"): "../../../devices/platform/dax0.0",
		filepath.Join(tr.sys, "dev/char/251:0"):         "../../devices/platform/dax0.0",
		filepath.Join(tr.dev, "link"):                   "data",
	}
	for p, target := range symlinks {
		if err := os.Symlink(target, p); err != nil {
			return tr, err
		}
	}
	if err := unix.Mkfifo(filepath.Join(tr.dev, "fifo0"), 0o666); err != nil {
		return tr, &fs.PathError{Op: "mkfifo", Path: filepath.Join(tr.dev, "fifo0"), Err: err}
	}
	// The null device (1:3) on a file system that allows devices: it
	// must stay openable once bound, as a device, not as a file.
	mynull := filepath.Join(tr.dev, "mynull")
	if err := unix.Mknod(mynull, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		return tr, &fs.PathError{Op: "mknod", Path: mynull, Err: err}
	}
	return tr, os.Chmod(mynull, 0o666) // past the umask
}

func newTree(t testing.TB) tree {
	t.Helper()
	testutil.RootOnly(t, "its fake /dev holds a device node made with mknod")
	tr, err := makeTree(t.TempDir())
	require.NoError(t, err)
	return tr
}

// hostBasics are the basics the host has: those the private /dev binds.
func hostBasics() []string {
	var out []string
	for _, b := range []string{"null", "zero", "full", "random", "urandom", "tty", "pts", "shm"} {
		if _, err := os.Lstat("/dev/" + b); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// wantDev is the sorted listing of a private /dev holding entries.
func wantDev(entries ...string) []string {
	names := append(hostBasics(), "fd", "stdin", "stdout", "stderr", "ptmx")
	for _, e := range entries {
		if !slices.Contains(names, e) {
			names = append(names, e)
		}
	}
	slices.Sort(names)
	return names
}

// listDir is the sorted listing of dir.
func listDir(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}

// helperStat describes each path: its type, its device number and what
// opening it gives.
func helperStat(paths []string) int {
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			fmt.Printf("%s lstat=%s\n", p, unix.ErrnoName(err.(syscall.Errno)))
			continue
		}
		kind := map[uint32]string{
			unix.S_IFREG: "file", unix.S_IFDIR: "dir", unix.S_IFLNK: "symlink", unix.S_IFIFO: "fifo",
			unix.S_IFSOCK: "socket", unix.S_IFCHR: "char", unix.S_IFBLK: "block",
		}[st.Mode&unix.S_IFMT]
		open := "ok"
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			open = unix.ErrnoName(err.(syscall.Errno))
		} else {
			unix.Close(fd)
		}
		fmt.Printf("%s %s %d:%d open=%s\n", p, kind, unix.Major(st.Rdev), unix.Minor(st.Rdev), open)
	}
	return 0
}

// helperMap maps the device at path shared and read-write, stores
// through the mapping, reads it back, and maps it again to see whether the
// store persisted.
func helperMap(args []string) int {
	p := args[0]
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer unix.Close(fd)
	const size = 8192
	mapping := func() ([]byte, error) {
		return unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	m, err := mapping()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmap:", err)
		return 1
	}
	copy(m[size-5:], "hello")
	back := string(m[size-5:])
	unix.Munmap(m)
	if m, err = mapping(); err != nil {
		fmt.Fprintln(os.Stderr, "mmap again:", err)
		return 1
	}
	again := "zeros"
	if slices.ContainsFunc(m, func(b byte) bool { return b != 0 }) {
		again = "data"
	}
	unix.Munmap(m)
	if back != "hello" {
		fmt.Fprintf(os.Stderr, "read back %q\n", back)
		return 1
	}
	fmt.Printf("%s: mapped %d bytes shared, wrote and read back; a new mapping reads %s\n", p, size, again)
	return 0
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
