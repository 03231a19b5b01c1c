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
