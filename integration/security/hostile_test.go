package security_test

import (
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

const (
	gib = 1 << 30
	mib = 1 << 20
	// callBound is how long any one call on hostile content may take.
	callBound = 5 * time.Second
)

var (
	eagain       = -pmem2.Code(syscall.EAGAIN)
	eacces       = -pmem2.Code(syscall.EACCES)
	enxio        = -pmem2.Code(syscall.ENXIO)
	eisdir       = -pmem2.Code(syscall.EISDIR)
	eloop        = -pmem2.Code(syscall.ELOOP)
	enametoolong = -pmem2.Code(syscall.ENAMETOOLONG)
)

// hostileSpec is one Device DAX, dax0.0 (252:0, 1 GiB, 2 MiB aligned, on
// the NVDIMM and dax buses): the fixture every hostile case changes.
func hostileSpec() *emulate.Spec {
	return &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 252, Minor: 0, Size: gib, Align: 2 * mib}}}
}

// target is the sysfs file a hostile case stands in for, and the call
// that reads it.
type target struct {
	name string
	path func(t *testing.T, f *emulate.Fixture) string // relative to the root
	call func(src *pmem2.Source) (uint64, error)
}

var (
	sizeTarget = target{"the size file",
		func(t *testing.T, f *emulate.Fixture) string { return devDir(t, f, "sys/dev/char/252:0") + "/size" },
		(*pmem2.Source).Size}
	alignTarget = target{"dax_region/align",
		func(t *testing.T, f *emulate.Fixture) string {
			return path.Dir(devDir(t, f, "sys/dev/char/252:0")) + "/dax_region/align"
		},
		(*pmem2.Source).Alignment}
)

// hostile is one thing put where a sysfs file should be. put replaces the
// file at p and returns a function undoing what it holds open (a FIFO's
// writer), or nil.
type hostile struct {
	name string
	put  func(t *testing.T, f *emulate.Fixture, p string) (release func())
	// want is the code (and value on success) for the size file, then
	// for dax_region/align.
	size, align result
	// msg must appear in the error message, if set.
	msg string
	// only, if set, is the one target ("size" or "align") the case is for.
	only string
}

type result struct {
	code pmem2.Code
	val  uint64
}

func node(n emulate.Node) func(t *testing.T, f *emulate.Fixture, p string) func() {
	return func(t *testing.T, f *emulate.Fixture, p string) func() {
		n.Path = p
		require.NoError(t, f.SetNode(n))
		return nil
	}
}

func content(s string) func(t *testing.T, f *emulate.Fixture, p string) func() {
	return node(emulate.Node{Type: fusefs.TypeFile, ContentBase64: []byte(s)})
}

// fifoWithWriter replaces the file with a FIFO that a writer holds open,
// having written data into it.
func fifoWithWriter(data string) func(t *testing.T, f *emulate.Fixture, p string) func() {
	return func(t *testing.T, f *emulate.Fixture, p string) func() {
		require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeFIFO}))
		// O_RDWR opens a FIFO at once, with or without a reader.
		fd, err := unix.Open(f.Path(p), unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		require.NoError(t, err)
		if data != "" {
			if _, err := unix.Write(fd, []byte(data)); err != nil {
				t.Fatal(err)
			}
		}
		return func() { unix.Close(fd) }
	}
}

// symlinkChain replaces the file with the first of n symlinks, each
// pointing at the next, the last at a file holding data.
func symlinkChain(n int, data string) func(t *testing.T, f *emulate.Fixture, p string) func() {
	return func(t *testing.T, f *emulate.Fixture, p string) func() {
		require.NoError(t, f.SetNode(emulate.Node{Path: "sys/chain/real", Type: fusefs.TypeFile, Content: data}))
		next := f.Path("sys/chain/real")
		for i := n - 1; i >= 1; i-- {
			l := "sys/chain/l" + strconv.Itoa(i)
			require.NoError(t, f.SetNode(emulate.Node{Path: l, Type: fusefs.TypeSymlink, Target: next}))
			next = f.Path(l)
		}
		require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeSymlink, Target: next}))
		return nil
	}
}

var (
	sizeFormat  = result{code: pmem2.ErrInvalidSizeFormat}
	alignFormat = result{code: pmem2.ErrInvalidAlignmentFormat}
	// A dax_region/align that cannot be opened, for any reason, sends the
	// walk upwards; with none above, the alignment is 0.
	alignWalkedPast = result{code: pmem2.ErrInvalidAlignmentValue}
)

