package emulate_test

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/stretchr/testify/assert"
)

const (
	region0 = "sys/devices/platform/e820_pmem/ndbus0/region0"
	// ndDax01 is dax0.0's nd_dax, whose size and align pmem2 returns.
	ndDax01 = region0 + "/dax0.1"
	dax00   = ndDax01 + "/dax0.0"
)

func mustTree(t *testing.T, s *emulate.Spec) fusefs.Tree {
	t.Helper()
	tree, err := s.Tree()
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Validate(); err != nil {
		t.Fatalf("fusefs rejects the generated tree: %v", err)
	}
	return tree
}

func oneDAX(d emulate.DAXDevice) *emulate.Spec {
	return &emulate.Spec{DAXDevices: []emulate.DAXDevice{d}}
}

// node is the generated node p, which must be of type typ; nil, and the
// test failed, when it is missing or of another type.
func node(t *testing.T, tree fusefs.Tree, p string, typ fusefs.NodeType) *fusefs.Node {
	t.Helper()
	switch n, ok := tree[p]; {
	case !ok:
		t.Errorf("%s: missing", p)
	case n.Type != typ:
		t.Errorf("%s: a %s, want a %s", p, n.Type, typ)
	default:
		return n
	}
	return nil
}

// file asserts the content and permissions of a generated file.
func file(t *testing.T, tree fusefs.Tree, p, content string, mode uint32) {
	t.Helper()
	switch n := node(t, tree, p, fusefs.TypeFile); {
	case n == nil:
	case string(n.Data) != content:
		t.Errorf("%s: content %q, want %q", p, n.Data, content)
	case mode != 0 && n.Mode != mode:
		t.Errorf("%s: mode %#o, want %#o", p, n.Mode, mode)
	}
}

func link(t *testing.T, tree fusefs.Tree, p, target string) {
	t.Helper()
	if n := node(t, tree, p, fusefs.TypeSymlink); n != nil && n.Target != target {
		t.Errorf("%s → %q, want %q", p, n.Target, target)
	}
}

func absent(t *testing.T, tree fusefs.Tree, p string) {
	t.Helper()
	if _, ok := tree[p]; ok {
		t.Errorf("%s: present, want absent", p)
	}
}

// resolve follows symlinks inside the tree as the kernel would, returning
// the real path of p.
func resolve(tree fusefs.Tree, p string) (string, error) {
	parts := strings.Split(p, "/")
	cur := ""
	for hops := 0; len(parts) > 0; {
		c := parts[0]
		parts = parts[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			if cur == "." {
				cur = ""
			}
			continue
		}
		next := path.Join(cur, c)
		n, ok := tree[next]
		if !ok && !impliedDir(tree, next) {
			return "", fmt.Errorf("%s: no such node", next)
		}
		if ok && n.Type == fusefs.TypeSymlink {
			if hops++; hops > 40 {
				return "", fmt.Errorf("%s: too many links", p)
			}
			parts = append(strings.Split(n.Target, "/"), parts...)
			continue
		}
		cur = next
	}
	return cur, nil
}

func impliedDir(tree fusefs.Tree, p string) bool {
	for k := range tree {
		if strings.HasPrefix(k, p+"/") {
			return true
		}
	}
	return false
}

func TestAnEmptySpecHasAnEmptySysAndDev(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{})
	if len(tree) != 2 || tree["sys"] == nil || tree["dev"] == nil {
		t.Errorf("tree of an empty spec: %v", keys(tree))
	}
}

