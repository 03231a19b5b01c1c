package fusefs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"golang.org/x/sys/unix"
)

// Run: go test -run '^$' -bench . -count 5 ./fusefs/ (as root: it mounts a
// tmpfs). Each benchmark runs the same system call against the same tree on
// tmpfs, on the FUSE mount with default caching and with NoCache, side by
// side in one run.

const devDir = "sys/devices/platform/bus0/region0/dev0.0"

// sysfsLike is a tree shaped like sysfs: a device deep under devices/, a
// dev/char link to it, and links from the device to its subsystem, plus
// filler siblings.
func sysfsLike(filler int) fusefs.Tree {
	t := fusefs.Tree{
		devDir + "/size":                         fusefs.File("1073741824\n"),
		devDir + "/align":                        fusefs.File("2097152\n"),
		devDir + "/subsystem":                    fusefs.Symlink("../../../../../bus/widget"),
		"sys/bus/widget/drivers/widget_drv/bind": {Type: fusefs.TypeFile, Mode: 0200},
		"sys/dev/char/251:0":                     fusefs.Symlink("../../devices/platform/bus0/region0/dev0.0"),
	}
	for i := range filler {
		t[fmt.Sprintf("sys/devices/platform/bus0/region%d/attr%d", i%50+1, i)] = fusefs.File("0\n")
	}
	return t
}

type benchFS struct {
	name string
	dir  string
	srv  *fusefs.Server // nil for tmpfs
}

func benchTargets(b *testing.B, tree fusefs.Tree) []benchFS {
	real := tmpfs(b)
	if err := tree.Materialize(real); err != nil {
		b.Fatal(err)
	}
	cached, cdir := mount(b, tree, nil)
	nocache, ndir := mount(b, tree, &fusefs.Options{NoCache: true})
	return []benchFS{{"tmpfs", real, nil}, {"fuse", cdir, cached}, {"fuse-nocache", ndir, nocache}}
}

func BenchmarkCalls(b *testing.B) {
	tree := sysfsLike(500)
	targets := benchTargets(b, tree)
	var st unix.Stat_t
	buf := make([]byte, 256)
	ops := []struct {
		name string
		fn   func(root string) error
	}{
		{"stat", func(root string) error { return unix.Stat(filepath.Join(root, devDir, "size"), &st) }},
		{"lookup-missing", func(root string) error {
			if err := unix.Stat(filepath.Join(root, devDir, "missing"), &st); err != unix.ENOENT {
				return fmt.Errorf("stat of a missing name: %v", err)
			}
			return nil
		}},
		{"readlink", func(root string) error {
			_, err := unix.Readlink(filepath.Join(root, "sys/dev/char/251:0"), buf)
			return err
		}},
		{"realpath", func(root string) error {
			p, err := filepath.EvalSymlinks(filepath.Join(root, "sys/dev/char/251:0/subsystem"))
			if err == nil && p != filepath.Join(root, "sys/bus/widget") {
				return fmt.Errorf("realpath %s", p)
			}
			return err
		}},
	}
	for _, op := range ops {
		for _, fs := range targets {
			b.Run(op.name+"/warm/"+fs.name, func(b *testing.B) {
				root := fs.dir
				if err := op.fn(root); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if err := op.fn(root); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(op.name+"/warm/fuse-vs-tmpfs", func(b *testing.B) {
			// The same calls alternating in batches, so drift and
			// noise from the rest of the machine hit both alike: the
			// ratio is the number to quote.
			tmp, fuse := targets[0].dir, targets[1].dir
			const batch = 64
			var onTmpfs, onFuse time.Duration
			for i := 0; i < b.N; i += batch {
				n := min(batch, b.N-i)
				t0 := time.Now()
				for range n {
					op.fn(tmp)
				}
				t1 := time.Now()
				for range n {
					op.fn(fuse)
				}
				onTmpfs += t1.Sub(t0)
				onFuse += time.Since(t1)
			}
			b.ReportMetric(float64(onTmpfs.Nanoseconds())/float64(b.N), "tmpfs-ns/op")
			b.ReportMetric(float64(onFuse.Nanoseconds())/float64(b.N), "fuse-ns/op")
			b.ReportMetric(float64(onFuse)/float64(onTmpfs), "fuse/tmpfs")
		})
		for _, fs := range targets[1:2] {
			// Cold: the kernel has forgotten the whole path, so the
			// walk looks up every component again. (tmpfs has no
			// cold state; NoCache is cold on every call.)
			b.Run(op.name+"/cold/"+fs.name, func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					fs.srv.DropKernelCache("sys")
					b.StartTimer()
					if err := op.fn(fs.dir); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkMountUnmount(b *testing.B) {
	for _, n := range []int{100, 10000} {
		tree := sysfsLike(n - 5)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			for range b.N {
				srv, err := fusefs.Mount(dir, tree, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := srv.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemory reports the heap a mounted 10,000-node tree holds: once
// mounted, and once every node has been looked up (go-fuse then holds an
// inode per node the kernel knows).
func BenchmarkMemory(b *testing.B) {
	tree := sysfsLike(10000 - 5)
	dir := b.TempDir()
	var mounted, walked float64
	for range b.N {
		before := heap()
		srv, err := fusefs.Mount(dir, tree, nil)
		if err != nil {
			b.Fatal(err)
		}
		mounted += float64(heap() - before)
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			var st unix.Stat_t
			unix.Lstat(p, &st)
			return nil
		})
		walked += float64(heap() - before)
		runtime.KeepAlive(tree)
		if err := srv.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(mounted/float64(b.N), "heap-B/mounted")
	b.ReportMetric(walked/float64(b.N), "heap-B/walked")
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
