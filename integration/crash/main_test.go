package crash_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

var iterations = flag.Int("crash.iterations", 50, "how many times each kill test kills a server")

// TestMain runs the suite in a mount namespace of its own: started
// plainly, the test binary starts itself again there, in the role
// "suite". The role "test" is a child test process (TestHelperProcess).
func TestMain(m *testing.M) {
	testutil.RunRole(testutil.Roles{
		"suite": func([]string) int {
			if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				fmt.Fprintf(os.Stderr, "crash: making / private in the test's mount namespace: %v\n", err)
				return 1
			}
			return testutil.Run(m)
		},
		"test": func([]string) int { return m.Run() },
	})
	os.Exit(reexecInNamespace())
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
	cmd := testutil.Command("suite", os.Args[1:]...)
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

// noReaper is the environment of a server whose reaper (see fusefs) is
// off: when it is killed, its mount stays behind stale, as it does when
// the reaper is killed too — the case `umount --stale` and the next mount
// recover.
var noReaper = []string{"PMEM2EMU_REAPER=off"}

// killedBy checks that err is the end of a process killed by sig.
func killedBy(t *testing.T, err error, sig syscall.Signal) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the process ended with %v, want killed by %v", err, sig)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != sig {
		t.Fatalf("the process ended with %v, want killed by %v", ee, sig)
	}
}

// cli runs pmem2emu with args, env added to this environment, and returns
// its exit status and output.
func cli(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(testutil.CLI(t), args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, stderr, code := testutil.Output(t, cmd)
	return code, stdout, stderr
}

// cliCmd prepares pmem2emu with args and TMPDIR=tmp.
func cliCmd(t *testing.T, tmp string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(testutil.CLI(t), args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	return cmd
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

// unmountedSoon waits up to 5 s for nothing to be mounted at or below dir:
// the time a reaper takes to see its server die and detach the mount.
func unmountedSoon(t *testing.T, dir string) {
	t.Helper()
	testutil.UnmountedWithin(t, 5*time.Second, dir)
}

// wantStale checks that dir holds exactly one mount, of pmem2emu, whose
// server is gone: every access fails with ENOTCONN.
func wantStale(t *testing.T, dir string) {
	t.Helper()
	m := testutil.MountsBelow(t, dir)
	if len(m) != 1 || m[0].FSType != testutil.FSType {
		t.Fatalf("want one pmem2emu mount at %s, have:\n\t%s", dir, testutil.Describe(m...))
	}
	// statfs always reaches the server; a stat may be answered from the
	// attributes the kernel cached while the server lived.
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("statfs %s: %v, want ENOTCONN (a killed server's mount)", dir, err)
	}
}

// wantServed checks that dir holds exactly one mount and it answers.
func wantServed(t *testing.T, dir string) {
	t.Helper()
	if m := testutil.MountsBelow(t, dir); len(m) != 1 {
		t.Fatalf("want one mount at %s, have:\n\t%s", dir, testutil.Describe(m...))
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
