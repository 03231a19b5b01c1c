package fusefs_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

func TestCallsCountWhatReachesTheServer(t *testing.T) {
	srv, dir := mount(t, fusefs.Tree{
		"d/f":     fusefs.File("data"),
		"d/watch": fusefs.File("data"),
	}, &fusefs.Options{Faults: []fusefs.Fault{
		// Fails nothing the test does, but watches the node.
		{Path: "d/watch", Op: fusefs.OpFsync, Errno: syscall.EIO},
	}})
	for range 3 {
		if _, err := os.Stat(filepath.Join(dir, "d/f")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "d/watch")); err != nil {
			t.Fatal(err)
		}
		os.Stat(filepath.Join(dir, "d/missing"))
	}
	for range 2 {
		readFile(t, filepath.Join(dir, "d/f"))
	}
	tests := []struct {
		name string
		path string
		op   fusefs.Op
		want uint64
	}{
		{"a warm stat is answered by the kernel: one lookup for three stats", "d/f", fusefs.OpLookup, 1},
		{"the parent is looked up once too", "d", fusefs.OpLookup, 1},
		{"a node a rule watches is looked up on every stat", "d/watch", fusefs.OpLookup, 3},
		{"a missing name is cached as missing: one lookup", "d/missing", fusefs.OpLookup, 1},
		{"every read reaches the server (direct I/O)", "d/f", fusefs.OpRead, 4},
		{"every open reaches the server", "d/f", fusefs.OpOpen, 2},
		{"a path never touched counts nothing", "d/other", fusefs.OpLookup, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, srv.Calls(tt.path, tt.op), "Calls(%q, %v)", tt.path, tt.op)
		})
	}
	t.Run("CallCounts holds the same numbers", func(t *testing.T) {
		all := srv.CallCounts()
		if all["d/watch"][fusefs.OpLookup] != 3 || all["d/missing"][fusefs.OpLookup] != 1 {
			t.Errorf("CallCounts() = %v", all)
		}
		if _, ok := all["d/other"]; ok {
			t.Error("CallCounts lists a path without calls")
		}
	})
	t.Run("ResetCalls sets every count to zero", func(t *testing.T) {
		srv.ResetCalls()
		if all := srv.CallCounts(); len(all) != 0 {
			t.Errorf("after ResetCalls: %v", all)
		}
		os.Stat(filepath.Join(dir, "d/watch"))
		if got := srv.Calls("d/watch", fusefs.OpLookup); got != 1 {
			t.Errorf("counting after reset: %d, want 1", got)
		}
	})
	t.Run("the root is named \".\" or \"\"", func(t *testing.T) {
		os.ReadDir(dir)
		if srv.Calls(".", fusefs.OpReaddir) == 0 || srv.Calls("", fusefs.OpReaddir) != srv.Calls(".", fusefs.OpReaddir) {
			t.Errorf("root readdir counts: %d and %d", srv.Calls(".", fusefs.OpReaddir), srv.Calls("", fusefs.OpReaddir))
		}
	})
}
