package emulate_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
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

func byKey(list []map[string]any, key string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range list {
		if k, ok := m[key].(string); ok {
			out[k] = m
		}
	}
	return out
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
