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
// goroutines at once, unmounts, and requires every descriptor back. (go-fuse
// answers READs by splicing through pipe pairs from a process-wide pool it
// never empties; fusefs mounts with DisableSplice, so none are taken.) What
// the first Mount of a process starts for the process's lifetime, its
// reaper and the reaper's pipe (see fusefs's package doc), is started
// before the count.
func TestUnmountGivesBackEveryDescriptor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixture")
	require.NoError(t, os.Mkdir(dir, 0o755))
	first, err := emulate.Mount(dir, &emulate.Spec{})
	require.NoError(t, err)
	require.NoError(t, first.Close())
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
