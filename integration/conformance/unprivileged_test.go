package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/probe"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// The unprivileged run. As root, TestConformance runs this test binary
// again as unprivileged: the fixtures are then mounted by that user
// through fusermount3, the C probe runs under the namespace runner in a
// user namespace, and so does the Go side (goSideRole, on /sys as a user's
// program sees it), so both read the fake sysfs with that user's rights —
// the files the kernel makes 0400 are closed to them.
//
// fusermount3 (fuse 3.14) opens /dev/fuse with the caller's rights, so a
// /dev/fuse of mode 0600, as on this project's CI machines, keeps every
// other user from mounting. The run therefore presents /dev/fuse as mode
// 0666 to the user, in a mount namespace of its own (testutil.User): the
// host's device keeps its mode.

// unprivileged is the user of the unprivileged run: nobody, on a machine
// whose /dev/fuse is open to all.
var unprivileged = testutil.User{UID: testutil.Nobody.UID, GID: testutil.Nobody.GID, FuseMode: 0o666}

// roleGoSide PATH MODE is the role of goSideRole (testutil.Roles).
const roleGoSide = "go-side"

// asUnprivileged runs TestConformance as u, shows its table and records
// its summary line; its failures fail t.
func asUnprivileged(t *testing.T, u testutil.User) {
	uid := u.UID
	stdout, stderr, code := testutil.Output(t, u.Tests(t, "-test.run=^TestConformance$", "-test.count=1", "-test.v"))
	var shown []string
	line := ""
	for _, l := range strings.Split(stdout, "\n") {
		switch {
		case strings.HasPrefix(l, "=== "): // RUN, PAUSE, CONT: noise in a log
		case strings.HasPrefix(l, fmt.Sprintf("as uid %d: ", uid)):
			line = l
		default:
			shown = append(shown, l)
		}
	}
	t.Log("\n" + strings.Join(shown, "\n"))
	if stderr != "" {
		t.Log("stderr:\n" + stderr)
	}
	switch {
	case line == "":
		t.Errorf("the run as uid %d printed no summary line (exit status %d)", uid, code)
	case code != 0:
		t.Errorf("the run as uid %d failed (exit status %d): %s", uid, code, line)
	}
	if line != "" {
		summaries = append(summaries, line)
	}
}

// goSideInRunner runs the port as a user's program would: this binary in
// goSideRole, under the fixture's namespace runner (a user namespace for
// an unprivileged caller), on path in mode with the default sysfs root.
func goSideInRunner(t *testing.T, f *emulate.Fixture, path string, mode emulate.OpenMode) observed {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := f.Command(exe, path, string(mode))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), testutil.Env(roleGoSide)...)
	stdout, stderr := testutil.OutputOK(t, cmd)
	var r emulate.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("Go side on %s (%s): %q: %v\nstderr: %s", path, mode, stdout, err, stderr)
	}
	return observedOf(r, true)
}

// goSideRole PATH MODE opens PATH in MODE and runs the port with the
// default sysfs root, as `pmem2emu probe` does, and prints what it
// returned: the emulate.Result as JSON.
func goSideRole(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: "+roleGoSide+" PATH MODE")
		return 2
	}
	r, err := probe.Run(args[0], emulate.OpenMode(args[1]))
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(r.Result)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, roleGoSide+":", err)
		return 2
	}
	return 0
}