func TestADeviceDAXOnTheDaxBusLooksLikeTheKernels(t *testing.T) {
	tree := mustTree(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Major: 252, Size: 1 << 30, Align: 2 << 20, NUMANode: 1}))
	file(t, tree, dax00+"/dev", "252:0\n", 0o444)
	file(t, tree, dax00+"/size", "1073741824\n", 0o644)
	file(t, tree, dax00+"/align", "2097152\n", 0o644)
	file(t, tree, dax00+"/numa_node", "1\n", 0o444)
	file(t, tree, dax00+"/target_node", "1\n", 0o444)
	file(t, tree, dax00+"/modalias", "dax:t0\n", 0o444)
	file(t, tree, dax00+"/uevent", "MAJOR=252\nMINOR=0\nDEVNAME=dax0.0\nDRIVER=device_dax\nMODALIAS=dax:t0\n", 0o644)
	res := string(tree[dax00+"/resource"].Data)
	if tree[dax00+"/resource"].Mode != 0o400 || !strings.HasPrefix(res, "0x") {
		t.Errorf("resource %q mode %#o", res, tree[dax00+"/resource"].Mode)
	}
	start, _ := strconv.ParseUint(strings.TrimSpace(res), 0, 64)
	file(t, tree, dax00+"/mapping0/start", res, 0o400)
	file(t, tree, dax00+"/mapping0/end", fmt.Sprintf("%#x\n", start+1<<30-1), 0o400)
	file(t, tree, dax00+"/mapping0/page_offset", "0x0\n", 0o400)
	file(t, tree, region0+"/dax0.1/dax_region/id", "0\n", 0o444)
	file(t, tree, region0+"/dax0.1/dax_region/size", "1073741824\n", 0o444)
	file(t, tree, region0+"/dax0.1/dax_region/align", "2097152\n", 0o400)
	link(t, tree, "sys/dev/char/252:0", "../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0")
	link(t, tree, dax00+"/subsystem", "../../../../../../../bus/dax")
	link(t, tree, dax00+"/driver", "../../../../../../../bus/dax/drivers/device_dax")
	link(t, tree, "sys/bus/dax/devices/dax0.0", "../../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0")
	if n := tree["dev/dax0.0"]; n == nil || n.Type != fusefs.TypeCharDev || n.Major != 252 || n.Minor != 0 {
		t.Errorf("dev/dax0.0 = %+v", n)
	}
	absent(t, tree, "sys/class/dax")
}

func TestTheOldClassModelNestsTheDeviceInDax(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{DAXSubsystem: "class", DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
	dir := region0 + "/dax0.1/dax/dax0.0"
	file(t, tree, dir+"/size", "1073741824\n", 0)
	file(t, tree, dir+"/uevent", "MAJOR=252\nMINOR=0\nDEVNAME=dax0.0\n", 0)
	link(t, tree, "sys/class/dax/dax0.0", "../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax/dax0.0")
	link(t, tree, dir+"/subsystem", "../../../../../../../../class/dax")
	link(t, tree, dir+"/device", "../../../dax0.1")
	link(t, tree, "sys/dev/char/252:0", "../../devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax/dax0.0")
	absent(t, tree, dir+"/driver")
	absent(t, tree, "sys/bus/dax")
	file(t, tree, region0+"/dax0.1/dax_region/align", "2097152\n", 0)
}

func TestADeviceMayChooseItsOwnSubsystemModel(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{
		{Name: "dax0.0"}, {Name: "dax1.0", Minor: 1, Subsystem: "class"}}})
	for _, p := range []string{"sys/dev/char/252:0/subsystem", "sys/dev/char/252:1/subsystem"} {
		real, err := resolve(tree, p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(real, "/dax") {
			t.Errorf("%s resolves to %s", p, real)
		}
	}
	if real, _ := resolve(tree, "sys/dev/char/252:1/subsystem"); real != "sys/class/dax" {
		t.Errorf("dax1.0's subsystem is %s, want sys/class/dax", real)
	}
}

