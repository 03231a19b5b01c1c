package fusefs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

var when = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// kinds is one node of every kind, with attributes that differ from the
// defaults wherever a node can have them.
func kinds() fusefs.Tree {
	return fusefs.Tree{
		".":                   {Type: fusefs.TypeDir, Mode: 0711, Mtime: when},
		"dir":                 {Type: fusefs.TypeDir, Mode: 0750, UID: 1000, GID: 1001, Mtime: when},
		"dir/file":            {Type: fusefs.TypeFile, Mode: 0640, UID: 1000, GID: 1001, Mtime: when, Data: []byte("hello\n")},
		"implied/deeper/file": fusefs.File("x"),
		"zero":                fusefs.ZeroFile(1 << 40),
		"ro":                  {Type: fusefs.TypeFile, Mode: 0444, Data: []byte("read only\n")},
		"noperm":              {Type: fusefs.TypeFile, Mode: fusefs.NoPerm, Data: []byte("secret\n")},
		"link":                {Type: fusefs.TypeSymlink, Target: "dir/file", UID: 7, GID: 8, Mtime: when},
		"dangling":            fusefs.Symlink("nowhere/at/all"),
		"loop":                fusefs.Symlink("loop"),
		"fifo":                {Type: fusefs.TypeFIFO, Mode: 0600, Mtime: when},
		"sock":                fusefs.Socket(),
		"null":                fusefs.CharDev(1, 3),
		"disk":                {Type: fusefs.TypeBlockDev, Major: 8, Minor: 0, Mode: 0600},
		"bigdev":              fusefs.CharDev(4095, 1<<20-1),
	}
}

func TestEveryNodeKindLstatsAsDeclared(t *testing.T) {
	_, dir := mount(t, kinds(), nil)
	tests := []struct {
		name, path string
		mode       uint32
		uid, gid   uint32
		size       int64
		nlink      uint64
		rdev       uint64
		mtime      time.Time // zero: not checked
	}{
		{"the root takes the attributes declared for \".\"", ".", unix.S_IFDIR | 0711, 0, 0, 0, 4, 0, when},
		{"a directory has its mode, owner and mtime", "dir", unix.S_IFDIR | 0750, 1000, 1001, 0, 2, 0, when},
		{"a file reports the size of its data", "dir/file", unix.S_IFREG | 0640, 1000, 1001, 6, 1, 0, when},
		{"an implied directory has the defaults", "implied", unix.S_IFDIR | 0755, 0, 0, 0, 3, 0, time.Time{}},
		{"a zero file reports its declared size", "zero", unix.S_IFREG | 0644, 0, 0, 1 << 40, 1, 0, time.Time{}},
		{"NoPerm gives mode 0000", "noperm", unix.S_IFREG, 0, 0, 7, 1, 0, time.Time{}},
		{"a symlink reports the length of its target", "link", unix.S_IFLNK | 0777, 7, 8, 8, 1, 0, when},
		{"a dangling symlink is still a symlink", "dangling", unix.S_IFLNK | 0777, 0, 0, 14, 1, 0, time.Time{}},
		{"a FIFO is a FIFO", "fifo", unix.S_IFIFO | 0600, 0, 0, 0, 1, 0, when},
		{"a socket is a socket with mode 0755", "sock", unix.S_IFSOCK | 0755, 0, 0, 0, 1, 0, time.Time{}},
		{"a char device reports its rdev", "null", unix.S_IFCHR | 0660, 0, 0, 0, 1, unix.Mkdev(1, 3), time.Time{}},
		{"a block device reports its rdev", "disk", unix.S_IFBLK | 0600, 0, 0, 0, 1, unix.Mkdev(8, 0), time.Time{}},
		{"the largest major and minor survive", "bigdev", unix.S_IFCHR | 0660, 0, 0, 0, 1, unix.Mkdev(4095, 1<<20-1), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := lstat(t, filepath.Join(dir, tt.path))
			if st.Mode != tt.mode {
				t.Errorf("mode %#o, want %#o", st.Mode, tt.mode)
			}
			if st.Uid != tt.uid || st.Gid != tt.gid {
				t.Errorf("owner %d:%d, want %d:%d", st.Uid, st.Gid, tt.uid, tt.gid)
			}
			if st.Size != tt.size {
				t.Errorf("size %d, want %d", st.Size, tt.size)
			}
			if st.Nlink != tt.nlink {
				t.Errorf("nlink %d, want %d", st.Nlink, tt.nlink)
			}
			if st.Rdev != tt.rdev {
				t.Errorf("rdev %d:%d, want %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev), unix.Major(tt.rdev), unix.Minor(tt.rdev))
			}
			if !tt.mtime.IsZero() && !time.Unix(st.Mtim.Unix()).Equal(tt.mtime) {
				t.Errorf("mtime %v, want %v", time.Unix(st.Mtim.Unix()).UTC(), tt.mtime)
			}
			if st.Ino == 0 {
				t.Error("inode number 0")
			}
		})
	}
	t.Run("a node without an mtime shows the time of Mount", func(t *testing.T) {
		st := lstat(t, filepath.Join(dir, "sock"))
		if age := time.Since(time.Unix(st.Mtim.Unix())); age < 0 || age > time.Minute {
			t.Errorf("mtime %v is not the mount time", time.Unix(st.Mtim.Unix()))
		}
	})
	t.Run("a sparse 1 TiB file takes no blocks", func(t *testing.T) {
		if st := lstat(t, filepath.Join(dir, "zero")); st.Blocks != 0 {
			t.Errorf("blocks %d, want 0", st.Blocks)
		}
	})
}

