package pmem2_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/cref/clib"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// BenchmarkRegionFunctionsAgainstC times each region function of the port
// against the C library's on the same descriptor and tree, side by side:
// alternating batches of 8 calls on one thread that sees the tree at /sys
// and /dev (its own mount namespace; Go with WithSysfsRoot("/sys")), so
// that noise hits both alike. It reports go-ns/op, c-ns/op and c/go, the
// number to quote. Trees: those of BenchmarkRegionFunctions — the Device
// DAX of one NFIT DIMM with two bad blocks, and a regular file on an
// fsdax namespace of its region.
func BenchmarkRegionFunctionsAgainstC(b *testing.B) {
	if unix.Geteuid() != 0 {
		b.Fatal("the benchmark binds the tree over /sys and /dev in a private mount namespace: run it as root")
	}
	b.Setenv("NDCTL_LOG", "0")
	b.Setenv("DAXCTL_LOG", "0")
	dax := pmem2.NewTree(b)
	dax.RegionBenchTree()
	// libdaxctl stats /dev/dax0.0, and the tree's dev is bound over /dev:
	// a node of its own, 1:5 (/dev/zero's), in place of the link.
	node := filepath.Join(dax.Dev(), "dax0.0")
	if err := os.Remove(node); err != nil {
		b.Fatal(err)
	}
	if err := unix.Mknod(node, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 5))); err != nil {
		b.Fatal(err)
	}
	file := pmem2.NewTree(b)
	data := file.FileBenchTree()
	for _, tg := range []struct {
		name string
		tree *pmem2.Tree
		fd   int
	}{
		{"devdax", dax, testutil.OpenFD(b, "/dev/zero", unix.O_PATH)},
		{"regular", file, testutil.OpenFD(b, data, unix.O_RDONLY)},
	} {
		for i, call := range []clib.RegionCall{clib.NumaNode, clib.DeviceID, clib.DeviceUSC, clib.BadBlocks} {
			goCall := []func(*pmem2.Source) error{
				func(s *pmem2.Source) error { _, err := s.NumaNode(); return err },
				func(s *pmem2.Source) error { _, err := s.DeviceID(); return err },
				func(s *pmem2.Source) error { _, err := s.DeviceUSC(); return err },
				func(s *pmem2.Source) error { _, err := s.BadBlocks(); return err },
			}[i]
			b.Run(tg.name+"/"+[]string{"NumaNode", "DeviceID", "DeviceUSC", "BadBlocks"}[i], func(b *testing.B) {
				var goTime, cTime time.Duration
				err := onPrivateThread(tg.tree.Sys(), tg.tree.Dev(), func() error {
					src, err := pmem2.SourceFromFD(tg.fd, pmem2.WithSysfsRoot("/sys"))
					if err != nil {
						return err
					}
					// Two ways to one answer, and a successful one.
					if rc, err := clib.RegionLoop(tg.fd, call, 1), goCall(src); rc != 0 || err != nil {
						return fmt.Errorf("C %d, Go %v", rc, err)
					}
					b.ResetTimer()
					const batch = 8
					for done := 0; done < b.N; done += batch {
						k := min(batch, b.N-done)
						t0 := time.Now()
						for range k {
							if err := goCall(src); err != nil {
								return err
							}
						}
						goTime += time.Since(t0)
						t0 = time.Now()
						rc := clib.RegionLoop(tg.fd, call, k)
						cTime += time.Since(t0)
						if rc != 0 {
							return pmem2.Code(rc)
						}
					}
					b.StopTimer()
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(goTime.Nanoseconds())/float64(b.N), "go-ns/op")
				b.ReportMetric(float64(cTime.Nanoseconds())/float64(b.N), "c-ns/op")
				b.ReportMetric(float64(cTime)/float64(goTime), "c/go")
			})
		}
	}
}

// onPrivateThread runs fn on a thread of its own that has unshared its
// mount namespace (/ made recursively private first, so nothing reaches
// the host's mounts) and bound sys over /sys and dev over /dev. The thread
// is never unlocked: it ends with the goroutine, and its namespace with it.
func onPrivateThread(sys, dev string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		switch {
		case unix.Unshare(unix.CLONE_NEWNS|unix.CLONE_FS) != nil:
			done <- fmt.Errorf("unshare(CLONE_NEWNS|CLONE_FS) failed")
		case unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") != nil:
			done <- fmt.Errorf("mount --make-rprivate / failed")
		case unix.Mount(sys, "/sys", "", unix.MS_BIND|unix.MS_REC, "") != nil:
			done <- fmt.Errorf("mount --rbind %s /sys failed", sys)
		case unix.Mount(dev, "/dev", "", unix.MS_BIND, "") != nil:
			done <- fmt.Errorf("mount --bind %s /dev failed", dev)
		default:
			done <- fn()
		}
	}()
	return <-done
}
