package security_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// view is what a command run in the namespace runner must leave as it
// found it: the mount table and the names in /dev and /sys.
type view struct {
	mounts []string
	names  []string
}

// viewNow reads the mount table and lists /dev (two levels, where a leaked
// node or mount would land) and the parts of /sys a fixture mimics.
func viewNow() (view, error) {
	var v view
	ms, err := mountinfo.GetMounts(nil)
	if err != nil {
		return v, err
	}
	v.mounts = testutil.Lines(ms)
	sort.Strings(v.mounts)
	for _, dir := range []string{"/dev", "/sys", "/sys/dev/char", "/sys/dev/block", "/sys/bus", "/sys/class", "/sys/devices"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return v, err
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			v.names = append(v.names, p)
			if dir == "/dev" && e.IsDir() && e.Name() != "pts" && e.Name() != "shm" && e.Name() != "mqueue" {
				sub, _ := os.ReadDir(p)
				for _, s := range sub {
					v.names = append(v.names, filepath.Join(p, s.Name()))
				}
			}
		}
	}
	for _, d := range []string{"/sys/bus/dax", "/sys/class/dax"} {
		if ents, err := os.ReadDir(d + "/devices"); err == nil {
			for _, e := range ents {
				v.names = append(v.names, d+"/devices/"+e.Name())
			}
		}
	}
	sort.Strings(v.names)
	return v, nil
}

// diff describes how now differs from before, or "".
func (now view) diff(before view) string {
	var out []string
	if added, removed := delta(before.mounts, now.mounts); len(added)+len(removed) > 0 {
		out = append(out, fmt.Sprintf("mount table: added %q, removed %q", added, removed))
	}
	if added, removed := delta(before.names, now.names); len(added)+len(removed) > 0 {
		out = append(out, fmt.Sprintf("/dev or /sys: added %q, removed %q", added, removed))
	}
	return strings.Join(out, "; ")
}

func delta(before, now []string) (added, removed []string) {
	for _, s := range now {
		if !slices.Contains(before, s) {
			added = append(added, s)
		}
	}
	for _, s := range before {
		if !slices.Contains(now, s) {
			removed = append(removed, s)
		}
	}
	return added, removed
}

// isolationChecks are the lines helperIsolation prints when all is well.
var isolationChecks = []string{
	"Fixture.Command sees the fixture's /sys and /dev: ok",
	"Fixture.Command of a missing command: ok",
	"Fixture.Command killed with SIGKILL: ok",
	"pmem2emu exec --mount sees the fixture: ok",
	"pmem2emu exec mounts, runs and unmounts: ok",
	"the mount table, /dev and /sys after all of them: ok",
	"control: a mount of a non-private child namespace shows here: ok",
}

