package emulate_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

const ndbus0 = "sys/devices/platform/e820_pmem/ndbus0"

func region(id int) string { return fmt.Sprintf("%s/region%d", ndbus0, id) }

// Every region of an NFIT bus is an interleave set of DIMMs: the ones its
// devices name, or one generated for it; each DIMM has the attributes
// libndctl reads, and each region a mappingK per DIMM.
func TestRegionsAreInterleaveSetsOfDIMMs(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{
		DIMMs: []emulate.DIMM{
			{Name: "nmem0", ID: new("8089-a2-1837-00000abc"), DirtyShutdown: 7},
			{Name: "nmem1"},
			{Name: "nmem5", ID: new(""), DirtyShutdown: -1},
		},
		DAXDevices: []emulate.DAXDevice{
			{Name: "dax0.0", Size: 1 << 30, DIMMs: []string{"nmem0"}},
			{Name: "dax1.0", Minor: 1, Size: 1 << 30, NUMANode: 1, DIMMs: []string{"nmem1", "nmem5"}},
			{Name: "dax1.1", Minor: 2, Size: 1 << 30, NUMANode: 1},
			{Name: "dax2.0", Minor: 3, Size: 1 << 30, NUMANode: 1},
		},
		PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 30}},
	})
	file(t, tree, ndbus0+"/provider", "ACPI.NFIT\n", 0)
	file(t, tree, ndbus0+"/nfit/revision", "1\n", 0)

	nmem0 := ndbus0 + "/nmem0"
	file(t, tree, nmem0+"/dev", "249:0\n", 0)
	file(t, tree, nmem0+"/commands", "\n", 0)
	file(t, tree, nmem0+"/modalias", "nd:t1\n", 0)
	file(t, tree, nmem0+"/devtype", "nvdimm\n", 0)
	file(t, tree, nmem0+"/state", "active\n", 0)
	file(t, tree, nmem0+"/nfit/id", "8089-a2-1837-00000abc\n", 0o444)
	file(t, tree, nmem0+"/nfit/dirty_shutdown", "7\n", 0o444)
	file(t, tree, nmem0+"/nfit/handle", "0\n", 0)
	file(t, tree, nmem0+"/nfit/phys_id", "0x20\n", 0)
	file(t, tree, nmem0+"/nfit/serial", "0x00000abc\n", 0)
	link(t, tree, nmem0+"/driver", "../../../../../bus/nd/drivers/nvdimm")
	link(t, tree, "sys/bus/nd/devices/nmem0", "../../../devices/platform/e820_pmem/ndbus0/nmem0")
	link(t, tree, "sys/dev/char/249:0", "../../devices/platform/e820_pmem/ndbus0/nmem0")
	// A declared DIMM without id or count: generated ones otherwise.
	file(t, tree, ndbus0+"/nmem1/nfit/id", "8089-a2-1837-706d0001\n", 0)
	file(t, tree, ndbus0+"/nmem1/nfit/dirty_shutdown", "0\n", 0)
	file(t, tree, ndbus0+"/nmem1/nfit/handle", "0x1\n", 0)
	absent(t, tree, ndbus0+"/nmem5/nfit/id")
	absent(t, tree, ndbus0+"/nmem5/nfit/dirty_shutdown")

	file(t, tree, region(0)+"/mappings", "1\n", 0)
	file(t, tree, region(0)+"/mapping0", "nmem0,0,1073741824,0\n", 0)
	// Two DIMMs share region1's 2 GiB (both of its devices) equally.
	file(t, tree, region(1)+"/mappings", "2\n", 0)
	file(t, tree, region(1)+"/mapping0", "nmem1,0,1073741824,0\n", 0)
	file(t, tree, region(1)+"/mapping1", "nmem5,0,1073741824,1\n", 0)
	// The regions that name none get a DIMM each, numbered past the
	// declared ones' gaps: nmem2 for region2, nmem3 for pmem0's region3.
	file(t, tree, region(2)+"/mapping0", "nmem2,0,1073741824,0\n", 0)
	file(t, tree, ndbus0+"/nmem2/nfit/id", "8089-a2-1837-706d0002\n", 0)
	file(t, tree, ndbus0+"/nmem2/numa_node", "1\n", 0)
	file(t, tree, region(3)+"/mapping0", "nmem3,0,1073741824,0\n", 0)
	absent(t, tree, ndbus0+"/nmem4")
}

// A DIMM named by two regions gives each its share, one after the other
// in its address space; a DIMM no region names sits on the bus, idle.
func TestADIMMMayServeSeveralRegionsOrNone(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{
		DIMMs: []emulate.DIMM{{Name: "nmem0"}, {Name: "nmem1"}, {Name: "nmem7"}},
		DAXDevices: []emulate.DAXDevice{
			{Name: "dax0.0", Size: 2 << 30, DIMMs: []string{"nmem0", "nmem1"}},
			{Name: "dax1.0", Minor: 1, Size: 1 << 30, DIMMs: []string{"nmem1"}},
		},
	})
	file(t, tree, region(0)+"/mapping1", "nmem1,0,1073741824,1\n", 0)
	file(t, tree, region(1)+"/mapping0", "nmem1,1073741824,1073741824,0\n", 0)
	file(t, tree, ndbus0+"/nmem7/state", "idle\n", 0)
	absent(t, tree, ndbus0+"/nmem2")
}

