package fusefs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func TestReadsAndWritesReachTheFile(t *testing.T) {
	srv, dir := mount(t, mine(fusefs.Tree{
		"attr":  fusefs.File("1\n"),
		"zero":  fusefs.ZeroFile(1 << 40),
		"empty": fusefs.File(""),
	}), nil)
	attr := filepath.Join(dir, "attr")

	t.Run("a read returns the data", func(t *testing.T) {
		if got := readFile(t, attr); got != "1\n" {
			t.Errorf("read %q", got)
		}
	})
	t.Run("a write with O_TRUNC replaces the data and the size follows", func(t *testing.T) {
		require.NoError(t, os.WriteFile(attr, []byte("12345\n"), 0))
		if got := readFile(t, attr); got != "12345\n" {
			t.Errorf("read %q", got)
		}
		if st := lstat(t, attr); st.Size != 6 {
			t.Errorf("size %d, want 6", st.Size)
		}
		if n, _ := srv.Node("attr"); string(n.Data) != "12345\n" {
			t.Errorf("Node().Data %q", n.Data)
		}
	})
	t.Run("a write past the end leaves zeros in the gap and fstat follows", func(t *testing.T) {
		f, err := os.OpenFile(attr, os.O_RDWR, 0)
		require.NoError(t, err)
		defer f.Close()
		if _, err := f.WriteAt([]byte("end"), 10); err != nil {
			t.Fatal(err)
		}
		fi, err := f.Stat()
		if err != nil || fi.Size() != 13 {
			t.Fatalf("fstat: %v, %v; want size 13", fi, err)
		}
		if got := readFile(t, attr); got != "12345\n\x00\x00\x00\x00end" {
			t.Errorf("read %q", got)
		}
	})
	t.Run("ftruncate shrinks and grows; growing exposes zeros", func(t *testing.T) {
		f, err := os.OpenFile(attr, os.O_RDWR, 0)
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, f.Truncate(2))
		require.NoError(t, f.Truncate(5))
		if fi, _ := f.Stat(); fi.Size() != 5 {
			t.Errorf("size %d, want 5", fi.Size())
		}
		if got := readFile(t, attr); got != "12\x00\x00\x00" {
			t.Errorf("read %q", got)
		}
	})
	t.Run("truncate by path follows too", func(t *testing.T) {
		require.NoError(t, os.Truncate(attr, 1))
		if st := lstat(t, attr); st.Size != 1 {
			t.Errorf("size %d", st.Size)
		}
	})
	t.Run("a write larger than one FUSE request arrives whole", func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640000 bytes, several chunks
		require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), big, 0))
		if got, err := os.ReadFile(filepath.Join(dir, "empty")); err != nil || !bytes.Equal(got, big) {
			t.Errorf("read back %d bytes, %v", len(got), err)
		}
	})
	t.Run("a 1 TiB zero file reads zeros at its end and EOF beyond", func(t *testing.T) {
		f, err := os.OpenFile(filepath.Join(dir, "zero"), os.O_RDWR, 0)
		require.NoError(t, err)
		defer f.Close()
		buf := bytes.Repeat([]byte{0xff}, 4096)
		n, err := f.ReadAt(buf, 1<<40-4096)
		if n != 4096 || !bytes.Equal(buf, make([]byte, 4096)) {
			t.Errorf("read %d bytes (%v), not all zeros", n, err)
		}
		if n, _ := f.ReadAt(buf, 1<<40); n != 0 {
			t.Errorf("read %d bytes past the end", n)
		}
		if _, err := f.WriteAt([]byte("xyz"), 1<<40-3); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 5)
		if n, _ := f.ReadAt(got, 1<<40-5); n != 5 || string(got) != "\x00\x00xyz" {
			t.Errorf("read %q", got[:n])
		}
		st := lstat(t, filepath.Join(dir, "zero"))
		if st.Size != 1<<40 || st.Blocks > 128 {
			t.Errorf("size %d blocks %d: want 1 TiB, still sparse (at most one 64 KiB chunk stored)", st.Size, st.Blocks)
		}
	})
	t.Run("a shared mapping of a file sees its data", func(t *testing.T) {
		require.NoError(t, os.WriteFile(attr, []byte("mapped\n"), 0))
		// In a child process: see mapRole.
		out, err := testutil.Command("map", attr, "7").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, `"mapped\n"`+"\n", string(out))
	})
}

