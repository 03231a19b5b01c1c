package emulate_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// A test reaches the sysfs files pmem2 reads by the paths pmem2 names
// them, or through the links sysfs has: sys/dev/char/M:m leads to the
// device, sys/bus/nd/devices/<name> to its nd_dax; the fixture follows
// them.
func TestSysfsFilesAreReachedThroughSymlinks(t *testing.T) {
	f := emutest.Start(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30}))
	const (
		// sizeLink is the device's own size, which pmem2 (like
		// libdaxctl) reads to know the device is there.
		sizeLink = "sys/dev/char/252:0/size"
		// ndSizeLink and ndAlignLink are the nd_dax's, which pmem2
		// returns.
		ndSizeLink  = "sys/bus/nd/devices/dax0.1/size"
		ndAlignLink = "sys/bus/nd/devices/dax0.1/align"
	)
	src := func() *pmem2.Source { return f.Source("dev/dax0.0", unix.O_PATH) }

	t.Run("WriteFile through the link changes what pmem2 reads", func(t *testing.T) {
		require.NoError(t, f.WriteFile(ndSizeLink, []byte("8192\n")))
		got, err := src().Size()
		require.NoError(t, err)
		assert.Equal(t, uint64(8192), got)
	})
	t.Run("Calls through the link counts the file's calls", func(t *testing.T) {
		before := f.Calls(sizeLink, fusefs.OpRead)
		_, err := src().Size()
		require.NoError(t, err)
		assert.Equal(t, before+1, f.Calls(sizeLink, fusefs.OpRead))
		assert.Equal(t, f.Calls(dax00+"/size", fusefs.OpRead), f.Calls(sizeLink, fusefs.OpRead))
		assert.Equal(t, f.Calls(ndDax01+"/size", fusefs.OpRead), f.Calls(ndSizeLink, fusefs.OpRead))
	})
	t.Run("the path of a pmem2.Error leads back to the file", func(t *testing.T) {
		require.NoError(t, f.WriteFile(ndAlignLink, []byte("12345\n")))
		_, err := src().Alignment()
		var perr *pmem2.Error
		require.ErrorAs(t, err, &perr)
		require.Equal(t, f.Path(ndDax01+"/align"), perr.Path)
		assert.Positive(t, f.Calls(perr.Path, fusefs.OpRead))
		require.NoError(t, f.WriteFile(perr.Path, []byte("4096\n")))
		got, err := src().Alignment()
		require.NoError(t, err)
		assert.Equal(t, uint64(4096), got)
	})
	t.Run("a fault through the link bites", func(t *testing.T) {
		require.NoError(t, f.AddFault(emulate.Fault{Path: sizeLink, Op: fusefs.OpRead, Errno: syscall.EIO}))
		defer f.ClearFaults()
		_, err := src().Size()
		assert.Equal(t, int(pmem2.ErrDAXRegionNotFound), pmem2.CodeOf(err), "libdaxctl drops a device whose size it cannot read")
	})
	t.Run("DAX names the device's sysfs files", func(t *testing.T) {
		d, ok := f.DAX("dax0.0")
		require.True(t, ok)
		assert.Equal(t, emulate.DAX{Name: "dax0.0", DevNum: emulate.DevNum{Major: 252}, Node: "dev/dax0.0", Dir: dax00,
			SizeFile: ndDax01 + "/size", AlignFile: ndDax01 + "/align", NDDax: ndDax01}, d)
		real, err := filepath.EvalSymlinks(f.Path("sys/dev/char/" + d.DevNum.String()))
		require.NoError(t, err)
		assert.Equal(t, f.Path(d.Dir), real)
		require.NoError(t, f.WriteFile(d.AlignFile, []byte("2048\n")))
		align, err := f.Source(d.Node, unix.O_PATH).Alignment()
		require.NoError(t, err)
		assert.Equal(t, uint64(2048), align)
		_, ok = f.DAX("dax9.9")
		assert.False(t, ok)
	})
	t.Run("without the NVDIMM bus DAX names no nd_dax files", func(t *testing.T) {
		g := emutest.Start(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30, NDBus: new(false)}))
		d, ok := g.DAX("dax0.0")
		require.True(t, ok)
		assert.Equal(t, emulate.DAX{Name: "dax0.0", DevNum: emulate.DevNum{Major: 252}, Node: "dev/dax0.0",
			Dir: "sys/devices/platform/hmem.0/dax0.0"}, d)
	})
	t.Run("a spec's fault may name its path through the link", func(t *testing.T) {
		spec := oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30})
		spec.Faults = []emulate.Fault{{Path: ndSizeLink, Op: fusefs.OpRead, Errno: syscall.EIO}}
		got, err := emutest.Start(t, spec).Source("dev/dax0.0", unix.O_PATH).Size()
		require.NoError(t, err)
		assert.Equal(t, uint64(math.MaxUint64), got, "libndctl takes an nd_dax size it cannot read for ULLONG_MAX")
	})
}

