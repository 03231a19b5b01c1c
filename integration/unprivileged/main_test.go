package unprivileged_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m, nil) }

// asRoot is why every test here needs root.
const asRoot = "it plays a normal user from root (setuid, /dev/fuse bound in a mount namespace)"

// leftMounted is the shell line a user's command ends with: it prints how
// many pmem2emu mounts its mount namespace still holds below the user's
// HOME, where their temporary directories are (the namespace is a copy of
// the test's, where other tests' mounts may come and go).
const leftMounted = `echo "pmem2emu mounts left: $(awk -v home="$HOME/" 'index($5, home) == 1 && / - fuse.pmem2emu /' /proc/self/mountinfo | wc -l)"`

// shell runs script with sh as u and returns its output and status; the
// script ends with leftMounted, whose line is checked and cut off.
func shell(t *testing.T, u testutil.User, env []string, script string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := u.Command(t, "sh", "-c", script+"\ncode=$?\n"+leftMounted+"\nexit $code")
	cmd.Env = append(cmd.Env, env...)
	stdout, stderr, code = testutil.Output(t, cmd)
	rest, last, ok := cutLastLine(stdout)
	require.True(t, ok, "no output; stderr: %s", stderr)
	assert.Equal(t, "pmem2emu mounts left: 0", last, "as %s", u)
	return rest, stderr, code
}

func cutLastLine(s string) (rest, last string, ok bool) {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return "", "", false
	}
	i := strings.LastIndexByte(s, '\n')
	return s[:i+1], s[i+1:], true
}

// wantFuseClosed checks the failure of a user whose /dev/fuse is closed:
// it names the device, its mode, the user and the remedy.
func wantFuseClosed(t *testing.T, u testutil.User, out string) {
	t.Helper()
	for _, want := range []string{
		"FUSE unavailable",
		fmt.Sprintf("/dev/fuse (mode %04o, owner 0:0) is closed to uid %d", u.FuseMode.Perm(), u.UID),
		"fusermount3 opens it as you, so only root can use FUSE on this machine",
		"make it 0666",
	} {
		assert.Contains(t, out, want)
	}
}

// public writes a file any user can read into a PublicDir.
func public(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(testutil.PublicDir(t), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// testBinary is the path of this test binary.
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}
