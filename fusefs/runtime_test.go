package fusefs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Each change is made after the kernel has cached what it changes, and must
// show on the very next system call.
func TestRuntimeChangesShowOnTheNextCall(t *testing.T) {
	tree := func() fusefs.Tree {
		return fusefs.Tree{
			"d/f":    fusefs.File("old\n"),
			"d/link": fusefs.Symlink("f"),
			"hop":    fusefs.Symlink("d/link"),
			"cdev":   fusefs.CharDev(1, 3),
		}
	}
	tests := []struct {
		name   string
		before func(t *testing.T, dir string)
		change func(srv *fusefs.Server) error
		after  func(t *testing.T, dir string)
	}{
		{"a new file replaces a cached negative entry",
			func(t *testing.T, dir string) { statErr(t, dir, "d/new", syscall.ENOENT) },
			func(srv *fusefs.Server) error { return srv.Set("d/new", fusefs.File("new\n")) },
			func(t *testing.T, dir string) { wantRead(t, dir, "d/new", "new\n") }},
		{"a new path creates its parents over a cached negative entry",
			func(t *testing.T, dir string) { statErr(t, dir, "x", syscall.ENOENT) },
			func(srv *fusefs.Server) error { return srv.Set("x/y/z", fusefs.File("deep")) },
			func(t *testing.T, dir string) { wantRead(t, dir, "x/y/z", "deep") }},
		{"a new directory raises the parent's link count",
			func(t *testing.T, dir string) {
				if st := lstat(t, filepath.Join(dir, "d")); st.Nlink != 2 {
					t.Errorf("nlink %d before", st.Nlink)
				}
			},
			func(srv *fusefs.Server) error { return srv.Set("d/newdir", fusefs.Dir()) },
			func(t *testing.T, dir string) {
				if st := lstat(t, filepath.Join(dir, "d")); st.Nlink != 3 {
					t.Errorf("nlink %d after, want 3", st.Nlink)
				}
			}},
		{"a new file shows in the listing",
			func(t *testing.T, dir string) { os.ReadDir(filepath.Join(dir, "d")) },
			func(srv *fusefs.Server) error { return srv.Set("d/listed", fusefs.File("")) },
			func(t *testing.T, dir string) { wantNames(t, dir, "d", "f", "link", "listed") }},
		{"a removed file is gone",
			func(t *testing.T, dir string) { wantRead(t, dir, "d/f", "old\n") },
			func(srv *fusefs.Server) error { return srv.Remove("d/f") },
			func(t *testing.T, dir string) { statErr(t, dir, "d/f", syscall.ENOENT); wantNames(t, dir, "d", "link") }},
		{"a removed directory takes its subtree",
			func(t *testing.T, dir string) { wantRead(t, dir, "d/f", "old\n") },
			func(srv *fusefs.Server) error { return srv.Remove("d") },
			func(t *testing.T, dir string) {
				statErr(t, dir, "d/f", syscall.ENOENT)
				statErr(t, dir, "d", syscall.ENOENT)
			}},
		{"new data shows on read and in st_size",
			func(t *testing.T, dir string) { lstat(t, filepath.Join(dir, "d/f")) },
			func(srv *fusefs.Server) error { return srv.SetData("d/f", []byte("brand new\n")) },
			func(t *testing.T, dir string) {
				// stat first: a read makes the kernel refetch
				// attributes (atime) by itself.
				if st := lstat(t, filepath.Join(dir, "d/f")); st.Size != 10 {
					t.Errorf("size %d", st.Size)
				}
				wantRead(t, dir, "d/f", "brand new\n")
			}},
		{"a new target shows on readlink and in path walks",
			func(t *testing.T, dir string) { wantLink(t, dir, "d/link", "f"); wantRead(t, dir, "hop", "old\n") },
			func(srv *fusefs.Server) error {
				if err := srv.Set("d/other", fusefs.File("other\n")); err != nil {
					return err
				}
				return srv.SetTarget("d/link", "other")
			},
			func(t *testing.T, dir string) {
				wantLink(t, dir, "d/link", "other")
				wantRead(t, dir, "hop", "other\n")
			}},
		{"new attributes of the same type show at once",
			func(t *testing.T, dir string) { lstat(t, filepath.Join(dir, "d")) },
			func(srv *fusefs.Server) error {
				return srv.Set("d", &fusefs.Node{Type: fusefs.TypeDir, Mode: 0700, UID: 5})
			},
			func(t *testing.T, dir string) {
				st := lstat(t, filepath.Join(dir, "d"))
				if st.Mode != unix.S_IFDIR|0700 || st.Uid != 5 {
					t.Errorf("mode %#o uid %d", st.Mode, st.Uid)
				}
				wantRead(t, dir, "d/f", "old\n") // children kept
			}},
		{"a node of another type replaces the old one",
			func(t *testing.T, dir string) { wantRead(t, dir, "d/f", "old\n") },
			func(srv *fusefs.Server) error { return srv.Set("d/f", fusefs.Symlink("link")) },
			func(t *testing.T, dir string) { wantLink(t, dir, "d/f", "link") }},
		{"a device node given new numbers shows them on the next stat",
			func(t *testing.T, dir string) { wantRdev(t, dir, "cdev", 1, 3) },
			func(srv *fusefs.Server) error { return srv.Set("cdev", fusefs.CharDev(1, 5)) },
			func(t *testing.T, dir string) { wantRdev(t, dir, "cdev", 1, 5) }},
		{"a directory replaced by a file loses its subtree",
			func(t *testing.T, dir string) { wantRead(t, dir, "d/f", "old\n") },
			func(srv *fusefs.Server) error { return srv.Set("d", fusefs.File("flat")) },
			func(t *testing.T, dir string) { wantRead(t, dir, "d", "flat"); statErr(t, dir, "d/f", syscall.ENOTDIR) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, dir := mount(t, tree(), nil)
			tt.before(t, dir)
			tt.before(t, dir) // now from the cache
			require.NoError(t, tt.change(srv))
			tt.after(t, dir)
		})
	}
}

