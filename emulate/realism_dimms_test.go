package emulate_test

import (
	"encoding/json"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// dimmSpec has declared and generated DIMMs, a two-DIMM interleave set,
// bad blocks on Device DAX and fsdax, and two NUMA nodes.
func dimmSpec() *emulate.Spec {
	return &emulate.Spec{
		DIMMs: []emulate.DIMM{
			{Name: "nmem0", ID: new("8089-a2-1837-00000abc"), DirtyShutdown: 7},
			{Name: "nmem1", ID: new("8089-a2-1837-00000abd"), DirtyShutdown: 2},
			{Name: "nmem2", ID: new("8089-a2-1837-00000abe"), DirtyShutdown: 1},
		},
		DAXDevices: []emulate.DAXDevice{
			{Name: "dax0.0", Size: 1 << 30, DIMMs: []string{"nmem0"},
				BadBlocks: []emulate.BadBlock{{Offset: 4096, Length: 4096}, {Offset: 524288, Length: 512}}},
			{Name: "dax1.0", Minor: 1, Size: 2 << 30, NUMANode: 1, DIMMs: []string{"nmem1", "nmem2"},
				BadBlocks: []emulate.BadBlock{{Offset: 1 << 20, Length: 1 << 20}}},
			{Name: "dax2.0", Minor: 2, Size: 1 << 30, NUMANode: 1},
		},
		PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 30, BadBlocks: []emulate.BadBlock{{Offset: 8192, Length: 1024}}}},
	}
}

// listed decodes what ndctl prints: a list, a lone object, or an object
// holding the list under key (as "regions" when regions are listed with
// what they contain).
func listed(t *testing.T, f *emutest.Fixture, key string, args ...string) []map[string]any {
	t.Helper()
	out := runIn(t, f, need(t, "ndctl", "ndctl"), args...)
	var wrapped map[string]json.RawMessage
	if json.Unmarshal(out, &wrapped) == nil && wrapped[key] != nil {
		out = wrapped[key]
	}
	return jsonList(t, "ndctl "+args[0], out)
}

func TestNdctlListsTheDIMMs(t *testing.T) {
	f := emutest.Start(t, dimmSpec())
	dimms := byKey(listed(t, f, "dimms", "list", "-D"), "dev")
	want := map[string]string{
		"nmem0": "8089-a2-1837-00000abc", "nmem1": "8089-a2-1837-00000abd", "nmem2": "8089-a2-1837-00000abe",
		// generated for dax2.0's region and pmem0's
		"nmem3": "8089-a2-1837-706d0003", "nmem4": "8089-a2-1837-706d0004",
	}
	require.Len(t, dimms, len(want), "ndctl list -D: %v", dimms)
	for name, id := range want {
		assert.Equal(t, id, dimms[name]["id"], name)
		assert.Contains(t, dimms[name], "handle", name)
		assert.NotContains(t, dimms[name], "state", "%s is enabled (bound to nvdimm)", name)
	}
	bus := listed(t, f, "buses", "list", "-B")
	require.Len(t, bus, 1)
	assert.Equal(t, "ACPI.NFIT", bus[0]["provider"])
}

func TestNdctlListsTheRegionsWithTheirNUMANodesAndMappings(t *testing.T) {
	f := emutest.Start(t, dimmSpec())
	regions := byKey(listed(t, f, "regions", "list", "-R", "-v"), "dev")
	for r, node := range map[string]int64{"region0": 0, "region1": 1, "region2": 1, "region3": 0} {
		require.Contains(t, regions, r)
		assert.Equal(t, node, num(regions[r]["numa_node"]), r)
	}
	withDIMMs := byKey(listed(t, f, "regions", "list", "-R", "-D", "-r", "region1"), "dev")
	var got []string
	for _, m := range withDIMMs["region1"]["mappings"].([]any) {
		m := m.(map[string]any)
		got = append(got, m["dimm"].(string))
		assert.Equal(t, int64(1<<30), num(m["length"]))
	}
	assert.ElementsMatch(t, []string{"nmem1", "nmem2"}, got, "region1's interleave set")
}

