package testutil_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func TestMain(m *testing.M) {
	testutil.Main(m, testutil.Roles{"echo": echo})
}

// echo is a role: it prints its arguments, says whether it sees RoleEnv,
// and exits 3.
func echo(args []string) int {
	fmt.Println(strings.Join(args, " "))
	if _, ok := os.LookupEnv(testutil.RoleEnv); ok {
		fmt.Println("the role variable leaked into the role")
	}
	return 3
}

func TestARoleRunsInsteadOfTheTests(t *testing.T) {
	t.Run("the role gets its arguments, and its status is the process's", func(t *testing.T) {
		stdout, _, code := testutil.Output(t, testutil.Command("echo", "a b", "c"))
		assert.Equal(t, "a b c\n", stdout)
		assert.Equal(t, 3, code)
	})
	t.Run("an unknown role exits 2 and lists the known ones", func(t *testing.T) {
		_, stderr, code := testutil.Output(t, testutil.Command("nonesuch"))
		assert.Equal(t, 2, code)
		assert.Contains(t, stderr, `no role "nonesuch"; roles: echo`)
	})
	t.Run("another user runs a copy of the binary", func(t *testing.T) {
		require.Zero(t, os.Geteuid(), "this test runs the binary as another user and needs root")
		cmd := testutil.CommandAs(t, 65534, 65534, "echo", "as nobody")
		stdout, _, code := testutil.Output(t, cmd)
		assert.Equal(t, "as nobody\n", stdout)
		assert.Equal(t, 3, code)
	})
}

func TestEventuallyAndWithin(t *testing.T) {
	n := 0
	assert.True(t, testutil.Eventually(time.Second, func() bool { n++; return n == 3 }))
	assert.Equal(t, 3, n, "asked until it held, and no more")
	start := time.Now()
	assert.False(t, testutil.Eventually(50*time.Millisecond, func() bool { return false }))
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	ran := false
	testutil.Within(t, time.Second, "a quick call", func() { ran = true })
	assert.True(t, ran)
}

// The mount table is read through moby/sys/mountinfo: a tmpfs on a
// directory whose name mountinfo escapes is found under its real name,
// with its options.
func TestTheMountTable(t *testing.T) {
	require.Zero(t, os.Geteuid(), "this test mounts a tmpfs and needs root")
	base, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	dir := filepath.Join(base, "a b\\c")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, unix.Mount("testutil", dir, "tmpfs", unix.MS_NODEV|unix.MS_NOSUID, "size=64k"))
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })

	m := testutil.MountAt(t, dir)
	require.NotNil(t, m)
	assert.Equal(t, "tmpfs", m.FSType)
	assert.Equal(t, "testutil", m.Source)
	assert.True(t, testutil.Options(m.Options)["nodev"])
	assert.True(t, testutil.Options(m.VFSOptions)["size"])
	assert.Contains(t, testutil.Line(m), " "+dir+" ")
	assert.Len(t, testutil.MountsBelow(t, base), 1)
	assert.Nil(t, testutil.MountAt(t, base))

	require.NoError(t, unix.Unmount(dir, unix.MNT_DETACH))
	testutil.NothingMountedBelow(t, base)
}

func TestOutput(t *testing.T) {
	stdout, stderr, code := testutil.Output(t, exec.Command("sh", "-c", "echo out; echo err >&2; exit 4"))
	assert.Equal(t, "out\n", stdout)
	assert.Equal(t, "err\n", stderr)
	assert.Equal(t, 4, code)
	_, _, code = testutil.Output(t, exec.Command("sh", "-c", "kill -KILL $$"))
	assert.Equal(t, -1, code, "killed by a signal")
}

func TestTheCLIIsBuiltOnceAndRuns(t *testing.T) {
	bin := testutil.CLI(t)
	assert.Equal(t, bin, testutil.CLI(t))
	stdout, _ := testutil.OutputOK(t, exec.Command(bin, "spec", "--default"))
	assert.Contains(t, stdout, `"dax_devices"`)
}
