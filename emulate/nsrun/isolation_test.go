package nsrun_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/mountinfo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// hostView is what must not change: the mount table (one line a mount)
// and the names in /dev and /sys.
type hostView struct {
	mounts, dev, sys []string
}

func viewHost() (hostView, error) {
	var v hostView
	var err error
	if v.mounts, err = mountLines(0); err != nil {
		return v, err
	}
	if v.dev, err = listDir("/dev"); err != nil {
		return v, err
	}
	v.sys, err = listDir("/sys")
	return v, err
}

// diff says how v differs from before, in one line, or "" when it does not.
func (v hostView) diff(before hostView) string {
	var out []string
	if !slices.Equal(v.mounts, before.mounts) {
		out = append(out, fmt.Sprintf("mountinfo changed: added %q, removed %q",
			missing(v.mounts, before.mounts), missing(before.mounts, v.mounts)))
	}
	if !slices.Equal(v.dev, before.dev) {
		out = append(out, fmt.Sprintf("/dev changed: added %q, removed %q", missing(v.dev, before.dev), missing(before.dev, v.dev)))
	}
	if !slices.Equal(v.sys, before.sys) {
		out = append(out, fmt.Sprintf("/sys changed: added %q, removed %q", missing(v.sys, before.sys), missing(before.sys, v.sys)))
	}
	return strings.Join(out, "; ")
}

// missing lists the first few of a's elements that b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return out
}

// isolatedChecks are the lines helperIsolated prints when all is well.
var isolatedChecks = []string{
	"a command that reads the fake /sys: ok",
	"a command that is not found after the mounts: ok",
	"while a command runs: ok",
	"a command killed by SIGKILL: ok",
	"a Cmd whose SysProcAttr was replaced: ok",
	"the host after all of them: ok",
	"control: a mount made in a non-private child namespace shows here: ok",
}

// TestTheHostIsUntouched runs commands from a helper in a mount namespace
// of its own whose mounts are all shared, in fresh peer groups: a mount
// that escaped a command's namespace would show in the helper's mount
// table (the control proves it does), while the real host, whose mounts
// other tests change concurrently, stays out of the comparison.
func TestTheHostIsUntouched(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("%v (install it: apt-get install util-linux)", err)
	}
	tr := newTree(t)
	before, err := viewHost()
	require.NoError(t, err)
	cmd := testutil.Command("isolated", tr.sys, tr.dev)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	out, _ := testutil.OutputOK(t, cmd)
	assert.Equal(t, isolatedChecks, lines(out), "checks")

	after, err := viewHost()
	require.NoError(t, err)
	if !slices.Equal(after.dev, before.dev) || !slices.Equal(after.sys, before.sys) {
		t.Errorf("the host's /dev or /sys changed:\n%s", after.diff(before))
	}
	for _, l := range after.mounts {
		if strings.Contains(l, tr.root) {
			t.Errorf("the host's mount table has %q", l)
		}
	}
}

// TestTheHostMountTableKeepsItsMountsForSysAndDev checks in the real
// host namespace what can be checked there while other tests mount and
// unmount: the mounts on /sys and /dev are the same before and after.
func TestTheHostMountTableKeepsItsMountsForSysAndDev(t *testing.T) {
	tr := newTree(t)
	before := sysDevMounts(t)
	testutil.OutputOK(t, command(t, nsrun.Config{Sys: tr.sys, Dev: tr.dev}, "cat", "/sys/"+fakeMarker, "/dev/data"))
	assert.Equal(t, before, sysDevMounts(t), "mounts on /sys and /dev")
}

// sysDevMounts are this process's mounts on /sys, /dev and below them.
func sysDevMounts(t testing.TB) []string {
	t.Helper()
	return testutil.Lines(append(testutil.MountsBelow(t, "/sys"), testutil.MountsBelow(t, "/dev")...))
}

// mountLines is the mount table of process pid (0: this one), a mount a
// line.
func mountLines(pid int) ([]string, error) {
	var ms []*mountinfo.Info
	var err error
	if pid == 0 {
		ms, err = mountinfo.GetMounts(nil)
	} else {
		ms, err = pidMounts(pid)
	}
	return testutil.Lines(ms), err
}