func TestTheNVDIMMBusIsCompleteAndConsistent(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{
		{Name: "dax0.0", Size: 1 << 30, Align: 2 << 20},
		{Name: "dax0.1", Minor: 1, Size: 2 << 30, Align: 1 << 30},
	}})
	bus := "sys/devices/platform/e820_pmem/ndbus0"
	file(t, tree, bus+"/provider", "ACPI.NFIT\n", 0)
	file(t, tree, bus+"/commands", "\n", 0)
	file(t, tree, bus+"/wait_probe", "1\n", 0)
	link(t, tree, bus+"/driver", "../../../../bus/nd/drivers/nd_bus")
	link(t, tree, bus+"/ndctl0/device", "../../ndbus0")
	link(t, tree, "sys/class/nd/ndctl0", "../../devices/platform/e820_pmem/ndbus0/ndctl0")
	file(t, tree, region0+"/size", "3221225472\n", 0)
	for _, f := range []string{"mappings", "nstype", "read_only", "modalias", "devtype", "resource", "persistence_domain", "numa_node", "align"} {
		if tree[region0+"/"+f] == nil {
			t.Errorf("region0/%s missing", f)
		}
	}
	link(t, tree, region0+"/driver", "../../../../../bus/nd/drivers/nd_region")
	for i, size := range []string{"1073741824\n", "2147483648\n"} {
		ns := fmt.Sprintf("%s/namespace0.%d", region0, i)
		nd := fmt.Sprintf("%s/dax0.%d", region0, i+1)
		file(t, tree, ns+"/size", size, 0)
		file(t, tree, ns+"/mode", "dax\n", 0)
		file(t, tree, ns+"/holder", fmt.Sprintf("dax0.%d\n", i+1), 0)
		file(t, tree, ns+"/devtype", "nd_namespace_io\n", 0)
		file(t, tree, nd+"/size", size, 0)
		file(t, tree, nd+"/dax_region/size", size, 0)
		file(t, tree, nd+fmt.Sprintf("/dax0.%d/size", i), size, 0)
		file(t, tree, nd+"/namespace", fmt.Sprintf("namespace0.%d\n", i), 0)
		file(t, tree, nd+"/devtype", "nd_dax\n", 0)
		file(t, tree, nd+"/modalias", "nd:t7\n", 0)
		file(t, tree, nd+"/supported_alignments", "4096 2097152 1073741824 \n", 0)
		link(t, tree, nd+"/driver", "../../../../../../bus/nd/drivers/dax_pmem")
		for _, l := range []string{"namespace0." + strconv.Itoa(i), "dax0." + strconv.Itoa(i+1)} {
			if _, err := resolve(tree, "sys/bus/nd/devices/"+l); err != nil {
				t.Error(err)
			}
		}
	}
	file(t, tree, region0+"/dax0.2/align", "1073741824\n", 0)
}

// Every symlink the generator writes resolves inside the tree, and no two
// devices' memory overlaps.
func TestGeneratedLinksResolveAndResourcesDoNotOverlap(t *testing.T) {
	s := emulate.Default()
	s.Nodes = nil // the default's overlays break links on purpose
	s.Faults = nil
	tree := mustTree(t, s)
	for p, n := range tree {
		if n.Type == fusefs.TypeSymlink {
			if _, err := resolve(tree, p); err != nil {
				t.Errorf("%s → %s: %v", p, n.Target, err)
			}
		}
	}
	type span struct {
		p          string
		start, end uint64
	}
	var spans []span
	for p, n := range tree {
		if !strings.HasSuffix(p, "/mapping0/start") {
			continue
		}
		dir := strings.TrimSuffix(p, "/mapping0/start")
		start, _ := strconv.ParseUint(strings.TrimSpace(string(n.Data)), 0, 64)
		end, _ := strconv.ParseUint(strings.TrimSpace(string(tree[dir+"/mapping0/end"].Data)), 0, 64)
		size, err := strconv.ParseUint(strings.TrimSpace(string(tree[path.Dir(path.Dir(p))+"/size"].Data)), 10, 64)
		if err == nil && end-start+1 != size {
			t.Errorf("%s: mapping [%#x, %#x] does not span its nd_dax size %d", dir, start, end, size)
		}
		spans = append(spans, span{dir, start, end})
	}
	for p, n := range tree {
		if strings.HasSuffix(p, "/block/pmem0/dev") {
			ns := strings.TrimSuffix(p, "/block/pmem0/dev")
			start, _ := strconv.ParseUint(strings.TrimSpace(string(tree[ns+"/resource"].Data)), 0, 64)
			size, _ := strconv.ParseUint(strings.TrimSpace(string(tree[ns+"/size"].Data)), 10, 64)
			spans = append(spans, span{ns, start, start + size - 1})
			_ = n
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	if len(spans) < 15 {
		t.Fatalf("only %d memory ranges found", len(spans))
	}
	for i := 1; i < len(spans); i++ {
		if spans[i].start <= spans[i-1].end {
			t.Errorf("%s and %s overlap", spans[i-1].p, spans[i].p)
		}
	}
}

func TestRawContentReplacesOnlyTheFilesPmem2Reads(t *testing.T) {
	tree := mustTree(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30, SizeRaw: new("1G"), AlignRaw: new("200000\n")}))
	file(t, tree, ndDax01+"/size", "1G", 0o444)
	file(t, tree, ndDax01+"/align", "200000\n", 0o644)
	// What PMDK 1.9 read, and the rest, keep the declared values.
	file(t, tree, dax00+"/size", "1073741824\n", 0)
	file(t, tree, ndDax01+"/dax_region/align", "2097152\n", 0o400)
	file(t, tree, ndDax01+"/dax_region/size", "1073741824\n", 0)
	file(t, tree, region0+"/namespace0.0/size", "1073741824\n", 0)
	file(t, tree, dax00+"/align", "2097152\n", 0)
}

