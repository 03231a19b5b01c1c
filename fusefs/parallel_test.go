package fusefs_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"golang.org/x/sys/unix"
)

// Many callers at once, while the tree and the rules change: run with
// -race. Callers touch only nodes whose outcome is fixed; the changes go to
// other nodes, and a rule watches its own subtree.
func TestParallelCallersWhileTheTreeChanges(t *testing.T) {
	tree := fusefs.Tree{"faulty/f": fusefs.File("x")}
	for i := range 8 {
		tree[fmt.Sprintf("d%d/attr", i)] = fusefs.File("value\n")
		tree[fmt.Sprintf("d%d/rw", i)] = fusefs.File("")
		tree[fmt.Sprintf("d%d/link", i)] = fusefs.Symlink("attr")
	}
	srv, dir := mount(t, mine(tree), &fusefs.Options{Faults: []fusefs.Fault{{Path: "faulty/**", Op: fusefs.OpRead, Errno: syscall.EIO}}})
	deadline := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := filepath.Join(dir, fmt.Sprintf("d%d", w))
			for i := 0; time.Now().Before(deadline); i++ {
				if b, err := os.ReadFile(filepath.Join(d, "link")); err != nil || string(b) != "value\n" {
					report(fmt.Errorf("read through link: %q %v", b, err))
				}
				var st unix.Stat_t
				if err := unix.Stat(filepath.Join(d, "attr"), &st); err != nil || st.Size != 6 {
					report(fmt.Errorf("stat: %v size %d", err, st.Size))
				}
				if err := os.WriteFile(filepath.Join(d, "rw"), []byte(fmt.Sprint(i)), 0); err != nil {
					report(fmt.Errorf("write: %v", err))
				}
				if _, err := os.ReadDir(d); err != nil {
					report(fmt.Errorf("readdir: %v", err))
				}
				if _, err := os.ReadFile(filepath.Join(dir, "faulty/f")); !errors.Is(err, syscall.EIO) {
					report(fmt.Errorf("faulty read: %v, want EIO", err))
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; time.Now().Before(deadline); i++ {
			p := fmt.Sprintf("churn/n%d", i%16)
			if err := srv.Set(p, fusefs.File(fmt.Sprint(i))); err != nil {
				report(err)
			}
			if err := srv.SetData("d0/rw", []byte("from the server")); err != nil {
				report(err)
			}
			if i%3 == 0 {
				srv.Remove(p)
			}
			if err := srv.AddFault(fusefs.Fault{Path: "faulty/other", Op: fusefs.OpGetattr, Errno: syscall.EIO}); err != nil {
				report(err)
			}
			srv.Calls("d0/attr", fusefs.OpLookup)
			srv.CallCounts()
			if i%10 == 0 {
				srv.SetFaults([]fusefs.Fault{{Path: "faulty/**", Op: fusefs.OpRead, Errno: syscall.EIO}})
				srv.ResetCalls()
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Go 1.26 can stop the world while a FUSE reader enters read(2); with the
// callers in this process, nothing returns that read, and without the
// keep-alive of sysmon.go the stop lasted a full minute (seen about once
// per ten seconds of this loop). The loop is probabilistic: it catches a
// regression in about half of its runs.
func TestAStopTheWorldDoesNotStallOnAFuseReader(t *testing.T) {
	_, dir := mount(t, fusefs.Tree{"f": fusefs.File("x")}, nil)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				os.ReadFile(filepath.Join(dir, "f"))
			}
		}
	}()
	var worst time.Duration
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); {
		var m runtime.MemStats
		t0 := time.Now()
		runtime.ReadMemStats(&m) // stops the world
		worst = max(worst, time.Since(t0))
	}
	close(stop)
	<-done
	if worst > time.Second {
		t.Errorf("a stop-the-world took %v", worst)
	}
}