// With an e820 bus (memmap= pmem) there are no DIMMs: mappings 0 and no
// nfit/ directory, as before DIMMs existed.
func TestAnE820BusHasNoDIMMs(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{NDBusProvider: "e820", DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
	file(t, tree, ndbus0+"/provider", "e820\n", 0)
	file(t, tree, region(0)+"/mappings", "0\n", 0)
	absent(t, tree, ndbus0+"/nfit")
	absent(t, tree, ndbus0+"/nmem0")
	absent(t, tree, region(0)+"/mapping0")
}

// Bad blocks become the region's badblocks lines as the kernel keeps
// them: sectors relative to the region, sorted, touching ranges merged,
// at most 512 sectors a line; a pmem device's block device lists its own.
func TestBadBlocksAreWrittenAsTheKernelListsThem(t *testing.T) {
	tests := []struct {
		name   string
		blocks [][]emulate.BadBlock // of dax0.0 and dax0.1, 1 GiB each
		want   string
	}{
		{"none: an empty file", nil, ""},
		{"the issue's example", [][]emulate.BadBlock{{{Offset: 4096, Length: 4096}, {Offset: 524288, Length: 512}}}, "8 8\n1024 1\n"},
		{"sorted", [][]emulate.BadBlock{{{Offset: 524288, Length: 512}, {Offset: 4096, Length: 4096}}}, "8 8\n1024 1\n"},
		{"relative to the region: the second device starts at 1 GiB", [][]emulate.BadBlock{nil, {{Offset: 0, Length: 512}}}, "2097152 1\n"},
		{"touching ranges are merged, also across devices",
			[][]emulate.BadBlock{{{Offset: 1<<30 - 1024, Length: 1024}}, {{Offset: 0, Length: 512}}}, "2097150 3\n"},
		{"a line holds at most 512 sectors", [][]emulate.BadBlock{{{Offset: 0, Length: 600 * 512}}}, "0 512\n512 88\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}, {Name: "dax0.1", Minor: 1, Size: 1 << 30}}}
			for i, b := range tt.blocks {
				s.DAXDevices[i].BadBlocks = b
			}
			file(t, mustTree(t, s), region(0)+"/badblocks", tt.want, 0o444)
		})
	}
	t.Run("a pmem device's block device lists its own, relative to it", func(t *testing.T) {
		tree := mustTree(t, &emulate.Spec{PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 30,
			BadBlocks: []emulate.BadBlock{{Offset: 8192, Length: 1024}}}}})
		file(t, tree, region(0)+"/badblocks", "16 2\n", 0)
		file(t, tree, region(0)+"/namespace0.0/block/pmem0/badblocks", "16 2\n", 0)
	})
}

// A pmem device that hosts the fixture's files takes the mount's device
// number once mounted, where libpmem2 compares it with a file's st_dev.
func TestAPmemDeviceHostsTheFixturesFiles(t *testing.T) {
	s := &emulate.Spec{
		PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 30, HostsFiles: true}},
		Nodes:       []emulate.Node{{Path: "data/file", Type: fusefs.TypeFile, Content: "x"}},
	}
	f := emutest.Start(t, s)
	st := statT(t, f.Path("data/file"))
	want := emulate.DevNum{Major: unix.Major(st.Dev), Minor: unix.Minor(st.Dev)}
	assert.Equal(t, want, f.DevNum("pmem0"))
	read := func(p string) string {
		b, err := os.ReadFile(f.Path(p))
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, want.String()+"\n", read("sys/block/pmem0/dev"))
	assert.Contains(t, read("sys/block/pmem0/uevent"), fmt.Sprintf("MAJOR=%d\nMINOR=%d\n", want.Major, want.Minor))
	assert.Equal(t, want.String()+"\n", read("sys/dev/block/"+want.String()+"/dev"))
	_, err := os.Lstat(f.Path("sys/dev/block/259:0"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the placeholder number is gone")
	dev := statT(t, f.Path("dev/pmem0"))
	assert.Equal(t, uint64(st.Dev), uint64(dev.Rdev), "dev/pmem0 has the number")
}

func statT(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(p, &st))
	return st
}

// A device without an expectation gets its NUMA node, id, count and bad
// blocks derived from the declaration (bad blocks for root; a user gets
// PMEM2_E_CANNOT_READ_BOUNDS), and pmem2 returns them.
func TestDerivedChecksCoverDIMMsAndBadBlocks(t *testing.T) {
	s := dimmSpec()
	byPath := map[string]string{}
	for _, c := range s.ChecksFor(emulate.CallerRoot) {
		byPath[c.Path] = c.Expect.String()
	}
	assert.Equal(t, `from_fd 0, size 2147483648, alignment 2097152, numa_node 1, device_id "8089-a2-1837-00000abe8089-a2-1837-00000abd", usc 3, `+
		`badblocks [1048576+262144 1310720+262144 1572864+262144 1835008+262144]`, byPath["dev/dax1.0"])
	checked := 0
	for _, c := range s.Checks() {
		if c.Expect.DeviceID != nil {
			checked++
		}
	}
	assert.Equal(t, 3, checked, "every Device DAX")
	meets(t, emutest.Start(t, s), s.Checks())
}