func TestEveryNodeKindOpensAsTheKernelAllows(t *testing.T) {
	_, dir := mount(t, mine(kinds()), nil)
	const (
		r    = unix.O_RDONLY
		w    = unix.O_WRONLY
		rw   = unix.O_RDWR
		path = unix.O_PATH
	)
	tests := []struct {
		name  string
		path  string
		flags int
		want  syscall.Errno
	}{
		{"a directory opens for reading", "dir", r, 0},
		{"a directory does not open for writing", "dir", w, unix.EISDIR},
		{"a directory does not open read-write", "dir", rw, unix.EISDIR},
		{"a directory opens with O_PATH", "dir", path, 0},
		{"a file opens for reading", "dir/file", r, 0},
		{"a file opens for writing", "dir/file", w, 0},
		{"a file opens read-write", "dir/file", rw, 0},
		{"a file opens with O_PATH", "dir/file", path, 0},
		{"a 0444 file does not open for writing, even for root (as in sysfs)", "ro", w, unix.EACCES},
		{"a 0444 file opens for reading", "ro", r, 0},
		{"a 0000 file does not open for reading, even for root", "noperm", r, unix.EACCES},
		{"a 0000 file opens with O_PATH", "noperm", path, 0},
		{"a symlink opens its target", "link", r, 0},
		{"a dangling symlink fails with ENOENT", "dangling", r, unix.ENOENT},
		{"a looping symlink fails with ELOOP", "loop", r, unix.ELOOP},
		{"a symlink itself opens with O_PATH|O_NOFOLLOW", "loop", path | unix.O_NOFOLLOW, 0},
		{"a FIFO opens for reading without a writer", "fifo", r | unix.O_NONBLOCK, 0},
		{"a FIFO does not open for writing without a reader", "fifo", w | unix.O_NONBLOCK, unix.ENXIO},
		{"a FIFO opens read-write", "fifo", rw | unix.O_NONBLOCK, 0},
		{"a socket node does not open", "sock", r, unix.ENXIO},
		{"a socket node opens with O_PATH", "sock", path, 0},
		{"a char device does not open on a nodev mount", "null", r, unix.EACCES},
		{"a char device does not open for writing on a nodev mount", "null", rw, unix.EACCES},
		{"a char device opens with O_PATH", "null", path, 0},
		{"a block device does not open on a nodev mount", "disk", r, unix.EACCES},
		{"a block device opens with O_PATH", "disk", path, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, err := unix.Open(filepath.Join(dir, tt.path), tt.flags|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
			wantErrno(t, "open", err, tt.want)
		})
	}
}

