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
		testutil.RootOnly(t, "it runs the binary as another user")
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
	testutil.RootOnly(t, "it mounts a tmpfs")
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

// A User is who the command runs as, with /dev/fuse in the mode asked for,
// a home of its own, and the host left as it was.
func TestAUserRunsWithItsOwnFuseMode(t *testing.T) {
	testutil.RootOnly(t, "it switches users and binds a node over /dev/fuse")
	var host unix.Stat_t
	require.NoError(t, unix.Stat("/dev/fuse", &host))
	before := testutil.Lines(testutil.Mounts(t, nil))
	script := `id -u; id -g; id -G; stat -c '%a %u %t:%T' /dev/fuse
		[ "$HOME" = "$TMPDIR" ] && stat -c '%u %a' "$HOME"
		[ -r /dev/fuse ] && [ -w /dev/fuse ] && echo fuse open || echo fuse closed`
	for _, u := range append(testutil.Users(), testutil.Nobody) {
		t.Run(u.String(), func(t *testing.T) {
			mode := fmt.Sprintf("%o", host.Mode&0o7777)
			if u.FuseMode != 0 {
				mode = fmt.Sprintf("%o", u.FuseMode)
			}
			open := "closed"
			if u.FuseOpen(t) {
				open = "open"
			}
			stdout, _ := testutil.OutputOK(t, u.Command(t, "sh", "-c", script))
			assert.Equal(t, "65534\n65534\n65534\n"+mode+" 0 a:e5\n65534 700\nfuse "+open+"\n", stdout)
		})
	}
	var after unix.Stat_t
	require.NoError(t, unix.Stat("/dev/fuse", &after))
	assert.Equal(t, host.Mode, after.Mode, "the host's /dev/fuse")
	assert.Equal(t, before, testutil.Lines(testutil.Mounts(t, nil)), "the host's mount table")
}

// A test binary can run its own tests, or a role, as a user.
func TestAUserRunsThisTestBinary(t *testing.T) {
	testutil.RootOnly(t, "it switches users")
	stdout, _ := testutil.OutputOK(t, testutil.Nobody.Tests(t, "-test.run", "^TestEventuallyAndWithin$", "-test.v"))
	assert.Contains(t, stdout, "--- PASS: TestEventuallyAndWithin")
	stdout, _, code := testutil.Output(t, testutil.Nobody.Role(t, "echo", "a role"))
	assert.Equal(t, "a role\n", stdout)
	assert.Equal(t, 3, code)
}

// RootOnly lets root through and skips anyone else, listing the test in
// the file RootOnlyLog names.
func TestRootOnlySkipsOthersAndSaysSo(t *testing.T) {
	testutil.RootOnly(t, "it runs the binary as another user")
	log := filepath.Join(testutil.PublicDir(t), "root-only.log")
	require.NoError(t, os.WriteFile(log, nil, 0o666))
	require.NoError(t, os.Chmod(log, 0o666))
	cmd := testutil.Nobody.Tests(t, "-test.run", "^TestRootOnlyItself$", "-test.v")
	cmd.Env = append(cmd.Env, testutil.RootOnlyLog+"="+log)
	stdout, _ := testutil.OutputOK(t, cmd)
	assert.Contains(t, stdout, "--- SKIP: TestRootOnlyItself")
	assert.Contains(t, stdout, "needs root: nothing but root may do this")
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, "testutil TestRootOnlyItself: needs root: nothing but root may do this\n", string(b))
}

// TestRootOnlyItself is what TestRootOnlySkipsOthersAndSaysSo runs as a
// user; as root, RootOnly must let it through.
func TestRootOnlyItself(t *testing.T) {
	testutil.RootOnly(t, "nothing but root may do this")
	require.Zero(t, os.Geteuid(), "RootOnly let a user through")
}

func TestDirNamesListsADirectoryInItsOwnOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b", "a", "c"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	entries, err := os.ReadDir(dir) // sorted
	require.NoError(t, err)
	var sorted []string
	for _, e := range entries {
		sorted = append(sorted, e.Name())
	}
	names := testutil.DirNames(t, dir)
	assert.ElementsMatch(t, sorted, names)
	assert.Equal(t, names, testutil.DirNames(t, dir), "the same order twice")
}
