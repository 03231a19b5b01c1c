package pmem2

import "testing"

// What nd_c_test.go (package pmem2_test, which can import the C reference
// and the namespace runner without an import cycle) needs of the trees of
// nd_cases_test.go.
type (
	NDCase   = ndCase
	NDResult = ndResult
	NDWant   = ndWant
	Tree     = sysfsTree
	// RegionCase and RegionResult are the trees of NumaNode, DeviceID,
	// DeviceUSC and BadBlocks and their outcomes.
	RegionCase   = regionCase
	RegionResult = regionResult
)

// RegionCases are the trees the four region functions are tested on.
var RegionCases = regionCases

// NDCases are the trees Size and Alignment are tested on.
var NDCases = ndCases

// Nobody is the unprivileged uid the tests run as.
const Nobody = nobody

func NewTree(t testing.TB) *Tree { return newSysfs(t) }

// OpenTree is a tree made by build that every user can read (openTree).
func OpenTree(t testing.TB, build func(*Tree)) *Tree { return openTree(t, build) }

// Sys and Dev are the directories the C library must see as /sys and /dev.
func (s *sysfsTree) Sys() string { return s.root }
func (s *sysfsTree) Dev() string { return s.devPath("") }

// TwoDevNodes builds the tree of TestTwoNodesOfOneNumber.
func (s *sysfsTree) TwoDevNodes() { twoDevNodes(s) }

// OnFsdax builds the one-DIMM Device DAX tree (nmem0, id DIMM0ID, dirty
// shutdown count 7) and, in its region0, namespace0.1 in fsdax mode whose
// block device pmem0 has the number devno ("major:minor").
func (s *sysfsTree) OnFsdax(devno string) {
	dimmDAX(0)(s)
	s.pmemNS(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0", devno: devno})
}

// DIMM0ID is the id of nmem0 in the trees.
var DIMM0ID = id0

// RegionOf is what the four region functions return for src.
func RegionOf(t testing.TB, src *Source) RegionResult { return regionOf(t, src) }

// As runs f as the test's user when root is set, else on a thread of uid
// 65534 (skipping the test when it is not root).
func As(t testing.TB, root bool, f func()) {
	if root {
		f()
		return
	}
	asUser(t, nobody, f)
}

// RegionBenchTree builds the Device DAX tree of BenchmarkRegionFunctions:
// one NFIT DIMM, two bad blocks in region0.
func (s *sysfsTree) RegionBenchTree() { regionBenchTree(s) }

// FileBenchTree builds the regular file of BenchmarkRegionFunctions,
// "data" beside the tree's sys, on an fsdax namespace of region0, and
// returns its path.
func (s *sysfsTree) FileBenchTree() string {
	fileOn(pmemNamespace{n: 1, mode: "memory", bdev: "pmem0"})(s)
	return s.base + "/data"
}
