package fusefs_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

func TestPrefetchWarmsTheCachesBeforeMountReturns(t *testing.T) {
	watched := fusefs.Fault{Path: "sys/devices/platform/bus0/region1/attr0", Op: fusefs.OpRead, Errno: syscall.EIO, After: 1 << 30}
	hidden := fusefs.Fault{Path: "sys/devices/platform/bus0/region2", Op: fusefs.OpReaddir, Errno: syscall.EIO}
	for _, tt := range []struct {
		name string
		opts fusefs.Options
		want map[fusefs.Op]bool // what a first enumeration may still send
	}{
		{"by default files are still opened and read from the server", fusefs.Options{Prefetch: true},
			map[fusefs.Op]bool{fusefs.OpOpen: true, fusefs.OpRead: true, fusefs.OpGetattr: true}},
		{"with KernelOpen nothing reaches the server", fusefs.Options{Prefetch: true, KernelOpen: true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Faults = []fusefs.Fault{watched, hidden}
			srv, dir := mount(t, sysfsLike(20), &tt.opts)
			if all := srv.CallCounts(); len(all) != 0 {
				t.Errorf("Mount left counts: %v", all)
			}
			// The rules' own nodes were left alone: everything under
			// region2 and attr0 reaches the server.
			srv.SetFaults([]fusefs.Fault{watched})
			enumerate(t, dir)
			for p, ops := range srv.CallCounts() {
				inRule := p == watched.Path || p == hidden.Path || filepath.Dir(p) == hidden.Path
				for op, n := range ops {
					if !tt.want[op] && !inRule {
						t.Errorf("%s: %d %v calls reached the server", p, n, op)
					}
				}
			}
			if n := srv.Calls(watched.Path, fusefs.OpRead); n == 0 {
				t.Error("the watched file was read from the cache")
			}
			if n := srv.Calls(hidden.Path, fusefs.OpReaddir); n == 0 {
				t.Error("the watched directory was listed from the cache")
			}
			p := "sys/devices/platform/bus0/region3/attr2"
			if err := srv.SetData(p, []byte("changed\n")); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, p)); string(b) != "changed\n" || err != nil {
				t.Errorf("after SetData: %q, %v", b, err)
			}
		})
	}
}
