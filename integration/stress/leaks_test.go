package stress_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/splice"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// resources is what a run must give back: goroutines, descriptors (number
// → target) and mounts.
type resources struct {
	goroutines int
	fds        map[int]string
	// splicePairs is the size of go-fuse's process-wide pool of pipe
	// pairs (package splice), which outlives every server: see
	// TestUnmountGivesBackEveryDescriptor.
	splicePairs int
}

func takeResources(t *testing.T) resources {
	t.Helper()
	return resources{goroutines: runtime.NumGoroutine(), fds: openFDs(t), splicePairs: splice.Total()}
}

// openFDs lists /proc/self/fd, leaving out the descriptor of the listing
// itself.
func openFDs(t *testing.T) map[int]string {
	t.Helper()
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || uintptr(fd) == d.Fd() {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + n)
		if err != nil {
			continue // closed meanwhile
		}
		out[fd] = target
	}
	return out
}

// checkReturned fails the test for every goroutine, descriptor or mount
// that was not there in before. Goroutines get up to 10 s to finish (a
// server's goroutines end shortly after the unmount). With pool set, the
// pipes go-fuse's splice pool gained are counted apart and logged rather
// than failed: exactly two descriptors per pair the pool holds more, and
// none of them in use.
func checkReturned(t *testing.T, before resources, mountDir string, pool bool) {
	t.Helper()
	n := runtime.NumGoroutine()
	if !testutil.Eventually(10*time.Second, func() bool { n = runtime.NumGoroutine(); return n <= before.goroutines }) {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Errorf("%d goroutines after the run, %d before:\n%s", n, before.goroutines, buf.String())
	}

	var leaked, pipes []string
	for fd, target := range openFDs(t) {
		if was, ok := before.fds[fd]; !ok || was != target {
			desc := fmt.Sprintf("%d → %s (was %q)", fd, target, was)
			if strings.HasPrefix(target, "pipe:") {
				pipes = append(pipes, desc)
			} else {
				leaked = append(leaked, desc)
			}
		}
	}
	gained := splice.Total() - before.splicePairs
	if pool && len(pipes) == 2*gained && splice.Used() == 0 {
		if gained > 0 {
			t.Logf("go-fuse's splice pool holds %d more pipe pairs (%d descriptors) than before the run, unused", gained, len(pipes))
		}
	} else {
		leaked = append(leaked, pipes...)
	}
	sort.Strings(leaked)
	if len(leaked) > 0 {
		t.Errorf("descriptors left open after the run:\n\t%s", strings.Join(leaked, "\n\t"))
	}

	testutil.NothingMountedBelow(t, mountDir)
}