func TestChangesSeeOpenDescriptors(t *testing.T) {
	srv, dir := mount(t, fusefs.Tree{"f": fusefs.File("one")}, nil)
	f, err := os.Open(filepath.Join(dir, "f"))
	require.NoError(t, err)
	defer f.Close()
	if fi, _ := f.Stat(); fi.Size() != 3 { // and now cached
		t.Fatalf("fstat size %d", fi.Size())
	}
	require.NoError(t, srv.SetData("f", []byte("two!")))
	if fi, _ := f.Stat(); fi.Size() != 4 {
		t.Errorf("fstat size %d", fi.Size())
	}
	b := make([]byte, 10)
	if n, _ := f.ReadAt(b, 0); string(b[:n]) != "two!" {
		t.Errorf("open descriptor reads %q", b[:n])
	}
}

func TestChangesAreValidated(t *testing.T) {
	srv, _ := mount(t, fusefs.Tree{"f": fusefs.File("x"), "l": fusefs.Symlink("f"), "d": fusefs.Dir()}, nil)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"setting data on a symlink is refused", srv.SetData("l", nil), fusefs.ErrInvalidNode},
		{"setting a target on a file is refused", srv.SetTarget("f", "x"), fusefs.ErrInvalidNode},
		{"an empty target is refused", srv.SetTarget("l", ""), fusefs.ErrInvalidNode},
		{"a child of a file is refused", srv.Set("f/child", fusefs.File("")), fusefs.ErrInvalidNode},
		{"a path with .. is refused", srv.Set("../x", fusefs.File("")), fusefs.ErrInvalidNode},
		{"a nil node is refused", srv.Set("x", nil), fusefs.ErrInvalidNode},
		{"removing a missing node is fs.ErrNotExist", srv.Remove("nope"), fs.ErrNotExist},
		{"setting data on a missing file is fs.ErrNotExist", srv.SetData("nope", nil), fs.ErrNotExist},
		{"removing the root is refused", srv.Remove("."), fusefs.ErrInvalidNode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) {
				t.Errorf("got %v, want %v", tt.err, tt.want)
			}
		})
	}
	if _, ok := srv.Node("f/child"); ok {
		t.Error("a refused change left a node")
	}
}

func TestNodeReturnsACopyOfTheCurrentDeclaration(t *testing.T) {
	srv, dir := mount(t, fusefs.Tree{
		"f":    {Type: fusefs.TypeFile, Mode: 0644, UID: 3, Data: []byte("abc"), Size: 10},
		"none": {Type: fusefs.TypeFile, Mode: fusefs.NoPerm},
		"dev":  fusefs.BlockDev(7, 1),
	}, nil)
	n, ok := srv.Node("f")
	if !ok || n.Type != fusefs.TypeFile || n.Mode != 0644 || n.UID != 3 || string(n.Data) != "abc" || n.Size != 10 {
		t.Errorf("Node(f) = %+v, %v", n, ok)
	}
	n.Data[0] = 'X' // a copy: the file must not change
	wantRead(t, dir, "f", "abc\x00\x00\x00\x00\x00\x00\x00")
	if n, _ := srv.Node("none"); n.Mode != fusefs.NoPerm {
		t.Errorf("mode 0000 reads back as %#o", n.Mode)
	}
	if n, _ := srv.Node("dev"); n.Type != fusefs.TypeBlockDev || n.Major != 7 || n.Minor != 1 {
		t.Errorf("Node(dev) = %+v", n)
	}
	if _, ok := srv.Node("missing"); ok {
		t.Error("Node(missing) found something")
	}
	if n, ok := srv.Node("."); !ok || n.Type != fusefs.TypeDir {
		t.Errorf("Node(.) = %+v, %v", n, ok)
	}
}

func TestChangesAfterCloseAreRefused(t *testing.T) {
	srv, err := fusefs.Mount(t.TempDir(), fusefs.Tree{"f": fusefs.File("x")}, nil)
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	for name, err := range map[string]error{
		"Set":       srv.Set("g", fusefs.File("")),
		"Remove":    srv.Remove("f"),
		"SetData":   srv.SetData("f", nil),
		"SetTarget": srv.SetTarget("f", "x"),
	} {
		if !errors.Is(err, fusefs.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func statErr(t *testing.T, dir, p string, want syscall.Errno) {
	t.Helper()
	var st unix.Stat_t
	wantErrno(t, "stat "+p, unix.Stat(filepath.Join(dir, p), &st), want)
}

func wantRead(t *testing.T, dir, p, want string) {
	t.Helper()
	if got, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(got) != want {
		t.Errorf("read %s: %q, %v; want %q", p, got, err, want)
	}
}

func wantLink(t *testing.T, dir, p, want string) {
	t.Helper()
	if got, err := os.Readlink(filepath.Join(dir, p)); err != nil || got != want {
		t.Errorf("readlink %s: %q, %v; want %q", p, got, err, want)
	}
}

func wantNames(t *testing.T, dir, p string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, p))
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s lists %q, want %q", p, got, want)
	}
}

// wantRdev checks the device numbers lstat reports for rel.
func wantRdev(t *testing.T, dir, rel string, major, minor uint32) {
	t.Helper()
	st := lstat(t, filepath.Join(dir, rel))
	if got := [2]uint32{unix.Major(st.Rdev), unix.Minor(st.Rdev)}; got != [2]uint32{major, minor} {
		t.Errorf("%s is %d:%d, want %d:%d", rel, got[0], got[1], major, minor)
	}
}