func TestWithoutTheNVDIMMBusTheDeviceHangsBelowHmemWithoutARegion(t *testing.T) {
	tree := mustTree(t, oneDAX(emulate.DAXDevice{Name: "dax3.0", Size: 1 << 30, NDBus: new(false)}))
	link(t, tree, "sys/dev/char/252:0", "../../devices/platform/hmem.3/dax3.0")
	link(t, tree, "sys/devices/platform/hmem.3/dax3.0/subsystem", "../../../../bus/dax")
	for p := range tree {
		if strings.Contains(p, "dax_region") || strings.Contains(p, "ndbus") || strings.HasPrefix(p, "sys/bus/nd") {
			t.Errorf("%s exists without the NVDIMM bus", p)
		}
	}
	tree = mustTree(t, oneDAX(emulate.DAXDevice{Name: "dax3.0", NDBus: new(false), DAXRegion: new(true)}))
	file(t, tree, "sys/devices/platform/hmem.3/dax_region/align", "2097152\n", 0)
}

func TestDaxRegionFalseKeepsTheBusButDropsTheRegion(t *testing.T) {
	tree := mustTree(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", DAXRegion: new(false)}))
	absent(t, tree, region0+"/dax0.1/dax_region")
	file(t, tree, region0+"/dax0.1/align", "2097152\n", 0)
	file(t, tree, dax00+"/size", "0\n", 0)
	absent(t, tree, dax00+"/mapping0")
}

func TestANegativeTargetNodeLeavesTheFileOut(t *testing.T) {
	tree := mustTree(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", NUMANode: -1, TargetNode: new(-1)}))
	absent(t, tree, dax00+"/target_node")
	file(t, tree, dax00+"/numa_node", "-1\n", 0)
	tree = mustTree(t, oneDAX(emulate.DAXDevice{Name: "dax0.0", TargetNode: new(2)}))
	file(t, tree, dax00+"/target_node", "2\n", 0)
}

func TestAPmemDeviceIsABlockDeviceBelowItsNamespace(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{
		DAXDevices:  []emulate.DAXDevice{{Name: "dax1.0"}},
		PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 30, NUMANode: 1}},
	})
	ns := "sys/devices/platform/e820_pmem/ndbus0/region2/namespace2.0"
	file(t, tree, ns+"/block/pmem0/dev", "259:0\n", 0)
	file(t, tree, ns+"/block/pmem0/size", "2097152\n", 0)
	file(t, tree, ns+"/mode", "memory\n", 0)
	file(t, tree, ns+"/numa_node", "1\n", 0)
	link(t, tree, ns+"/driver", "../../../../../../bus/nd/drivers/nd_pmem")
	link(t, tree, "sys/block/pmem0", "../devices/platform/e820_pmem/ndbus0/region2/namespace2.0/block/pmem0")
	link(t, tree, "sys/dev/block/259:0", "../../devices/platform/e820_pmem/ndbus0/region2/namespace2.0/block/pmem0")
	if n := tree["dev/pmem0"]; n == nil || n.Type != fusefs.TypeBlockDev || n.Major != 259 {
		t.Errorf("dev/pmem0 = %+v", n)
	}
}

