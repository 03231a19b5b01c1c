package testutil

import (
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// RoleEnv names the role a test binary was started in (see Roles).
const RoleEnv = "PMEM2EMU_TEST_ROLE"

// quickRaceExit spares a role built with -race the second the race
// detector sleeps in os.Exit.
const quickRaceExit = "GORACE=atexit_sleep_ms=0"

// Roles are what a test binary can be started as instead of running its
// tests, by name. A role gets the command-line arguments (unparsed: test
// flags too, when it was started with some) and returns the exit status.
type Roles map[string]func(args []string) int

// Main is a whole TestMain: it runs the role this process was started in
// (see RunRole), or else the tests, and exits.
func Main(m *testing.M, roles Roles) {
	RunRole(roles)
	os.Exit(Run(m))
}

// RunRole runs the role named by RoleEnv and exits with its status; it
// returns only when the environment names no role. An unknown role exits
// with status 2. The variable is removed before the role runs, so that
// what the role starts does not inherit it.
func RunRole(roles Roles) {
	name := os.Getenv(RoleEnv)
	if name == "" {
		return
	}
	os.Unsetenv(RoleEnv)
	role, ok := roles[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: no role %q; roles: %s\n", os.Args[0], name, strings.Join(slices.Sorted(maps.Keys(roles)), ", "))
		os.Exit(2)
	}
	os.Exit(role(os.Args[1:]))
}

// Run runs the tests and then removes what the package made for them (the
// CLI binary), returning m.Run's status. Main calls it; a TestMain with
// set-up of its own calls it in place of m.Run.
func Run(m *testing.M) int {
	code := m.Run()
	removeCLI()
	return code
}

// Command returns a command that starts this test binary in role with
// args, in this process's environment plus Env(role). Callers may add to
// Env, SysProcAttr and the rest as for any exec.Cmd.
func Command(role string, args ...string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Env = append(os.Environ(), Env(role)...)
	return cmd
}

// Env is the environment that starts a test binary in role, for a command
// made some other way: through nsrun, say, whose command is looked up in
// PATH.
func Env(role string) []string {
	return []string{RoleEnv + "=" + role, quickRaceExit}
}

// CommandAs is Command for the user uid:gid, who cannot read the test
// binary in its private directory: it runs a copy placed in a PublicDir,
// with SysProcAttr.Credential. (A caller may replace SysProcAttr to start
// the role as root and switch later; User.Role switches in the child and
// presents /dev/fuse too.)
func CommandAs(t testing.TB, uid, gid uint32, role string, args ...string) *exec.Cmd {
	t.Helper()
	exe := testBinary(t)
	cmd := Command(role, args...)
	cmd.Path, cmd.Args[0] = exe, exe
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	return cmd
}

// PublicDir is a new temporary directory, removed when the test ends, that
// every user can reach and list (mode 0755, as is its parent, the test's
// own temporary directory).
func PublicDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyFile copies the executable file from to the new file to.
func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