// hostileFiles is the list of sysfs content designed to hurt the
// library, each in place of the size file and of dax_region/align, with
// the code the pmem2 package documents.
var hostileFiles = []hostile{
	{name: "a FIFO without a writer reads empty, never blocks",
		put: node(emulate.Node{Type: fusefs.TypeFIFO}), size: sizeFormat, align: alignFormat, msg: `content ""`},
	{name: "a FIFO a writer holds open is -EAGAIN, never blocks",
		put: fifoWithWriter(""), size: result{code: eagain}, align: result{code: eagain}},
	{name: "a FIFO a writer filled is read once, like a file",
		put: fifoWithWriter("4096\n"), size: result{val: 4096}, align: result{val: 4096}},
	{name: "a char device node cannot be opened on a nodev mount",
		put: node(emulate.Node{Type: fusefs.TypeCharDev, Major: 1, Minor: 5}), size: result{code: eacces}, align: alignWalkedPast},
	{name: "a block device node cannot be opened on a nodev mount",
		put: node(emulate.Node{Type: fusefs.TypeBlockDev, Major: 8, Minor: 0}), size: result{code: eacces}, align: alignWalkedPast},
	{name: "a socket cannot be opened",
		put: node(emulate.Node{Type: fusefs.TypeSocket}), size: result{code: enxio}, align: alignWalkedPast},
	{name: "a 1 GiB file is read 64 bytes deep",
		put: node(emulate.Node{Type: fusefs.TypeFile, Content: "4096\n", Size: gib}), size: result{val: 4096}, align: result{val: 4096}},
	{name: "a 1 GiB file of zeros is a format error",
		put: node(emulate.Node{Type: fusefs.TypeFile, Size: gib}), size: sizeFormat, align: alignFormat, msg: `content "\x00`},
	{name: "non-UTF-8 bytes alone are a format error",
		put: content("\xff\xfe\xfd\n"), size: sizeFormat, align: alignFormat, msg: `content "\xff\xfe\xfd\n"`},
	{name: "non-UTF-8 bytes after the number are a format error",
		put: content("4096\xc3\x28\n"), size: sizeFormat, align: alignFormat},
	{name: "non-UTF-8 bytes before the number are a format error",
		put: content("\x80\x81 4096\n"), size: sizeFormat, align: alignFormat},
	{name: "64 bytes of invalid UTF-8 are a format error",
		put: content(strings.Repeat("\xf8", 200)), size: sizeFormat, align: alignFormat},
	{name: "a UTF-8 digit that is not ASCII (fullwidth 4) is a format error",
		put: content("\uff14096\n"), size: sizeFormat, align: alignFormat},
	{name: "a directory fails to read with EISDIR",
		put: node(emulate.Node{Type: fusefs.TypeDir}), size: result{code: eisdir}, align: result{code: eisdir}},
	{name: "a file without any read permission is EACCES, even for root",
		put: node(emulate.Node{Type: fusefs.TypeFile, Mode: emulate.NoPerm, Content: "4096\n"}), size: result{code: eacces}, align: alignWalkedPast},
	{name: "a symlink to itself is ELOOP",
		put: node(emulate.Node{Type: fusefs.TypeSymlink, Target: "size"}), size: result{code: eloop}, align: alignWalkedPast},
	// <sysfs>/dev/char/252:0/size passes one link before the chain;
	// dax_region/align is opened below the resolved device directory.
	{name: "a size file reached through 40 links in all is read",
		put: symlinkChain(39, "4096\n"), size: result{val: 4096}, only: "size"},
	{name: "a size file reached through 41 links in all is ELOOP",
		put: symlinkChain(40, "4096\n"), size: result{code: eloop}, only: "size"},
	{name: "a dax_region/align reached through 40 links is read",
		put: symlinkChain(40, "4096\n"), align: result{val: 4096}, only: "align"},
	{name: "a dax_region/align reached through 41 links cannot be opened",
		put: symlinkChain(41, "4096\n"), align: alignWalkedPast, only: "align"},
}

