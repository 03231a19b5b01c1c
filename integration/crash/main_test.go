package crash_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/integration/internal/clibin"
)

var iterations = flag.Int("crash.iterations", 50, "how many times each kill test kills a server")

// Environment variables of the re-executed test binary.
const (
	// nsEnv marks the copy of the test binary that runs in the private
	// mount namespace.
	nsEnv = "PMEM2EMU_CRASH_NS"
	// helperEnv makes the test binary a child test process
	// (TestHelperProcess) that does what the value says.
	helperEnv = "PMEM2EMU_CRASH_HELPER"
)

// bin is the pmem2emu binary TestMain built.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	switch {
	case os.Getenv(helperEnv) != "":
		os.Exit(m.Run())
	case os.Getenv(nsEnv) == "":
		os.Exit(reexecInNamespace())
	}
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fmt.Fprintf(os.Stderr, "crash: making / private in the test's mount namespace: %v\n", err)
		os.Exit(1)
	}
	b, remove, err := clibin.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
	bin = b
	code := m.Run()
	remove()
	os.Exit(code)
}

// reexecInNamespace runs this test binary again, with the same arguments,
// in a new mount namespace, and returns its exit status.
func reexecInNamespace() int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "crash: these tests need root (a mount namespace of their own, tmpfs mounts): run them as root")
		return 1
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		fmt.Fprintf(os.Stderr, "crash: %v: load the fuse module (modprobe fuse; in a container, --device /dev/fuse --cap-add SYS_ADMIN)\n", err)
		return 1
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), nsEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "crash: running the tests in a mount namespace:", err)
	return 1
}

// server is a running `pmem2emu mount`.
type server struct {
	cmd    *exec.Cmd
	dir    string
	stderr *bytes.Buffer
	waited bool
}

// noReaper is the environment of a server whose reaper (see fusefs) is
// off: when it is killed, its mount stays behind stale, as it does when
// the reaper is killed too — the case `umount --stale` and the next mount
// recover.
var noReaper = append(os.Environ(), "PMEM2EMU_REAPER=off")

// startMount runs `pmem2emu mount [args] dir` and returns once it said
// "mounted dir". A server still running when the test ends is killed.
func startMount(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return startMountEnv(t, nil, dir, args...)
}

// startMountEnv is startMount with the environment env (nil: this one's).
func startMountEnv(t *testing.T, env []string, dir string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"mount"}, args...), dir)...)
	cmd.Env = env
	s := &server{cmd: cmd, dir: dir, stderr: &bytes.Buffer{}}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !s.waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
		io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		if want := "mounted " + dir + "\n"; l != want {
			s.wait()
			t.Fatalf("pmem2emu mount %s printed %q, want %q; stderr:\n%s", dir, l, want, s.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("pmem2emu mount %s did not say it mounted within 20s; stderr:\n%s", dir, s.stderr)
	}
	return s
}

// kill sends sig and waits for the server to end.
func (s *server) kill(t *testing.T, sig syscall.Signal) *exec.ExitError {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := s.wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee
}

func (s *server) wait() error {
	s.waited = true
	return s.cmd.Wait()
}

// killedBy checks that ee is the end of a process killed by sig.
func killedBy(t *testing.T, ee *exec.ExitError, sig syscall.Signal) {
	t.Helper()
	if ee == nil {
		t.Fatalf("the process exited 0, want killed by %v", sig)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != sig {
		t.Fatalf("the process ended with %v, want killed by %v", ee, sig)
	}
}

// cli runs pmem2emu with args and returns its exit status and output.
func cli(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
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
	t.Fatalf("pmem2emu %s: %v", strings.Join(args, " "), err)
	return 0, "", ""
}

// umountStale runs `pmem2emu umount --stale` and checks that it
// unmounted dir.
func umountStale(t *testing.T, dir string) {
	t.Helper()
	code, out, errOut := cli(t, nil, "umount", "--stale")
	if code != 0 {
		t.Fatalf("pmem2emu umount --stale: exit status %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "unmounted stale "+dir+"\n") {
		t.Fatalf("pmem2emu umount --stale did not name %s:\n%s", dir, out)
	}
}

// mountsAt lists the mountinfo lines whose mount point is dir or lies
// below it.
func mountsAt(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, l)
		}
	}
	return out
}