func TestReaddirListsNamesWithInodeNumbers(t *testing.T) {
	_, dir := mount(t, mine(kinds()), nil)
	ents, err := readdir(t, dir)
	require.NoError(t, err)
	var names []string
	types := map[string]uint8{}
	for _, e := range ents {
		names = append(names, e.name)
		types[e.name] = e.typ
		if e.ino == 0 {
			t.Errorf("%s: d_ino 0 (tools skip such entries)", e.name)
		}
	}
	want := []string{".", "..", "bigdev", "dangling", "dir", "disk", "fifo", "implied", "link", "loop", "noperm", "null", "ro", "sock", "zero"}
	if !slices.Equal(names, want) {
		t.Errorf("names %q, want %q (sorted, with . and ..)", names, want)
	}
	for name, typ := range map[string]uint8{"dir": unix.DT_DIR, "link": unix.DT_LNK, "fifo": unix.DT_FIFO, "sock": unix.DT_SOCK, "null": unix.DT_CHR, "disk": unix.DT_BLK, "zero": unix.DT_REG} {
		if types[name] != typ {
			t.Errorf("%s: d_type %d, want %d", name, types[name], typ)
		}
	}
	t.Run("d_ino matches st_ino", func(t *testing.T) {
		for _, e := range ents {
			if e.name == "." || e.name == ".." {
				continue
			}
			if st := lstat(t, filepath.Join(dir, e.name)); st.Ino != e.ino {
				t.Errorf("%s: d_ino %d, st_ino %d", e.name, e.ino, st.Ino)
			}
		}
	})
	t.Run("an empty directory lists only . and ..", func(t *testing.T) {
		_, dir := mount(t, fusefs.Tree{"empty": fusefs.Dir()}, nil)
		ents, err := readdir(t, filepath.Join(dir, "empty"))
		if err != nil || len(ents) != 2 {
			t.Errorf("got %v, %v", ents, err)
		}
	})
	t.Run("a large directory lists every name across several getdents calls", func(t *testing.T) {
		tree := fusefs.Tree{}
		for i := range 3000 {
			tree[filepath.Join("many", "file-with-a-longish-name-"+strconv.Itoa(i))] = fusefs.File("")
		}
		_, dir := mount(t, tree, nil)
		ents, err := os.ReadDir(filepath.Join(dir, "many"))
		if err != nil || len(ents) != 3000 {
			t.Errorf("got %d entries, %v", len(ents), err)
		}
	})
}

func TestReadlinkReturnsTheTargetVerbatim(t *testing.T) {
	tree := fusefs.Tree{
		"rel":     fusefs.Symlink("../../devices/x"),
		"abs":     fusefs.Symlink("/dev/null"),
		"spaces":  fusefs.Symlink("a target with spaces/and:colons"),
		"long":    fusefs.Symlink(longTarget()),
		"dangles": fusefs.Symlink("missing"),
	}
	_, dir := mount(t, tree, nil)
	for name, n := range tree {
		t.Run(name, func(t *testing.T) {
			got, err := os.Readlink(filepath.Join(dir, name))
			if err != nil || got != n.Target {
				t.Errorf("readlink: %q, %v; want %q", got, err, n.Target)
			}
		})
	}
}

func longTarget() string {
	b := make([]byte, 4095)
	for i := range b {
		b[i] = 'a' + byte(i%26)
		if i%100 == 99 {
			b[i] = '/'
		}
	}
	return string(b)
}