// TestHostileSysfs puts each hostile thing in place of the size file and
// of dax_region/align of a mounted Device DAX and calls Size or Alignment
// on a source made before: each call returns the documented code within
// callBound, never a panic, always a *pmem2.Error whose message is valid
// UTF-8 (what the file held is quoted, not copied).
func TestHostileSysfs(t *testing.T) {
	for _, tg := range []struct {
		target
		key string
	}{{sizeTarget, "size"}, {alignTarget, "align"}} {
		for _, h := range hostileFiles {
			if h.only != "" && h.only != tg.key {
				continue
			}
			want := h.size
			if tg.key == "align" {
				want = h.align
				if h.name == "a symlink to itself is ELOOP" {
					h.put = node(emulate.Node{Type: fusefs.TypeSymlink, Target: "align"})
				}
			}
			t.Run(h.name+" ("+tg.name+")", func(t *testing.T) {
				f := emutest.Start(t, hostileSpec()).Fixture
				fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), unix.O_PATH)
				src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
				wantCode(t, err, 0)
				if release := h.put(t, f, tg.path(t, f)); release != nil {
					defer release()
				}
				var got uint64
				testutil.Within(t, callBound, tg.name, func() { got, err = tg.call(src) })
				wantCode(t, err, want.code)
				if got != want.val {
					t.Errorf("value %d, want %d", got, want.val)
				}
				if err != nil {
					if !utf8.ValidString(err.Error()) {
						t.Errorf("the message is not valid UTF-8: %q", err.Error())
					}
					if h.msg != "" && !strings.Contains(err.Error(), h.msg) {
						t.Errorf("message %q does not quote %s", err, h.msg)
					}
				}
			})
		}
	}
}

// TestHostileSysfsPaths: long names and long paths in the sysfs root. A
// name of NAME_MAX (255) bytes and a path of PATH_MAX-1 bytes work; past
// them, what the kernel says comes back as -errno — within callBound.
func TestHostileSysfsPaths(t *testing.T) {
	type calls struct{ fromFD, size, align pmem2.Code }
	for _, c := range []struct {
		name string
		root func(t *testing.T, f *emulate.Fixture) string // the sysfs root to use
		want calls
	}{
		{"a sysfs root reached through a 255-byte name works",
			func(t *testing.T, f *emulate.Fixture) string {
				name := strings.Repeat("n", 255)
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/" + name, Type: fusefs.TypeSymlink, Target: "."}))
				return f.Sysfs() + "/" + name
			}, calls{}},
		// FUSE passes a name longer than NAME_MAX to the server, as
		// kernfs (sysfs) looks it up like any other: it is simply not
		// there. (tmpfs and ext4 would say ENAMETOOLONG: the file
		// system, not pmem2, decides.)
		{"a sysfs root with a 256-byte name is looked up and not found: -ENOENT, as on sysfs",
			func(t *testing.T, f *emulate.Fixture) string { return f.Sysfs() + "/" + strings.Repeat("n", 256) },
			calls{fromFD: -pmem2.Code(syscall.ENOENT)}},
		{"a sysfs root reached through a name of non-UTF-8 bytes works",
			func(t *testing.T, f *emulate.Fixture) string {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/\xff\xfe\x80", Type: fusefs.TypeSymlink, Target: "."}))
				return f.Sysfs() + "/\xff\xfe\x80"
			}, calls{}},
		{"a subsystem resolving to a directory dax below a non-UTF-8 name is a Device DAX",
			func(t *testing.T, f *emulate.Fixture) string {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/\xc3\x28/dax", Type: fusefs.TypeDir}))
				require.NoError(t, f.SetTarget(devDir(t, f, "sys/dev/char/252:0")+"/subsystem", f.Path("sys/\xc3\x28/dax")))
				return f.Sysfs()
			}, calls{}},
		{"a subsystem resolving to a non-UTF-8 name is an invalid file type",
			func(t *testing.T, f *emulate.Fixture) string {
				require.NoError(t, f.SetNode(emulate.Node{Path: "sys/elsewhere/da\xffx", Type: fusefs.TypeDir}))
				require.NoError(t, f.SetTarget(devDir(t, f, "sys/dev/char/252:0")+"/subsystem", f.Path("sys/elsewhere/da\xffx")))
				return f.Sysfs()
			}, calls{fromFD: pmem2.ErrInvalidFileType}},
		{"a subsystem path of 4095 bytes fits PATH_MAX",
			func(t *testing.T, f *emulate.Fixture) string { return padRoot(f, 4095) }, calls{}},
		{"a subsystem path of 4096 bytes does not fit PATH_MAX: -ENAMETOOLONG",
			func(t *testing.T, f *emulate.Fixture) string { return padRoot(f, 4096) }, calls{fromFD: enametoolong}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := emutest.Start(t, hostileSpec()).Fixture
			fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), unix.O_PATH)
			root := c.root(t, f)
			var src *pmem2.Source
			var err error
			testutil.Within(t, callBound, "SourceFromFD", func() { src, err = pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(root)) })
			wantCode(t, err, c.want.fromFD)
			if err != nil {
				return
			}
			testutil.Within(t, callBound, "Size", func() { _, err = src.Size() })
			wantCode(t, err, c.want.size)
			testutil.Within(t, callBound, "Alignment", func() { _, err = src.Alignment() })
			wantCode(t, err, c.want.align)
		})
	}
}