// ourMounts lists every pmem2emu mount of the namespace.
func ourMounts(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, " - fuse.pmem2emu ") {
			out = append(out, l)
		}
	}
	return out
}

// nothingMountedAt fails the test if anything is mounted at or below dir.
// unmountedSoon waits up to 5 s for nothing to be mounted at or below dir:
// the time a reaper takes to see its server die and detach the mount.
func unmountedSoon(t *testing.T, dir string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); len(mountsAt(t, dir)) > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	nothingMountedAt(t, dir)
}

func nothingMountedAt(t *testing.T, dir string) {
	t.Helper()
	if m := mountsAt(t, dir); len(m) > 0 {
		t.Fatalf("still mounted at %s:\n\t%s", dir, strings.Join(m, "\n\t"))
	}
}

// wantStale checks that dir holds exactly one mount, of pmem2emu, whose
// server is gone: every access fails with ENOTCONN.
func wantStale(t *testing.T, dir string) {
	t.Helper()
	m := mountsAt(t, dir)
	if len(m) != 1 || !strings.Contains(m[0], " - fuse.pmem2emu ") {
		t.Fatalf("want one pmem2emu mount at %s, have:\n\t%s", dir, strings.Join(m, "\n\t"))
	}
	if _, err := os.Stat(dir); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("stat %s: %v, want ENOTCONN (a killed server's mount)", dir, err)
	}
}

// wantServed checks that dir holds exactly one mount and it answers.
func wantServed(t *testing.T, dir string) {
	t.Helper()
	if m := mountsAt(t, dir); len(m) != 1 {
		t.Fatalf("want one mount at %s, have:\n\t%s", dir, strings.Join(m, "\n\t"))
	}
	fi, err := os.Lstat(filepath.Join(dir, "dev", "dax0.0"))
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("the mount at %s does not serve dev/dax0.0: %v %v", dir, fi, err)
	}
}

// emptyDir checks that dir exists and is empty: the mount point a killed
// server left is usable again.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 0 {
		t.Fatalf("%s after recovery: %d entries, %v; want an empty directory", dir, len(ents), err)
	}
}

// abortConnection aborts the FUSE connection of the mount at dir through
// the fuse control file system (mounted on /sys/fs/fuse/connections of
// this test's namespace when it is not), as an administrator would:
// every request waiting on it ends with ENOTCONN, and the mount is stale.
// It is the only way out for a process that serves a mount and waits on
// it itself when it is killed (see TestKilledCheckAndExecAreRecovered).
func abortConnection(t *testing.T, dir string) {
	t.Helper()
	m := mountsAt(t, dir)
	if len(m) == 0 {
		t.Fatalf("no mount at %s to abort", dir)
	}
	f := strings.Fields(m[0])
	_, minor, ok := strings.Cut(f[2], ":")
	if !ok {
		t.Fatalf("mountinfo line without a device number: %s", m[0])
	}
	const ctl = "/sys/fs/fuse/connections"
	if len(mountsAt(t, ctl)) == 0 {
		if err := unix.Mount("fusectl", ctl, "fusectl", 0, ""); err != nil {
			t.Fatalf("mount fusectl on %s: %v", ctl, err)
		}
		t.Cleanup(func() { unix.Unmount(ctl, unix.MNT_DETACH) })
	}
	if err := os.WriteFile(filepath.Join(ctl, minor, "abort"), []byte("1"), 0); err != nil {
		t.Fatalf("aborting the FUSE connection of %s: %v", dir, err)
	}
}

// waitExit waits up to d for cmd to end and reports whether it did; done
// is fed by a goroutine that waits for it.
func waitExit(done <-chan error, d time.Duration) bool {
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// stuckThreads describes the threads of pid that sleep uninterruptibly,
// and where.
func stuckThreads(pid int) string {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var out []string
	for _, task := range tasks {
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/wchan", pid, task.Name()))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'D' {
			out = append(out, fmt.Sprintf("thread %s in state D at %s", task.Name(), wchan))
		}
	}
	if len(out) == 0 {
		return "no thread in state D"
	}
	return strings.Join(out, ", ")
}