func TestPermissionsAreCheckedForTheCaller(t *testing.T) {
	testutil.RootOnly(t, "it calls as other users (setfsuid) and as root")
	const nobody = 65534
	_, dir := mount(t, fusefs.Tree{
		"private":    {Type: fusefs.TypeFile, Mode: 0600, Data: []byte("root only")},
		"public":     {Type: fusefs.TypeFile, Mode: 0644, Data: []byte("anyone reads")},
		"mine":       {Type: fusefs.TypeFile, Mode: 0600, UID: nobody, GID: nobody},
		"group":      {Type: fusefs.TypeFile, Mode: 0060, GID: nobody},
		"closed":     {Type: fusefs.TypeDir, Mode: 0700},
		"closed/in":  fusefs.File("x"),
		"rootonly":   {Type: fusefs.TypeFile, Mode: 0444},
		"executable": {Type: fusefs.TypeFile, Mode: 0755},
	}, nil)
	root := testutil.OpenFD(t, dir, unix.O_PATH|unix.O_DIRECTORY)
	tests := []struct {
		name  string
		path  string
		flags int
		want  syscall.Errno
	}{
		{"others cannot read a 0600 file", "private", unix.O_RDONLY, unix.EACCES},
		{"others can read a 0644 file", "public", unix.O_RDONLY, 0},
		{"others cannot write a 0644 file", "public", unix.O_WRONLY, unix.EACCES},
		{"the owner can read and write a 0600 file", "mine", unix.O_RDWR, 0},
		{"the group class applies to the caller's group", "group", unix.O_RDWR, 0},
		{"others cannot list a 0700 directory", "closed", unix.O_RDONLY | unix.O_DIRECTORY, unix.EACCES},
		{"others may still walk through it: traversal is not checked", "closed/in", unix.O_RDONLY, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			asUser(nobody, nobody, func() {
				var fd int
				fd, err = unix.Openat(root, tt.path, tt.flags|unix.O_CLOEXEC, 0)
				if err == nil {
					unix.Close(fd)
				}
			})
			wantErrno(t, "open as nobody", err, tt.want)
		})
	}
	access := []struct {
		name string
		uid  int
		path string
		mode uint32
		want syscall.Errno
	}{
		{"access(2) grants what the mode grants", nobody, "public", unix.R_OK, 0},
		{"access(2) refuses what the mode refuses", nobody, "public", unix.W_OK, unix.EACCES},
		{"access(2) lets root write a 0600 file", 0, "private", unix.W_OK, 0},
		{"access(2) refuses root writing a 0444 file", 0, "rootonly", unix.W_OK, unix.EACCES},
		{"access(2) grants root execute only with an x bit", 0, "executable", unix.X_OK, 0},
		{"access(2) refuses root execute without an x bit", 0, "public", unix.X_OK, unix.EACCES},
	}
	for _, tt := range access {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			asUser(tt.uid, tt.uid, func() {
				err = unix.Faccessat2(root, tt.path, tt.mode, unix.AT_EACCESS)
			})
			wantErrno(t, "faccessat2", err, tt.want)
		})
	}
	t.Run("others cannot truncate a file they cannot write", func(t *testing.T) {
		var err error
		asUser(nobody, nobody, func() {
			fd, oerr := unix.Openat(root, "public", unix.O_PATH|unix.O_CLOEXEC, 0)
			if oerr != nil {
				err = oerr
				return
			}
			defer unix.Close(fd)
			err = unix.Truncate("/proc/self/fd/"+strconv.Itoa(fd), 0)
		})
		wantErrno(t, "truncate as nobody", err, unix.EACCES)
	})
	t.Run("others cannot chmod a file they do not own", func(t *testing.T) {
		var err error
		asUser(nobody, nobody, func() { err = unix.Fchmodat(root, "public", 0666, 0) })
		wantErrno(t, "chmod as nobody", err, unix.EPERM)
	})
	t.Run("the owner can chmod, and the mode shows at once", func(t *testing.T) {
		var err error
		asUser(nobody, nobody, func() { err = unix.Fchmodat(root, "mine", 0640, 0) })
		wantErrno(t, "chmod as owner", err, 0)
		if st := lstat(t, filepath.Join(dir, "mine")); st.Mode&07777 != 0640 {
			t.Errorf("mode %#o", st.Mode&07777)
		}
	})
}

func TestTheNamespaceCannotBeChangedThroughTheMount(t *testing.T) {
	_, dir := mount(t, fusefs.Tree{"d/f": fusefs.File("x")}, nil)
	p := func(s string) string { return filepath.Join(dir, s) }
	tests := []struct {
		name string
		err  error
		want syscall.Errno
	}{
		{"creating a file is refused like in sysfs", func() error {
			_, err := os.Create(p("d/new"))
			return err
		}(), unix.EACCES},
		{"mkdir is refused", os.Mkdir(p("d/new"), 0755), unix.EPERM},
		{"unlink is refused", os.Remove(p("d/f")), unix.EPERM},
		{"rmdir is refused", unix.Rmdir(p("d")), unix.EPERM},
		{"rename is refused", os.Rename(p("d/f"), p("d/g")), unix.EPERM},
		{"symlink is refused", os.Symlink("x", p("d/l")), unix.EPERM},
		{"mknod is refused", unix.Mknod(p("d/n"), unix.S_IFIFO|0644, 0), unix.EPERM},
		{"link is refused", os.Link(p("d/f"), p("d/h")), unix.EPERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrno(t, tt.name, tt.err, tt.want) })
	}
	if got := readFile(t, p("d/f")); got != "x" {
		t.Errorf("d/f changed: %q", got)
	}
}
