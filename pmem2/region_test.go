package pmem2

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openFlags are the flags of the probe's open modes (internal/cref).
func openFlags(mode string) int {
	if mode == "r" {
		return unix.O_RDONLY | unix.O_NONBLOCK
	}
	return unix.O_PATH
}

// goRegion runs the four functions of the port on the descriptor fd with
// the tree's sysfs.
func goRegion(t testing.TB, s *sysfsTree, fd int) regionResult {
	t.Helper()
	src, err := SourceFromFD(fd, WithSysfsRoot(s.root))
	wantCode(t, err, 0)
	return regionOf(t, src)
}

// regionOf is what the four functions return for src; every failure must
// be an *Error naming its C function.
func regionOf(t testing.TB, src *Source) regionResult {
	t.Helper()
	var r regionResult
	code := func(err error) Code {
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Func == "" {
				t.Errorf("error %v (%T) is not a *pmem2.Error naming its function", err, err)
			}
		}
		return Code(CodeOf(err))
	}
	var err error
	r.Numa, err = src.NumaNode()
	r.NumaCode = code(err)
	r.ID, err = src.DeviceID()
	r.IDCode = code(err)
	r.USC, err = src.DeviceUSC()
	r.USCCode = code(err)
	r.BB, err = src.BadBlocks()
	r.BBCode = code(err)
	return r
}

// TestRegionFunctionsAreLibndctls runs every tree of regionCases through
// the port, as root and as uid 65534; nd_c_test.go runs the same trees
// through the C library.
func TestRegionFunctionsAreLibndctls(t *testing.T) {
	for _, c := range regionCases {
		t.Run(c.Name, func(t *testing.T) {
			s := openTree(t, c.Build)
			fd := testutil.OpenFD(t, c.OpenPath(s), openFlags(c.OpenMode()))
			asRootAndNobody(t, func(t *testing.T, root bool) {
				assert.Equal(t, c.WantFor(s, root, false).String(), goRegion(t, s, fd).String())
			})
		})
	}
}

// On the trees of Size and Alignment, the four functions find the Device
// DAX exactly where the exact lookup does, which is where C does not
// crash (TestExactLookupFindsTheDeviceWhereCDoes): there they have the
// region's values, elsewhere the codes of C's branch for no region.
func TestRegionFunctionsFindTheDeviceWhereTheExactLookupDoes(t *testing.T) {
	for _, c := range ndCases {
		if c.Want(true, true).Hang {
			continue // a FIFO the port reads as empty
		}
		s := newSysfs(t)
		c.Build(s)
		src, err := SourceFromFD(testutil.OpenFD(t, c.OpenPath(), unix.O_PATH), WithSysfsRoot(s.root))
		wantCode(t, err, 0)
		var d ndDevice
		_, err = src.NumaNode()
		if miss := src.findDevDAX(&d, lookupExact); (miss == "") != (err == nil) {
			t.Errorf("%s: the exact lookup says %q, NumaNode %v", c.Name, miss, err)
		}
	}
}

// An anonymous source is not bound to a region: every function is
// PMEM2_E_NOSUPP, as in C. A deleted or nil source fails as the other
// methods do.
func TestRegionFunctionsOfAnonymousAndDeletedSources(t *testing.T) {
	anon, err := SourceFromAnon(4096)
	require.NoError(t, err)
	assert.Equal(t, "numa_node_rc PMEM2_E_NOSUPP, device_id_rc PMEM2_E_NOSUPP, usc_rc PMEM2_E_NOSUPP, badblocks_rc PMEM2_E_NOSUPP",
		regionOf(t, anon).String())
	s := newSysfs(t)
	s.busDAX("1:5")
	deleted := daxSource(t, s, unix.O_PATH)
	require.NoError(t, deleted.Delete())
	for _, src := range []*Source{deleted, nil} {
		_, err := src.NumaNode()
		assert.ErrorIs(t, err, ErrDeleted)
		_, err = src.DeviceID()
		assert.ErrorIs(t, err, ErrDeleted)
		_, err = src.DeviceUSC()
		assert.ErrorIs(t, err, ErrDeleted)
		_, err = src.BadBlocks()
		assert.ErrorIs(t, err, ErrDeleted)
		assert.Equal(t, "numa_node_rc PMEM2_E_INVALID_FILE_HANDLE, device_id_rc PMEM2_E_INVALID_FILE_HANDLE, "+
			"usc_rc PMEM2_E_INVALID_FILE_HANDLE, badblocks_rc PMEM2_E_INVALID_FILE_HANDLE", regionOf(t, src).String())
	}
}

// The functions read sysfs on every call, as C does: a change between two
// calls shows.
func TestRegionFunctionsReadSysfsEveryTime(t *testing.T) {
	s := newSysfs(t)
	dimmDAX(0)(s)
	src := daxSource(t, s, unix.O_PATH)
	assert.Equal(t, onDIMM0.String(), regionOf(t, src).String())
	s.file(region0+"/numa_node", "2\n")
	s.file(ndBusDir+"/nmem0/nfit/dirty_shutdown", "8\n")
	s.badblocks("8 8\n")
	assert.Equal(t, found(2, id0, 8, bb(4096, 4096)).String(), regionOf(t, src).String())
}

// Concurrent calls share the source, and Delete waits for them.
func TestRegionFunctionsRunConcurrently(t *testing.T) {
	s := newSysfs(t)
	withBadblocks("8 8\n")(s)
	src := daxSource(t, s, unix.O_PATH)
	want := found(0, id0, 7, bb(4096, 4096)).String()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				assert.Equal(t, want, regionOf(t, src).String())
			}
		})
	}
	wg.Wait()
	require.NoError(t, src.Delete())
}

// The bad-block list streams through a fixed buffer: a line of a
// megabyte costs no memory by its size.
func TestBadBlockListsOfAnySizeStream(t *testing.T) {
	s := newSysfs(t)
	dimmDAX(0)(s)
	s.badblocks(strings.Repeat(" ", 1<<20) + "8 8\n" + strings.Repeat("\t", 1<<20) + "1024 1\n")
	src := daxSource(t, s, unix.O_PATH)
	bbs, err := src.BadBlocks()
	require.NoError(t, err)
	assert.Equal(t, []BadBlock{bb(4096, 4096), bb(524288, 512)}, bbs)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 5
	for range runs {
		if _, err := src.BadBlocks(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// The lookup's strings, the 4 KiB buffer and the result: far below the
	// 2 MiB the list holds.
	assert.Less(t, (after.TotalAlloc-before.TotalAlloc)/runs, uint64(64<<10), "bytes allocated per call")
}