// helperIsolation runs in a mount namespace of its own whose mounts are
// shared in fresh peer groups: a mount that escaped a command's namespace
// would propagate here and show in this namespace's table (the control at
// the end proves that it would), while mounts other tests make on the host
// stay out of the comparison.
func helperIsolation(args []string) int {
	bin := args[0]
	fail := func(format string, args ...any) int {
		fmt.Printf("FAIL: "+format+"\n", args...)
		return 0
	}
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail("making / private: %v", err)
	}
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_SHARED, ""); err != nil {
		return fail("making / shared: %v", err)
	}
	tmp, err := os.MkdirTemp("", "pmem2emu-isolation-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "fixture")
	os.Mkdir(root, 0o755)
	f, err := emulate.Mount(root, nil)
	if err != nil {
		return fail("mount: %v", err)
	}
	defer f.Close()

	before, err := viewNow()
	if err != nil {
		return fail("%v", err)
	}
	check := func(name string, cmd *exec.Cmd, wantCode int, wantOut ...string) {
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			fmt.Printf("FAIL: %s: %v\n", name, err)
			return
		}
		for _, w := range wantOut {
			if !strings.Contains(out.String(), w) {
				fmt.Printf("FAIL: %s: output %q lacks %q\n", name, out.String(), w)
				return
			}
		}
		if code != wantCode {
			fmt.Printf("FAIL: %s: exit status %d, want %d: %s\n", name, code, wantCode, out.String())
			return
		}
		if now, err := viewNow(); err != nil || now.diff(before) != "" {
			fmt.Printf("FAIL: %s: %v %s\n", name, err, now.diff(before))
			return
		}
		fmt.Printf("%s: ok\n", name)
	}

	cmd, err := f.Command("sh", "-c", "cat /sys/bus/dax/devices/dax0.0/size; ls /dev; stat -c %t:%T /dev/dax0.0")
	if err != nil {
		return fail("Command: %v", err)
	}
	check("Fixture.Command sees the fixture's /sys and /dev", cmd, 0, "1073741824\n", "dax0.0\n", "fc:0\n")

	cmd, _ = f.Command("no-such-command-pmem2emu")
	check("Fixture.Command of a missing command", cmd, 127)

	cmd, _ = f.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		return fail("start: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGKILL {
		return fail("sleep ended with %v", cmd.ProcessState)
	}
	// (no output or status to check; the view must be unchanged)
	check("Fixture.Command killed with SIGKILL", exec.Command("true"), 0)

	check("pmem2emu exec --mount sees the fixture",
		exec.Command(bin, "exec", "--mount", root, "--", "cat", "/sys/bus/dax/devices/dax0.0/size"), 0, "1073741824\n")
	cli := exec.Command(bin, "exec", "--", "sh", "-c", "cat /sys/bus/dax/devices/dax0.1/size; ls /dev/dax0.1")
	cli.Env = append(os.Environ(), "TMPDIR="+tmp)
	check("pmem2emu exec mounts, runs and unmounts", cli, 0, "2147483648\n", "/dev/dax0.1\n")

	if now, err := viewNow(); err != nil || now.diff(before) != "" {
		return fail("the view changed: %v %s", err, now.diff(before))
	}
	fmt.Println("the mount table, /dev and /sys after all of them: ok")

	// Control: a child namespace that keeps its mounts shared with ours
	// (unshare --propagation unchanged) mounts a tmpfs: it must show here.
	ctl := filepath.Join(tmp, "control")
	os.Mkdir(ctl, 0o755)
	out, err := exec.Command("unshare", "--mount", "--propagation", "unchanged", "--",
		"mount", "-t", "tmpfs", "control", ctl).CombinedOutput()
	if err != nil {
		return fail("control mount: %v %s", err, out)
	}
	now, _ := viewNow()
	if added, _ := delta(before.mounts, now.mounts); len(added) != 1 || !strings.Contains(added[0], ctl) {
		return fail("control: the leaked tmpfs does not show: added %q", added)
	}
	unix.Unmount(ctl, unix.MNT_DETACH)
	fmt.Println("control: a mount of a non-private child namespace shows here: ok")
	return 0
}

// TestTheNamespaceRunnerLeavesTheHostAlone runs commands through
// Fixture.Command (package nsrun) and `pmem2emu exec` — reading the fake
// /sys and /dev, failing, killed — and holds the mount table, /dev and
// /sys to what they were. Package nsrun's own isolation tests do the same
// for nsrun.Command on a plain directory; this runs it through a mounted
// fixture and the CLI.
func TestTheNamespaceRunnerLeavesTheHostAlone(t *testing.T) {
	hostBefore, err := viewNow()
	require.NoError(t, err)
	out := runHelper(t, "isolation", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}, testutil.CLI(t))
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		got = append(got, l)
	}
	if !slices.Equal(got, isolationChecks) {
		t.Errorf("the helper says:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(isolationChecks, "\n\t"))
	}
	// In the host's own namespace only names can be compared: other
	// tests mount and unmount there concurrently.
	hostAfter, err := viewNow()
	require.NoError(t, err)
	if added, removed := delta(hostBefore.names, hostAfter.names); len(added)+len(removed) > 0 {
		t.Errorf("the host's /dev or /sys changed: added %q, removed %q", added, removed)
	}
}
