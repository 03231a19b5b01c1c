package emutest_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

func oneDAX() *emulate.Spec {
	return &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}},
		Nodes:      []emulate.Node{{Path: "data/f", Type: fusefs.TypeFile, Content: "x"}},
	}
}

// isMount reports whether dir is a mount point: its device differs from
// its parent's, or its server is gone.
func isMount(dir string) bool {
	var st, parent unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return err == unix.ENOTCONN
	}
	return unix.Lstat(dir+"/..", &parent) == nil && st.Dev != parent.Dev
}

func TestStartFailsTheTestNamingTheBrokenRule(t *testing.T) {
	rec := &recorder{T: t}
	inGoroutine(func() { emutest.Start(rec, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0"}}}) })
	assert.True(t, said(rec.fatal, "emutest.Start", "dax_devices[0].name", "bad-dax-name"), "Fatal: %q", rec.fatal)
}

func TestStartClosesTheFixtureWhenTheTestEnds(t *testing.T) {
	var root string
	t.Run("a test", func(t *testing.T) {
		root = emutest.Start(t, nil).Root()
		require.True(t, isMount(root))
	})
	assert.False(t, isMount(root), "%s is still mounted after its test", root)
}

// Source hands back a ready source; its descriptor is closed before the
// fixture, so Close finds the mount idle.
func TestSourceIsReadyAndClosedBeforeTheFixture(t *testing.T) {
	rec := &recorder{T: t}
	t.Run("a test", func(t *testing.T) {
		rec.T = t
		f := emutest.Start(rec, oneDAX())
		src := f.Source("dev/dax0.0", unix.O_PATH)
		assert.Equal(t, pmem2.FileTypeDevDAX, src.Type())
		size, err := src.Size()
		require.NoError(t, err)
		assert.Equal(t, uint64(1<<30), size)
		f.Open("data/f", unix.O_RDONLY)
	})
	assert.Empty(t, rec.logs, "Close found the mount busy")
	assert.Empty(t, rec.errors)
}

func TestSourceAndOpenFailTheTestNamingThePath(t *testing.T) {
	rec := &recorder{T: t}
	f := emutest.Start(rec, oneDAX())
	inGoroutine(func() { f.Open("data/missing", unix.O_RDONLY) })
	inGoroutine(func() { f.Source("data", unix.O_RDONLY) })
	assert.True(t, said(rec.fatal, f.Path("data/missing"), "no such file"), "Open: %q", rec.fatal)
	assert.True(t, said(rec.fatal, "SourceFromFD on data", "PMEM2_E_INVALID_FILE_TYPE"), "Source: %q", rec.fatal)
}

// A descriptor left open makes the mount busy at Close: the test log says
// so, naming the mount, and Close does not wait the two seconds it waits
// for a mount that is not busy.
func TestCloseOfABusyMountIsLoggedAndQuick(t *testing.T) {
	rec := &recorder{T: t}
	f := emutest.Start(rec, oneDAX())
	forgotten, err := os.Open(f.Path("data/f"))
	require.NoError(t, err)
	defer forgotten.Close()
	start := time.Now()
	require.NoError(t, f.Close())
	took := time.Since(start)
	assert.True(t, said(rec.logs, f.Root(), "busy", "descriptor"), "logs: %q", rec.logs)
	assert.Less(t, took, 1500*time.Millisecond, "Close of a busy mount")
	_, err = forgotten.ReadAt(make([]byte, 1), 0)
	if testutil.CanAbortFuse(t) {
		assert.ErrorIs(t, err, syscall.ENOTCONN, "the forgotten descriptor after Close")
	} else {
		assert.NoError(t, err, "the forgotten descriptor after Close, served until closed")
	}
}

// A fixture a test mounts itself on t.TempDir() and never closes would
// fail the directory's removal with "unlinkat …: operation not permitted";
// instead the test fails naming the fixture, which is unmounted.
func TestAFixtureNeverClosedIsNamed(t *testing.T) {
	var leaked *emulate.Fixture
	rec := &recorder{T: t}
	ok := t.Run("a test that forgets Close", func(t *testing.T) {
		rec.T = t
		emutest.Start(rec, nil)
		var err error
		leaked, err = emulate.Mount(rec.TempDir(), oneDAX())
		require.NoError(t, err)
	})
	assert.True(t, ok, "the temporary directory was not removed")
	assert.True(t, said(rec.errors, leaked.Root(), "never closed"), "errors: %q", rec.errors)
	assert.False(t, isMount(leaked.Root()), "still mounted")

	rec = &recorder{T: t}
	var closedLater *emulate.Fixture
	t.Run("a test whose cleanup closes it after emutest's", func(t *testing.T) {
		rec.T = t
		var err error
		closedLater, err = emulate.Mount(t.TempDir(), oneDAX())
		require.NoError(t, err)
		t.Cleanup(func() { closedLater.Close() })
		emutest.Start(rec, nil)
	})
	assert.Empty(t, rec.errors, "a fixture a pending cleanup closes fails the test")
	assert.True(t, said(rec.logs, closedLater.Root(), "still mounted"), "it is not even logged: %q", rec.logs)
}
