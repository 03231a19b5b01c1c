package fusefs_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// A client that enumerates (libndctl walking regions) does work that
// depends on the order a directory lists in; a comparison with a tmpfs
// copy is fair only when both list alike.
func TestMaterializedCopyOnTmpfsListsInTheMountsOrder(t *testing.T) {
	tree := fusefs.Tree{
		"region1/size":  fusefs.File("1\n"),
		"region0/size":  fusefs.File("0\n"),
		"region10/size": fusefs.File("10\n"),
		"region2":       fusefs.Dir(),
		"a":             fusefs.Symlink("region0"),
		"z/deep/file":   fusefs.File("x"), // implied parents too
		"z/b":           fusefs.File("b"),
		"z/a":           fusefs.File("a"),
	}
	_, fuse := mount(t, tree, nil)
	real := tmpfs(t)
	if err := tree.Materialize(real); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{".", "z", "z/deep", "region0"} {
		got, want := testutil.DirNames(t, filepath.Join(real, dir)), testutil.DirNames(t, filepath.Join(fuse, dir))
		if !slices.Equal(got, want) {
			t.Errorf("%s: tmpfs lists %q, the mount %q", dir, got, want)
		}
	}
}