// padRoot spells the fixture's sysfs root with "/." components (and one
// "//" when the parity needs it) so that "<root>/dev/char/252:0/subsystem"
// is exactly n bytes long.
func padRoot(f *emulate.Fixture, n int) string {
	root := f.Sysfs()
	left := n - len(root+"/dev/char/252:0/subsystem")
	if left%2 == 1 {
		root += "/"
		left--
	}
	return root + strings.Repeat("/.", left/2)
}

// TestA1GiBSizeFileIsNotReadWhole measures that Size does not allocate
// by the size of the file it reads: with the size file a sparse 1 GiB
// file on the local file system (no server in this process), Size
// allocates as often as with a 5-byte file — never — and less than 1 KiB
// per call (what the runtime's background allocates meanwhile), and on the FUSE fixture (whose server,
// in this process, allocates per request) the process allocates no more
// per call for the 1 GiB file than for the small one, give or take 1 KiB.
func TestA1GiBSizeFileIsNotReadWhole(t *testing.T) {
	f := emutest.Start(t, hostileSpec()).Fixture
	fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), unix.O_PATH)
	sizeRel := devDir(t, f, "sys/dev/char/252:0") + "/size"

	// A copy of the fixture's sysfs on the local file system.
	local := t.TempDir()
	tree, err := hostileSpec().Tree()
	require.NoError(t, err)
	for k := range tree {
		if !strings.HasPrefix(k, "sys/") && k != "sys" {
			delete(tree, k)
		}
	}
	require.NoError(t, tree.Materialize(local))
	localSize := filepath.Join(local, filepath.FromSlash(sizeRel))

	measure := func(t *testing.T, root string, set func(big bool)) (allocs [2]float64, bytes [2]uint64) {
		src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(root))
		wantCode(t, err, 0)
		for i, big := range []bool{false, true} {
			set(big)
			size, err := src.Size()
			wantCode(t, err, 0)
			if size != 4096 {
				t.Fatalf("size %d, want 4096", size)
			}
			allocs[i] = testing.AllocsPerRun(200, func() { src.Size() })
			const n = 200
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range n {
				src.Size()
			}
			runtime.ReadMemStats(&after)
			bytes[i] = (after.TotalAlloc - before.TotalAlloc) / n
		}
		return allocs, bytes
	}

	t.Run("on the local file system: no more for 1 GiB than for 5 bytes", func(t *testing.T) {
		allocs, bytes := measure(t, filepath.Join(local, "sys"), func(big bool) {
			require.NoError(t, os.Remove(localSize))
			require.NoError(t, os.WriteFile(localSize, []byte("4096\n"), 0o444))
			if big {
				require.NoError(t, os.Truncate(localSize, gib))
			}
		})
		t.Logf("Size with a 5-byte size file: %.0f allocs, %d B per call; with a 1 GiB one: %.0f allocs, %d B",
			allocs[0], bytes[0], allocs[1], bytes[1])
		if allocs[1] != allocs[0] || bytes[1] > bytes[0]+bytes[0]/4+4096 {
			t.Errorf("Size allocates %.0f times, %d B per call for a 1 GiB size file (%.0f, %d B for 5 bytes)",
				allocs[1], bytes[1], allocs[0], bytes[0])
		}
	})
	t.Run("on the FUSE fixture: no more for 1 GiB than for 5 bytes", func(t *testing.T) {
		allocs, bytes := measure(t, f.Sysfs(), func(big bool) {
			n := emulate.Node{Path: sizeRel, Type: fusefs.TypeFile, Content: "4096\n"}
			if big {
				n.Size = gib
			}
			require.NoError(t, f.SetNode(n))
		})
		t.Logf("Size with a 5-byte size file: %.0f allocs, %d B per call in the process (server included); with a 1 GiB one: %.0f allocs, %d B",
			allocs[0], bytes[0], allocs[1], bytes[1])
		if bytes[1] > bytes[0]+bytes[0]/4+4096 || allocs[1] > allocs[0]+allocs[0]/4+4 {
			t.Errorf("the process allocates %.0f times, %d B per Size for a 1 GiB size file, %.0f times and %d B for 5 bytes",
				allocs[1], bytes[1], allocs[0], bytes[0])
		}
	})
}
