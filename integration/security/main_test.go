package security_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/integration/internal/clibin"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// helperEnv makes the test binary run one helper (see helpers) instead of
// the tests, in the process it was started as.
const helperEnv = "PMEM2EMU_SECURITY_HELPER"

// binEnv passes the built pmem2emu binary to a helper.
const binEnv = "PMEM2EMU_SECURITY_BIN"

// helpers are what a re-executed test binary can be asked to do; each
// prints its findings on standard output and exits 0 when it could run.
var helpers = map[string]func() int{
	"mountpoints": helperMountpoints,
	"isolation":   helperIsolation,
}

// bin is the pmem2emu binary TestMain built.
var bin string

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		h, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "security: unknown helper %q\n", name)
			os.Exit(2)
		}
		bin = os.Getenv(binEnv)
		os.Exit(h())
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "security: these tests need root (device mode, uid switches, mount namespaces): run them as root")
		os.Exit(1)
	}
	b, remove, err := clibin.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "security:", err)
		os.Exit(1)
	}
	bin = b
	code := m.Run()
	remove()
	os.Exit(code)
}

// runHelper runs the named helper in a child test binary, with extra
// SysProcAttr settings, and returns its standard output; it fails the test
// if the helper does not exit 0.
func runHelper(t *testing.T, name string, attr *syscall.SysProcAttr, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), helperEnv+"="+name), env...)
	cmd.SysProcAttr = attr
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper %s: %v\nstdout:\n%s\nstderr:\n%s", name, err, &stdout, &stderr)
	}
	return stdout.String()
}

// cli runs pmem2emu with args and returns its exit status and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return run(t, exec.Command(bin, args...))
}

// run runs cmd and returns its exit status (-1 when killed) and output.
func run(t *testing.T, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	return 0, "", ""
}

// server is a running `pmem2emu mount`, stopped with SIGTERM when the
// test ends.
type server struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

// startMount runs `pmem2emu mount args…` (the mount point last) and
// returns once the mount point holds a pmem2emu mount.
func startMount(t *testing.T, args ...string) *server {
	t.Helper()
	dir := args[len(args)-1]
	s := &server{cmd: exec.Command(bin, append([]string{"mount"}, args...)...)}
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("pmem2emu mount %s after SIGTERM: %v\n%s", dir, err, &s.stderr)
			}
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			t.Errorf("pmem2emu mount %s did not stop within 20s of SIGTERM", dir)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for mountLine(t, dir) == "" {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("pmem2emu mount %s ended: %v\n%s", dir, err, &s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pmem2emu mount %s did not mount within 20s\n%s", dir, &s.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s
}

// mountLine is the mountinfo line of the mount at dir, or "".
func mountLine(t *testing.T, dir string) string {
	t.Helper()
	for _, l := range mountinfo(t) {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir {
			return l
		}
	}
	return ""
}

func mountinfo(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// mountOptions are the per-mount options (nodev, nosuid…) and the super
// block options (allow_other…) of a mountinfo line.
func mountOptions(t *testing.T, line string) (mnt, super map[string]bool) {
	t.Helper()
	f := strings.Fields(line)
	sep := -1
	for i, x := range f {
		if x == "-" {
			sep = i
			break
		}
	}
	if len(f) < 6 || sep < 0 || len(f) < sep+4 {
		t.Fatalf("malformed mountinfo line %q", line)
	}
	mnt, super = map[string]bool{}, map[string]bool{}
	for _, o := range strings.Split(f[5], ",") {
		mnt[o] = true
	}
	for _, o := range strings.Split(f[sep+3], ",") {
		super[strings.SplitN(o, "=", 2)[0]] = true
	}
	if f[sep+1] != "fuse.pmem2emu" {
		t.Errorf("file system type %q, want fuse.pmem2emu: %s", f[sep+1], line)
	}
	return mnt, super
}

// nothingMountedAt fails the test if anything is mounted at dir.
func nothingMountedAt(t *testing.T, dir string) {
	t.Helper()
	if l := mountLine(t, dir); l != "" {
		t.Errorf("mounted at %s: %s", dir, l)
	}
}

// openDir makes a directory other users can reach (0755 all the way from
// /tmp), removed when the test ends.
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pmem2emu-security-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// within fails the test if fn does not return in d.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v: it blocks", what, d)
	}
}

// wantCode checks err against the code C would return, and that a failure
// is a *pmem2.Error.
func wantCode(t *testing.T, err error, want pmem2.Code) {
	t.Helper()
	if got := pmem2.CodeOf(err); got != int(want) {
		t.Fatalf("code %d (%s), want %d (%s); err = %v", got, pmem2.Code(got).Name(), int(want), want.Name(), err)
	}
	if err != nil {
		var pe *pmem2.Error
		if !errors.As(err, &pe) {
			t.Fatalf("err %T %v is not a *pmem2.Error", err, err)
		}
	}
}

// openFD opens path with flags|O_CLOEXEC, closed when the test ends.
func openFD(t *testing.T, path string, flags int) int {
	t.Helper()
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// devDir is the real sysfs directory of the device behind charLink
// ("sys/dev/char/M:m"), relative to the mount root.
func devDir(t *testing.T, f *emulate.Fixture, charLink string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(f.Path(charLink))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(f.Root(), real)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mkdir(dir string) error { return os.Mkdir(dir, 0o755) }
