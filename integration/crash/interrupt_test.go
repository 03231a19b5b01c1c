package crash_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// TestInterruptedCheckLeavesNothingMounted interrupts `pmem2emu check` at
// moments spread over its life — while the Go runtime starts, while it
// mounts, while a check waits on a slow getattr — with SIGINT (Ctrl-C),
// SIGINT twice (an impatient user) or SIGTERM. Whatever the moment, the
// check exits 130 having unmounted, or dies of the signal before it
// mounted anything, or (on the fast default spec) finishes first; nothing
// stays mounted and its temporary directory is gone.
func TestInterruptedCheckLeavesNothingMounted(t *testing.T) {
	delays := []time.Duration{0, 2 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond,
		60 * time.Millisecond, 120 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second}
	signals := []struct {
		name string
		sigs []syscall.Signal
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}},
		{"SIGINT twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}},
	}
	slow := slowSpec(t)
	outcomes := map[string]int{}
	runs := 0
	for _, spec := range []struct{ name, file string }{{"a busy check of a slow spec", slow}, {"a check of the default spec", ""}} {
		for _, sg := range signals {
			for _, d := range delays {
				name := fmt.Sprintf("%s, %s after %v", spec.name, sg.name, d)
				t.Run(name, func(t *testing.T) {
					outcome := interruptCheck(t, spec.file, d, sg.sigs, spec.file == "")
					outcomes[outcome]++
					runs++
				})
			}
		}
	}
	var summary []string
	for o, n := range outcomes {
		summary = append(summary, fmt.Sprintf("%s: %d", o, n))
	}
	sort.Strings(summary)
	t.Logf("%d interrupted checks, nothing left mounted: %s", runs, strings.Join(summary, "; "))
	if outcomes["exit 130, unmounted"] == 0 {
		t.Error("no run was interrupted while it held its fixture: the delays miss the window they are meant to hit")
	}
}

// interruptCheck runs one check, signals it after d and returns what
// happened.
func interruptCheck(t *testing.T, spec string, d time.Duration, sigs []syscall.Signal, mayFinish bool) string {
	tmp := t.TempDir()
	args := []string{"check"}
	if spec != "" {
		args = append(args, "--spec", spec)
	}
	cmd := cliCmd(t, tmp, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	time.Sleep(d)
	for i, sig := range sigs {
		if i > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Signal(sig) // fails harmlessly if the check is done
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the check did not end within 30s of the signal; stderr:\n%s", &stderr)
	}
	var outcome string
	var ee *exec.ExitError
	switch {
	case err == nil && mayFinish:
		outcome = "finished first (exit 0)"
	case errors.As(err, &ee) && ee.ExitCode() == 130:
		if !strings.Contains(stderr.String(), "interrupted; fixture unmounted") {
			t.Errorf("exit 130 without saying so; stderr:\n%s", &stderr)
		}
		outcome = "exit 130, unmounted"
	case errors.As(err, &ee) && ee.ExitCode() == -1:
		ws := ee.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != sigs[0] {
			t.Errorf("the check ended with %v, want exit 130", ee)
		}
		outcome = "killed by the signal before its handler was installed"
	default:
		t.Errorf("the check ended with %v; stdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
		outcome = "wrong"
	}
	testutil.NothingMountedBelow(t, tmp)
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Errorf("the check's temporary directory is left in %s: %v %v", tmp, ents, err)
	}
	return outcome
}

// TestInterruptedExecLeavesNothingMounted interrupts `pmem2emu exec`.
// While its command runs, the signal goes to the command, the command's
// status comes back shell-style (128+signal), and the fixture is unmounted
// after the command is gone. At any earlier moment, nothing may stay
// mounted either.
func TestInterruptedExecLeavesNothingMounted(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String()+" while the command runs reaches the command and the fixture is unmounted", func(t *testing.T) {
			tmp := t.TempDir()
			cmd := cliCmd(t, tmp, "exec", "--", "sleep", "60")
			cmd.WaitDelay = 5 * time.Second
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			waitForCommand(t, cmd.Process.Pid, "sleep")
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != c.want {
				t.Errorf("exec ended with %v, want exit status %d; stderr:\n%s", err, c.want, &stderr)
			}
			testutil.NothingMountedBelow(t, tmp)
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("exec left %v in %s", ents, tmp)
			}
		})
	}

	// Between its mount and the start of the command, exec lets SIGINT
	// and SIGTERM kill it (its handler is installed only to pass signals
	// on to the command, in runChild): the mount stays behind, stale,
	// and so does its temporary directory.
	t.Run("SIGINT at any moment of exec's start leaves nothing mounted", func(t *testing.T) {
		outcomes := map[string]int{}
		for _, d := range []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond, 15 * time.Millisecond,
			20 * time.Millisecond, 30 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond,
			80 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
			tmp := t.TempDir()
			cmd := cliCmd(t, tmp, "exec", "--", "sleep", "60")
			cmd.WaitDelay = 5 * time.Second
			require.NoError(t, cmd.Start())
			time.Sleep(d)
			cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			left := testutil.MountsBelow(t, tmp)
			mounted := len(left) > 0
			if mounted {
				t.Errorf("SIGINT %v after the start of exec (%v) left:\n\t%s", d, err, testutil.Describe(left...))
			}
			var ee *exec.ExitError
			switch {
			case mounted:
				outcomes["killed with its fixture mounted"]++
				umountStale(t, left[0].Mountpoint)
			case errors.As(err, &ee) && ee.ExitCode() == 130:
				outcomes["the command got it: exit 130"]++
			case errors.As(err, &ee) && ee.ExitCode() == -1:
				outcomes["killed before it mounted"]++
			default:
				t.Errorf("SIGINT %v after the start of exec: %v", d, err)
			}
			testutil.NothingMountedBelow(t, tmp)
		}
		t.Logf("%v", outcomes)
	})
}

// waitForCommand waits up to 10 s for a child of pid named name (after its
// execve) and returns its pid.
func waitForCommand(t *testing.T, pid int, name string) int {
	t.Helper()
	child := 0
	testutil.Eventually(10*time.Second, func() bool {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, task := range tasks {
			data, _ := os.ReadFile(task)
			for _, c := range strings.Fields(string(data)) {
				comm, _ := os.ReadFile("/proc/" + c + "/comm")
				if strings.TrimSpace(string(comm)) == name {
					child, _ = strconv.Atoi(c)
					return true
				}
			}
		}
		return false
	})
	if child == 0 {
		t.Fatalf("pmem2emu exec (pid %d) started no %s within 10s", pid, name)
	}
	return child
}