// Runtime changes are held to the spec's rules: none silently replaces a
// directory or a device, or makes a rule that never bites.
func TestRuntimeChangesAreValidatedLikeASpec(t *testing.T) {
	f := emutest.Start(t, &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}},
		Nodes: []emulate.Node{
			{Path: "data/f", Type: fusefs.TypeFile},
			{Path: "data/loop", Type: fusefs.TypeSymlink, Target: "loop"},
			{Path: "data/out", Type: fusefs.TypeSymlink, Target: "../../etc"},
		},
	})
	for _, c := range []struct {
		name   string
		change func() error
		is     error
		says   string
	}{
		{"WriteFile on sys does not replace the sysfs tree", func() error { return f.WriteFile("sys", nil) }, fusefs.ErrInvalidNode, "is a dir, not a file"},
		{"WriteFile on a directory does not replace it", func() error { return f.WriteFile("data", nil) }, fusefs.ErrInvalidNode, "is a dir, not a file"},
		{"WriteFile on a device does not replace it", func() error { return f.WriteFile("dev/dax0.0", nil) }, fusefs.ErrInvalidNode, "is a char, not a file"},
		{"AddFault on a missing exact path is refused", func() error {
			return f.AddFault(emulate.Fault{Path: "data/typo", Op: fusefs.OpRead, Errno: syscall.EIO})
		}, emulate.ErrInvalidSpec, "(rule fault-path-missing)"},
		{"SetFaults checks every rule", func() error {
			return f.SetFaults([]emulate.Fault{{Path: "data/f", Op: fusefs.OpRead, Errno: syscall.EIO}, {Path: "data/typo", Op: fusefs.OpRead, Errno: syscall.EIO}})
		}, emulate.ErrInvalidSpec, "faults[1].path"},
		{"SetTarget on a file says it is no symlink", func() error { return f.SetTarget("data/f", "x") }, fusefs.ErrInvalidNode, "is a file, not a symlink"},
		{"a path with .. is refused", func() error { return f.WriteFile("data/../x", nil) }, emulate.ErrInvalidSpec, "(rule path-dot-dot)"},
		{"an absolute path outside the fixture is refused", func() error { return f.Remove("/etc/passwd") }, emulate.ErrInvalidSpec, "not below the fixture root"},
		{"a symlink loop is refused", func() error { return f.WriteFile("data/loop/x", nil) }, syscall.ELOOP, "more than 40 symlinks"},
		{"a symlink out of the fixture is refused", func() error { return f.WriteFile("data/out/passwd", nil) }, nil, "leads out of the fixture"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.change()
			require.Error(t, err)
			if c.is != nil {
				assert.ErrorIs(t, err, c.is)
			}
			assert.ErrorContains(t, err, c.says)
		})
	}
	for p, want := range map[string]fusefs.NodeType{"sys": fusefs.TypeDir, "data": fusefs.TypeDir, "dev/dax0.0": fusefs.TypeCharDev} {
		n, ok := f.Server().Node(p)
		assert.True(t, ok && n.Type == want, "%s is now %v", p, n.Type)
	}
	assert.NoError(t, f.AddFault(emulate.Fault{Path: "data/later/*", Op: fusefs.OpRead, Errno: syscall.EIO}), "a glob may match nodes added later")
	assert.Equal(t, uint64(0), f.Calls("data/missing/x", fusefs.OpLookup))
}

// After Close every change and Command fails with ErrClosed.
func TestEveryChangeAfterCloseIsErrClosed(t *testing.T) {
	f := emutest.Start(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30}))
	require.NoError(t, f.Close())
	rule := emulate.Fault{Path: "dev/dax0.0", Op: fusefs.OpRead, Errno: syscall.EIO}
	for name, change := range map[string]func() error{
		"AddFault":  func() error { return f.AddFault(rule) },
		"SetFaults": func() error { return f.SetFaults([]emulate.Fault{rule}) },
		"WriteFile": func() error { return f.WriteFile("data/x", nil) },
		"SetNode":   func() error { return f.SetNode(emulate.Node{Path: "data/x", Type: fusefs.TypeDir}) },
		"SetTarget": func() error { return f.SetTarget("sys/dev/char/252:0", "x") },
		"Remove":    func() error { return f.Remove("dev/dax0.0") },
		"Command":   func() error { _, err := f.Command("true"); return err },
	} {
		err := change()
		assert.ErrorIs(t, err, emulate.ErrClosed, name)
		assert.True(t, errors.Is(err, fusefs.ErrClosed), "%s: fusefs.ErrClosed is the same error", name)
		assert.ErrorContains(t, err, f.Root(), name)
	}
}

// Devices declared without a minor get the lowest one free in declaration
// order, around declared minors and device nodes with a subsystem.
func TestDevicesWithoutMinorsAreNumberedInDeclarationOrder(t *testing.T) {
	f := emutest.Start(t, &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{
			{Name: "dax0.0", Size: 1 << 30},
			{Name: "dax0.1", Minor: 1, Size: 1 << 30},
			{Name: "dax1.0", Size: 1 << 30},
		},
		PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 20}, {Name: "pmem1", Size: 1 << 20}},
		Nodes:       []emulate.Node{{Path: "dev/other", Type: fusefs.TypeCharDev, Major: 252, Minor: 2, Subsystem: "other"}},
	})
	for name, want := range map[string]emulate.DevNum{
		"dax0.0": {Major: 252, Minor: 0}, "dax0.1": {Major: 252, Minor: 1}, "dax1.0": {Major: 252, Minor: 3},
		"pmem0": {Major: 259, Minor: 0}, "pmem1": {Major: 259, Minor: 1},
	} {
		assert.Equal(t, want, f.DevNum(name), name)
		var st unix.Stat_t
		require.NoError(t, unix.Stat(f.Path("dev/"+name), &st))
		assert.Equal(t, want, emulate.DevNum{Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)}, "dev/%s", name)
	}
	assert.Equal(t, emulate.DevNum{}, f.DevNum("dax9.9"))
	_, err := os.Stat(f.Path("sys/dev/char/252:3/size"))
	assert.NoError(t, err)
}
