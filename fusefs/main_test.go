package fusefs_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// serveEnv makes the test binary a server process instead: it mounts a
// small tree on the directory named, says "ready" and serves until killed.
// Tests use it to leave a mount behind a SIGKILLed server.
const serveEnv = "FUSEFS_TEST_SERVE"

// stuckEnv makes the test binary a server that also calls into its own
// mount: it mounts a tree whose "slow" file answers getattr only after a
// minute, says "ready", stats the file from another goroutine, says
// "calling" and waits to be killed.
const stuckEnv = "FUSEFS_TEST_STUCK"

// exitEnv makes the test binary mount a tree, say "ready" and exit
// without Close.
const exitEnv = "FUSEFS_TEST_EXIT"

// tryEnv makes the test binary try one Mount (with device mode when the
// value starts with "dev:") and print the error, for tests that run it as
// another user.
const tryEnv = "FUSEFS_TEST_TRY"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serveEnv); dir != "" {
		if _, err := fusefs.Mount(dir, fusefs.Tree{"file": fusefs.File("served by a child\n")}, nil); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	}
	if dir := os.Getenv(stuckEnv); dir != "" {
		_, err := fusefs.Mount(dir, fusefs.Tree{"slow": fusefs.File("")}, &fusefs.Options{
			Faults: []fusefs.Fault{{Path: "slow", Op: fusefs.OpGetattr, Delay: time.Minute}},
		})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		go os.Stat(dir + "/slow")
		fmt.Println("calling")
		for {
			time.Sleep(time.Hour)
		}
	}
	if dir := os.Getenv(exitEnv); dir != "" {
		if _, err := fusefs.Mount(dir, fusefs.Tree{"file": fusefs.File("x")}, nil); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		os.Exit(0)
	}
	if v := os.Getenv(tryEnv); v != "" {
		dir, dev := strings.CutPrefix(v, "dev:")
		srv, err := fusefs.Mount(dir, fusefs.Tree{}, &fusefs.Options{DeviceMode: dev})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(0)
		}
		srv.Close()
		fmt.Println("mounted")
		os.Exit(0)
	}
	os.Exit(m.Run())
}
