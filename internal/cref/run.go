package cref

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
)

// Runner prepares a command; *emulate.Fixture is one: its Command runs
// the program with the fixture's fake sysfs over /sys and its device nodes
// in a private /dev, which is where the C library looks.
type Runner interface {
	Command(name string, args ...string) (*exec.Cmd, error)
}

// ProbeUIDEnv names the environment variable that makes a probe started
// as root become that user and group (see the package documentation).
const ProbeUIDEnv = "PMEM2_PROBE_UID"

// Host is the Runner that runs the probe as it is, on the host's /sys.
var Host Runner = hostRunner{}

type hostRunner struct{}

func (hostRunner) Command(name string, args ...string) (*exec.Cmd, error) {
	return exec.Command(name, args...), nil
}

// Run runs the probe built by Build on path opened in mode through r (nil means Host), asking for steps after
// pmem2_source_from_fd. A probe killed by a signal is a Result with Signal
// and Crashed set, not an error; see the package documentation for what
// is.
func Run(r Runner, probe, path string, mode emulate.OpenMode, steps ...Step) (Result, error) {
	if _, err := mode.Flags(); err != nil {
		return Result{}, err
	}
	args := []string{path, string(mode)}
	for i, s := range steps {
		if !slices.Contains(Steps, s) {
			return Result{}, fmt.Errorf("cref: step %q cannot be asked for (one of %v)", s, Steps)
		}
		if slices.Contains(steps[:i], s) {
			return Result{}, fmt.Errorf("cref: step %q asked for twice", s)
		}
		args = append(args, string(s))
	}
	if r == nil {
		r = Host
	}
	cmd, err := r.Command(probe, args...)
	if err != nil {
		return Result{}, fmt.Errorf("cref: probe %s: %w", strings.Join(args, " "), err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	res, perr := Parse(stdout.Bytes(), steps)
	res.Path, res.Mode, res.Stderr = path, mode, stderr.String()
	what := "probe " + strings.Join(args, " ")
	if perr != nil {
		return res, fmt.Errorf("%s: %w\nstderr: %s", what, perr, res.Stderr)
	}
	var ee *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
		res.Signal = ee.Sys().(syscall.WaitStatus).Signal()
		res.Crashed = res.pending()
		return res, nil
	default:
		return res, fmt.Errorf("%s: %w\nstderr: %s", what, runErr, res.Stderr)
	}
	if !res.Done {
		return res, fmt.Errorf("%s: exited without printing done\nstderr: %s", what, res.Stderr)
	}
	return res, nil
}

// MustRun is Run that fails t on an error.
func MustRun(t testing.TB, r Runner, probe, path string, mode emulate.OpenMode, steps ...Step) Result {
	t.Helper()
	res, err := Run(r, probe, path, mode, steps...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
