package stress_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

// TestUnmountGivesBackEveryDescriptor reads one fixture file from many
// goroutines at once, unmounts, and requires every descriptor back.
//
// It fails today: go-fuse answers each READ by splicing the reply through a
// pipe pair from its process-wide pool (package splice) and keeps the
// pairs in the pool after the server is gone, so a process that ever served
// n reads at once keeps up to 2n pipe descriptors for good. fusefs holds
// its files in memory, where splicing saves nothing; setting
// fuse.MountOptions.DisableSplice in fusefs's Mount (or calling
// splice.ClearSplicePool when the last server closes) gives them back.
// TestStress counts these pipes apart, so its verdict does not depend on
// this.
func TestUnmountGivesBackEveryDescriptor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixture")
	require.NoError(t, os.Mkdir(dir, 0o755))
	before := takeResources(t)
	f, err := emulate.Mount(dir, &emulate.Spec{Nodes: []emulate.Node{{Path: "data/small", Type: fusefs.TypeFile, Content: fileData}}})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fd, err := unix.Open(f.Path("data/small"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer unix.Close(fd)
			buf := make([]byte, 64)
			for range 200 {
				if _, err := unix.Pread(fd, buf, 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, f.Close())
	checkReturned(t, before, dir, false)
}