func TestACharDeviceWithASubsystemGetsAVirtualSysfsEntry(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{Nodes: []emulate.Node{
		{Path: "dev/zero", Type: fusefs.TypeCharDev, Major: 1, Minor: 5, Subsystem: "mem"},
		{Path: "dev/ghost", Type: fusefs.TypeCharDev, Major: 60, Minor: 0},
	}})
	link(t, tree, "sys/dev/char/1:5", "../../devices/virtual/mem/zero")
	link(t, tree, "sys/devices/virtual/mem/zero/subsystem", "../../../../class/mem")
	link(t, tree, "sys/class/mem/zero", "../../devices/virtual/mem/zero")
	file(t, tree, "sys/devices/virtual/mem/zero/dev", "1:5\n", 0)
	file(t, tree, "sys/devices/virtual/mem/zero/uevent", "MAJOR=1\nMINOR=5\nDEVNAME=zero\n", 0)
	absent(t, tree, "sys/dev/char/60:0")
}

func TestDeclaredNodesReplaceGeneratedOnes(t *testing.T) {
	s := oneDAX(emulate.DAXDevice{Name: "dax0.0", Size: 1 << 30})
	s.Nodes = []emulate.Node{
		// A file in place of a generated directory drops what was below.
		{Path: region0 + "/dax0.1/dax_region", Type: fusefs.TypeFile, Content: "not a dir\n"},
		// A directory over a generated directory keeps its children.
		{Path: dax00, Type: fusefs.TypeDir, Mode: 0o700},
		// A link retargeted.
		{Path: dax00 + "/subsystem", Type: fusefs.TypeSymlink, Target: "../../../../../../../class/mem"},
		// A directory replacing a generated link can hold new nodes.
		{Path: "sys/dev/char/252:0", Type: fusefs.TypeDir},
		{Path: "sys/dev/char/252:0/size", Type: fusefs.TypeFile, Content: "7\n"},
		// Anywhere else, nodes simply add.
		{Path: "etc/extra", Type: fusefs.TypeFile, ContentBase64: []byte{0xff, 0xfe}},
	}
	tree := mustTree(t, s)
	file(t, tree, region0+"/dax0.1/dax_region", "not a dir\n", 0)
	absent(t, tree, region0+"/dax0.1/dax_region/align")
	if n := tree[dax00]; n.Mode != 0o700 || tree[dax00+"/size"] == nil {
		t.Errorf("the device directory lost its children or its mode: %+v", n)
	}
	link(t, tree, dax00+"/subsystem", "../../../../../../../class/mem")
	file(t, tree, "sys/dev/char/252:0/size", "7\n", 0)
	file(t, tree, "etc/extra", "\xff\xfe", 0)
}

func keys(tree fusefs.Tree) []string {
	out := make([]string, 0, len(tree))
	for k := range tree {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A mode reaches the tree as st_mode bits: setuid, setgid and sticky from
// their fs.FileMode flags, NoPerm as fusefs.NoPerm, zero as the default.
func TestModesReachTheTreeAsUnixBits(t *testing.T) {
	tree := mustTree(t, &emulate.Spec{Nodes: []emulate.Node{
		{Path: "plain", Type: fusefs.TypeFile, Mode: 0o640},
		{Path: "special", Type: fusefs.TypeDir, Mode: fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o755},
		{Path: "none", Type: fusefs.TypeFile, Mode: emulate.NoPerm},
		{Path: "default", Type: fusefs.TypeFile},
	}})
	for p, want := range map[string]uint32{"plain": 0o640, "special": 0o7755, "none": fusefs.NoPerm, "default": 0} {
		assert.Equal(t, want, tree[p].Mode, p)
	}
}
