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
)

// NDCases are the trees Size and Alignment are tested on.
var NDCases = ndCases

// Nobody is the unprivileged uid the tests run as.
const Nobody = nobody

func NewTree(t testing.TB) *Tree { return newSysfs(t) }

// Sys and Dev are the directories the C library must see as /sys and /dev.
func (s *sysfsTree) Sys() string { return s.root }
func (s *sysfsTree) Dev() string { return s.devPath("") }

func (s *sysfsTree) OpenToAll() { s.openToAll() }

// TwoDevNodes builds the tree of TestTwoNodesOfOneNumber.
func (s *sysfsTree) TwoDevNodes() { twoDevNodes(s) }
