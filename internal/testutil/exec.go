package testutil

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// Output runs cmd and returns its standard output and error and its exit
// status (-1 when a signal killed it), failing the test only when cmd
// could not run at all. A Stdout or Stderr the caller set is kept, and
// its part of the result is then "".
func Output(t testing.TB, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &o
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &e
	}
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// OutputOK is Output for a command that must exit 0: any other end fails
// the test, showing both outputs.
func OutputOK(t testing.TB, cmd *exec.Cmd) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := Output(t, cmd)
	if code != 0 {
		t.Fatalf("%s: exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd.Args, " "), code, stdout, stderr)
	}
	return stdout, stderr
}
