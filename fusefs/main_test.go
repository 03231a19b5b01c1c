package fusefs_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestMain runs the roles a test starts this binary in (testutil.Command):
// a server process of its own to kill, or a Mount tried as another user.
func TestMain(m *testing.M) {
	testutil.Main(m, testutil.Roles{
		"serve": serveRole,
		"stuck": stuckRole,
		"exit":  exitRole,
		"try":   tryRole,
		"map":   mapRole,
	})
}

// serveRole DIR mounts a small tree on DIR, says "ready" and serves until
// killed: a test leaves a mount behind a SIGKILLed server.
func serveRole(args []string) int {
	mountOrExit(args[0], fusefs.Tree{"file": fusefs.File("served by a child\n")}, nil)
	select {}
}

// stuckRole DIR is a server that also calls into its own mount: its "slow"
// file answers getattr only after a minute. It says "ready", stats the
// file from another goroutine, says "calling" and waits to be killed.
func stuckRole(args []string) int {
	dir := args[0]
	mountOrExit(dir, fusefs.Tree{"slow": fusefs.File("")}, &fusefs.Options{
		Faults: []fusefs.Fault{{Path: "slow", Op: fusefs.OpGetattr, Delay: time.Minute}},
	})
	go os.Stat(dir + "/slow")
	fmt.Println("calling")
	select {}
}

// mapRole FILE N maps the first page of FILE shared and prints its first
// N bytes. A test serving the file maps it in this child: a page fault on
// a mount served by the faulting process itself can deadlock with a
// garbage collection that stops the server's goroutines.
func mapRole(args []string) int {
	n, err := strconv.Atoi(args[1])
	if err != nil {
		fmt.Println("error:", err)
		return 2
	}
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		fmt.Println("error: mmap:", err)
		return 1
	}
	defer unix.Munmap(m)
	fmt.Printf("%q\n", m[:n])
	return 0
}

// exitRole DIR mounts a tree, says "ready" and exits without Close.
func exitRole(args []string) int {
	mountOrExit(args[0], fusefs.Tree{"file": fusefs.File("x")}, nil)
	return 0
}

// tryRole [dev:]DIR tries one Mount (with device mode for "dev:") and
// prints "mounted" or the error, for a test that runs it as another user.
func tryRole(args []string) int {
	dir, dev := strings.CutPrefix(args[0], "dev:")
	srv, err := fusefs.Mount(dir, fusefs.Tree{}, &fusefs.Options{DeviceMode: dev})
	if err != nil {
		fmt.Println("error:", err)
		return 0
	}
	srv.Close()
	fmt.Println("mounted")
	return 0
}

// mountOrExit mounts tree on dir and says "ready", or prints the error and
// exits 1.
func mountOrExit(dir string, tree fusefs.Tree, opts *fusefs.Options) {
	if _, err := fusefs.Mount(dir, tree, opts); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
}