func TestNdctlShowsTheMediaErrors(t *testing.T) {
	f := emutest.Start(t, dimmSpec())
	ns := byKey(listed(t, f, "namespaces", "list", "-N", "--media-errors"), "dev")
	type bb struct{ Offset, Length int64 }
	errs := func(dev string) (out []bb) {
		for _, b := range ns[dev]["badblocks"].([]any) {
			b := b.(map[string]any)
			out = append(out, bb{num(b["offset"]), num(b["length"])})
		}
		return out
	}
	// In 512-byte sectors from the namespace's start; 1 MiB is four
	// lines of the kernel's longest, 512 sectors.
	assert.Equal(t, []bb{{8, 8}, {1024, 1}}, errs("namespace0.0"))
	assert.Equal(t, []bb{{2048, 512}, {2560, 512}, {3072, 512}, {3584, 512}}, errs("namespace1.0"))
	assert.Equal(t, []bb{{16, 2}}, errs("namespace3.0"), "pmem0, fsdax")
	assert.NotContains(t, ns["namespace2.0"], "badblocks")
}

// An e820 bus, as memmap= makes it, has no DIMMs.
func TestAnE820BusListsNoDIMMs(t *testing.T) {
	f := emutest.Start(t, &emulate.Spec{NDBusProvider: "e820", DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
	assert.Empty(t, jsonListOrNone(runIn(t, f, need(t, "ndctl", "ndctl"), "list", "-D")))
	bus := listed(t, f, "buses", "list", "-B")
	require.Len(t, bus, 1)
	assert.Equal(t, "e820", bus[0]["provider"])
	assert.Len(t, listed(t, f, "namespaces", "list", "-N"), 1)
}

// jsonListOrNone is the number of entries ndctl printed, 0 for nothing.
func jsonListOrNone(out []byte) []any {
	var list []any
	if json.Unmarshal(out, &list) != nil {
		return nil
	}
	return list
}

// The C libpmem2 returns the declared NUMA nodes, ids, counts and bad
// blocks: ids concatenated in libndctl's DIMM order (the bus directory's,
// reversed), counts summed, bad blocks cut to each device and split at
// 512 sectors, as the kernel keeps them.
func TestTheCLibrarySeesTheDeclaredDIMMsAndBadBlocks(t *testing.T) {
	f := emutest.Start(t, dimmSpec())
	probe := cref.Build(t)
	tests := []struct {
		dev  string
		numa int
		id   string
		usc  uint64
		bad  []pmem2.BadBlock
	}{
		{"dax0.0", 0, "8089-a2-1837-00000abc", 7, []pmem2.BadBlock{{Offset: 4096, Length: 4096}, {Offset: 524288, Length: 512}}},
		{"dax1.0", 1, "8089-a2-1837-00000abe8089-a2-1837-00000abd", 3,
			[]pmem2.BadBlock{{Offset: 1 << 20, Length: 256 << 10}, {Offset: 1<<20 + 256<<10, Length: 256 << 10}, {Offset: 1<<20 + 512<<10, Length: 256 << 10}, {Offset: 1<<20 + 768<<10, Length: 256 << 10}}},
		{"dax2.0", 1, "8089-a2-1837-706d0003", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.dev, func(t *testing.T) {
			r, err := cref.Run(f, probe, "/dev/"+tt.dev, emulate.ModePath, cref.RegionSteps...)
			require.NoError(t, err)
			require.Zero(t, r.Signal, "%s", r)
			for _, c := range []cref.Call{r.NumaNode, r.DeviceID, r.USC, r.BadBlocks} {
				require.Zero(t, c.RC, "%s", r)
			}
			assert.Equal(t, tt.numa, r.NumaNode.Int())
			assert.Equal(t, tt.id, r.DeviceID.Text)
			assert.Equal(t, tt.usc, r.USC.Value)
			assert.Equal(t, tt.bad, r.BadBlockList)
		})
	}
}

// A regular file on a pmem device that hosts the fixture's files has its
// device's NUMA node, id and count; its bad blocks need its extents, which
// FUSE does not give (FIEMAP fails with EOPNOTSUPP, EBADF on O_PATH).
func TestTheCLibraryFindsTheDeviceOfAHostedFile(t *testing.T) {
	s := dimmSpec()
	s.PmemDevices[0].HostsFiles = true
	s.PmemDevices[0].NUMANode = 1
	s.Nodes = []emulate.Node{{Path: "data/file", Type: fusefs.TypeFile, Mode: 0o644, Content: "on pmem0\n"}}
	f := emutest.Start(t, s)
	probe := cref.Build(t)
	for mode, bad := range map[emulate.OpenMode]pmem2.Code{emulate.ModeR: -pmem2.Code(syscall.EOPNOTSUPP), emulate.ModePath: -pmem2.Code(syscall.EBADF)} {
		r, err := cref.Run(f, probe, f.Path("data/file"), mode, cref.RegionSteps...)
		require.NoError(t, err)
		assert.Equal(t, `from_fd 0, numa_node 1, device_id "8089-a2-1837-706d0004", usc 0, badblocks_rc `+bad.Name(), r.String(), mode)
	}
}