func helperIsolated(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: isolated SYS DEV")
		return 2
	}
	cfg := nsrun.Config{Sys: args[0], Dev: args[1]}
	// Private first, to leave the host's peer groups; then shared again,
	// so that namespaces cloned from here are peers of this one.
	for _, flag := range []uintptr{unix.MS_PRIVATE, unix.MS_SHARED} {
		if err := unix.Mount("", "/", "", unix.MS_REC|flag, ""); err != nil {
			fmt.Fprintln(os.Stderr, "mount --make-r{private,shared} /:", err)
			return 1
		}
	}
	before, err := viewHost()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	check := func(name string, problem string) {
		if problem == "" {
			problem = "ok"
		}
		fmt.Printf("%s: %s\n", name, problem)
	}
	unchanged := func() string {
		now, err := viewHost()
		if err != nil {
			return err.Error()
		}
		return now.diff(before)
	}
	start := func(name string, args ...string) (*exec.Cmd, error) {
		cmd, err := nsrun.Command(cfg, name, args...)
		if err != nil {
			return nil, err
		}
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		return cmd, nil
	}

	check("a command that reads the fake /sys", func() string {
		cmd, err := start("cat", "/sys/"+fakeMarker)
		if err != nil {
			return err.Error()
		}
		out, err := cmd.Output()
		if err != nil || string(out) != "fake\n" {
			return fmt.Sprintf("output %q, %v", out, err)
		}
		return unchanged()
	}())

	check("a command that is not found after the mounts", func() string {
		cmd, err := start("no-such-command-nsrun")
		if err != nil {
			return err.Error()
		}
		if err := cmd.Run(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != nsrun.ExitSetup {
			return fmt.Sprintf("Run: %v", err)
		}
		return unchanged()
	}())

	// Started and looked at from outside; killed with SIGKILL, which
	// leaves no chance to clean up.
	running := func(then func(cmd *exec.Cmd) string) string {
		cmd, err := start("sh", "-c", "echo ready; exec sleep 60")
		if err != nil {
			return err.Error()
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err.Error()
		}
		if err := cmd.Start(); err != nil {
			return err.Error()
		}
		defer cmd.Wait()
		defer cmd.Process.Kill()
		if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
			return fmt.Sprintf("read %q, %v", line, err)
		}
		return then(cmd)
	}
	check("while a command runs", running(func(cmd *exec.Cmd) string {
		if d := unchanged(); d != "" {
			return d
		}
		if _, err := os.Stat("/sys/" + fakeMarker); err == nil {
			return "the fake /sys shows outside"
		}
		theirs, err := pidMounts(cmd.Process.Pid)
		if err != nil {
			return err.Error()
		}
		var sys, dev bool
		for _, m := range theirs {
			sys = sys || (m.Mountpoint == "/sys" && strings.HasSuffix(cfg.Sys, m.Root))
			dev = dev || (m.Mountpoint == "/dev" && m.FSType == "tmpfs")
		}
		if !sys || !dev {
			return fmt.Sprintf("the command's mounts lack /sys (%v) or the /dev tmpfs (%v):\n\t%s", sys, dev, testutil.Describe(theirs...))
		}
		return ""
	}))
	check("a command killed by SIGKILL", func() string {
		if p := running(func(cmd *exec.Cmd) string {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			return ""
		}); p != "" {
			return p
		}
		return unchanged()
	}())

	check("a Cmd whose SysProcAttr was replaced", func() string {
		cmd, err := start("true")
		if err != nil {
			return err.Error()
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		want := "nsrun: still in the caller's mount namespace (was Cmd.SysProcAttr replaced?); refusing to mount\n"
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != nsrun.ExitSetup || stderr.String() != want {
			return fmt.Sprintf("%v, stderr %q", cmd.ProcessState, stderr.String())
		}
		return unchanged()
	}())

	check("the host after all of them", unchanged())

	// The control: the same comparison sees a mount made in a child
	// namespace that keeps shared propagation.
	check("control: a mount made in a non-private child namespace shows here", func() string {
		out, err := exec.Command("unshare", "--mount", "--propagation", "unchanged",
			"mount", "--bind", cfg.Sys, "/sys").CombinedOutput()
		if err != nil {
			return fmt.Sprintf("unshare: %v: %s", err, out)
		}
		defer unix.Unmount("/sys", unix.MNT_DETACH)
		if unchanged() == "" {
			return "the comparison missed it"
		}
		return ""
	}())
	return 0
}

// pidMounts reads the mount table of process pid.
func pidMounts(pid int) ([]*mountinfo.Info, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mountinfo.GetMountsFromReader(f, nil)
}
