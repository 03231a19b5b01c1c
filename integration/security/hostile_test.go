package security_test

import (
	"math"
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
	eisdir       = -pmem2.Code(syscall.EISDIR)
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

// The files whose content decides a Device DAX's size and alignment: the
// nd_dax's size and align, and the device's own size, which libdaxctl
// must be able to read to list the device.
var (
	ndSizeTarget = target{"the nd_dax's size",
		func(t *testing.T, f *emulate.Fixture) string {
			return path.Dir(devDir(t, f, "sys/dev/char/252:0")) + "/size"
		},
		(*pmem2.Source).Size}
	ndAlignTarget = target{"the nd_dax's align",
		func(t *testing.T, f *emulate.Fixture) string {
			return path.Dir(devDir(t, f, "sys/dev/char/252:0")) + "/align"
		},
		(*pmem2.Source).Alignment}
	devSizeTarget = target{"the device's size",
		func(t *testing.T, f *emulate.Fixture) string { return devDir(t, f, "sys/dev/char/252:0") + "/size" },
		(*pmem2.Source).Size}
)

// hostile is one thing put where a sysfs file should be. put replaces the
// file at p and returns a function undoing what it holds open (a FIFO's
// writer), or nil.
type hostile struct {
	name string
	put  func(t *testing.T, f *emulate.Fixture, p string) (release func())
	// what libndctl reads there, as the pmem2 package documentation says:
	// the content (C string, one '\n' dropped) or, when its read fails or
	// fills 1024 bytes, nothing.
	content  string
	readable bool
}

type result struct {
	code pmem2.Code
	val  uint64
}

// want is what target's call returns when libndctl reads h there.
func (h hostile) want(tg target) result {
	switch tg.name {
	case ndSizeTarget.name:
		if !h.readable {
			return result{val: math.MaxUint64}
		}
		return result{val: strtoull(h.content)}
	case ndAlignTarget.name:
		v := uint64(0)
		if h.readable {
			v = strtoull(h.content)
		}
		if v == 0 || v&(v-1) != 0 {
			return result{code: pmem2.ErrInvalidAlignmentValue}
		}
		return result{val: v}
	}
	if !h.readable {
		return result{code: pmem2.ErrDAXRegionNotFound}
	}
	return result{val: gib}
}

// strtoull is strtoull(s, NULL, 0) for the contents below: decimal digits
// after optional blanks, nothing else.
func strtoull(s string) uint64 {
	s = strings.TrimLeft(s, " ")
	var v uint64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + uint64(c-'0')
	}
	return v
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

// hostileFiles is the list of sysfs content designed to hurt the
// library, each in place of the nd_dax's size and align and of the
// device's size, with what libndctl makes of it.
var hostileFiles = []hostile{
	{name: "a FIFO without a writer reads empty, never blocks (C would)",
		put: node(emulate.Node{Type: fusefs.TypeFIFO}), content: "", readable: true},
	{name: "a FIFO a writer holds open fails with EAGAIN, never blocks",
		put: fifoWithWriter("")},
	{name: "a FIFO a writer filled is read once, like a file",
		put: fifoWithWriter("4096\n"), content: "4096", readable: true},
	{name: "a char device node cannot be opened on a nodev mount",
		put: node(emulate.Node{Type: fusefs.TypeCharDev, Major: 1, Minor: 5})},
	{name: "a block device node cannot be opened on a nodev mount",
		put: node(emulate.Node{Type: fusefs.TypeBlockDev, Major: 8, Minor: 0})},
	{name: "a socket cannot be opened",
		put: node(emulate.Node{Type: fusefs.TypeSocket})},
	{name: "a 1 GiB file fills libndctl's 1024-byte read: unreadable, and never read whole",
		put: node(emulate.Node{Type: fusefs.TypeFile, Content: "4096\n", Size: gib})},
	{name: "a 1 GiB file of zeros fills the read too",
		put: node(emulate.Node{Type: fusefs.TypeFile, Size: gib})},
	{name: "non-UTF-8 bytes alone are no number",
		put: content("\xff\xfe\xfd\n"), content: "\xff\xfe\xfd", readable: true},
	{name: "non-UTF-8 bytes after the number end it",
		put: content("4096\xc3\x28\n"), content: "4096\xc3\x28", readable: true},
	{name: "non-UTF-8 bytes before the number hide it",
		put: content("\x80\x81 4096\n"), content: "\x80\x81 4096", readable: true},
	{name: "200 bytes of invalid UTF-8 are no number",
		put: content(strings.Repeat("\xf8", 200)), content: strings.Repeat("\xf8", 200), readable: true},
	{name: "a UTF-8 digit that is not ASCII (fullwidth 4) is no number",
		put: content("\uff14096\n"), content: "\uff14096", readable: true},
	{name: "a directory fails to read with EISDIR",
		put: node(emulate.Node{Type: fusefs.TypeDir})},
	{name: "a file without any read permission cannot be opened, even by root",
		put: node(emulate.Node{Type: fusefs.TypeFile, Mode: emulate.NoPerm, Content: "4096\n"})},
	{name: "a symlink to itself is ELOOP",
		put: func(t *testing.T, f *emulate.Fixture, p string) func() {
			return node(emulate.Node{Type: fusefs.TypeSymlink, Target: path.Base(p)})(t, f, p)
		}},
	// The directories above the file are reached without a link (the
	// device's link is read, not followed): the chain is all there is.
	{name: "a file reached through 40 links is read",
		put: symlinkChain(40, "4096\n"), content: "4096", readable: true},
	{name: "a file reached through 41 links is ELOOP",
		put: symlinkChain(41, "4096\n")},
}

// TestHostileSysfs puts each hostile thing in place of the nd_dax's size
// and align and of the device's size of a mounted Device DAX and calls
// Size or Alignment on a source made before: each call returns what the
// pmem2 package documents within callBound, never a panic, always a
// *pmem2.Error whose message is valid UTF-8.
func TestHostileSysfs(t *testing.T) {
	for _, tg := range []target{ndSizeTarget, ndAlignTarget, devSizeTarget} {
		for _, h := range hostileFiles {
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
				want := h.want(tg)
				wantCode(t, err, want.code)
				if got != want.val {
					t.Errorf("value %d, want %d", got, want.val)
				}
				if err != nil && !utf8.ValidString(err.Error()) {
					t.Errorf("the message is not valid UTF-8: %q", err.Error())
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
	// subsystemAt points dax0.0's subsystem link at a new directory p of
	// the fixture's sysfs.
	subsystemAt := func(p string) func(t *testing.T, f *emulate.Fixture) string {
		return func(t *testing.T, f *emulate.Fixture) string {
			require.NoError(t, f.SetNode(emulate.Node{Path: p, Type: fusefs.TypeDir}))
			require.NoError(t, f.SetTarget(devDir(t, f, "sys/dev/char/252:0")+"/subsystem", f.Path(p)))
			return f.Sysfs()
		}
	}
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
			subsystemAt("sys/\xc3\x28/dax"), calls{}},
		{"a subsystem resolving to a non-UTF-8 name is an invalid file type",
			subsystemAt("sys/elsewhere/da\xffx"), calls{fromFD: pmem2.ErrInvalidFileType}},
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
// by the size of the file it reads: with the nd_dax's size a sparse 1 GiB
// file on the local file system (no server in this process), Size
// allocates as often as with a 5-byte file — never — and less than 1 KiB
// per call (what the runtime's background allocates meanwhile), and on the
// FUSE fixture (whose server, in this process, allocates per request) the
// process allocates no more per call for the 1 GiB file than for the small
// one, give or take 1 KiB. (The 1 GiB file fills libndctl's 1024-byte read:
// its size is unreadable, 2^64-1.)
func TestA1GiBSizeFileIsNotReadWhole(t *testing.T) {
	f := emutest.Start(t, hostileSpec()).Fixture
	fd := testutil.OpenFD(t, f.Path("dev/dax0.0"), unix.O_PATH)
	sizeRel := path.Dir(devDir(t, f, "sys/dev/char/252:0")) + "/size"

	// A copy of the fixture's sysfs on the local file system, with a
	// dev/dax0.0 that is a link to the mount's node (a device node may not
	// be made here).
	local := t.TempDir()
	tree, err := hostileSpec().Tree()
	require.NoError(t, err)
	for k := range tree {
		if !strings.HasPrefix(k, "sys/") && k != "sys" {
			delete(tree, k)
		}
	}
	require.NoError(t, tree.Materialize(local))
	require.NoError(t, os.Mkdir(filepath.Join(local, "dev"), 0o755))
	require.NoError(t, os.Symlink(f.Path("dev/dax0.0"), filepath.Join(local, "dev/dax0.0")))
	localSize := filepath.Join(local, filepath.FromSlash(sizeRel))

	measure := func(t *testing.T, root string, set func(big bool)) (allocs [2]float64, bytes [2]uint64) {
		src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(root))
		wantCode(t, err, 0)
		for i, big := range []bool{false, true} {
			set(big)
			size, err := src.Size()
			wantCode(t, err, 0)
			if want := map[bool]uint64{false: 4096, true: math.MaxUint64}[big]; size != want {
				t.Fatalf("size %d, want %d", size, want)
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
