package security_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// TestMain runs the roles a test starts this binary in (each prints its
// findings on standard output and exits 0 when it could run), or the
// tests, as root.
func TestMain(m *testing.M) {
	testutil.RunRole(testutil.Roles{
		"mountpoints": helperMountpoints,
		"isolation":   helperIsolation,
	})
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "security: these tests need root (device mode, uid switches, mount namespaces): run them as root")
		os.Exit(1)
	}
	os.Exit(testutil.Run(m))
}

// runHelper runs this test binary in role with args, with the SysProcAttr
// attr, and returns its standard output; it fails the test if the role
// does not exit 0.
func runHelper(t *testing.T, role string, attr *syscall.SysProcAttr, args ...string) string {
	t.Helper()
	cmd := testutil.Command(role, args...)
	cmd.SysProcAttr = attr
	stdout, _ := testutil.OutputOK(t, cmd)
	return stdout
}

// cli runs pmem2emu with args and returns its exit status and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	stdout, stderr, code := testutil.Output(t, exec.Command(testutil.CLI(t), args...))
	return code, stdout, stderr
}

// mountOptions are the per-mount options (nodev, nosuid…) and the super
// block options (allow_other…) of the fixture mount on dir.
func mountOptions(t *testing.T, dir string) (mnt, super map[string]bool) {
	t.Helper()
	m := testutil.MountAt(t, dir)
	if m == nil {
		t.Fatalf("nothing mounted on %s", dir)
	}
	if m.FSType != testutil.FSType {
		t.Errorf("file system type %q, want %s: %s", m.FSType, testutil.FSType, testutil.Line(m))
	}
	return testutil.Options(m.Options), testutil.Options(m.VFSOptions)
}

// wantCode checks err against the code C would return, and that a failure
// is a *pmem2.Error.
func wantCode(t *testing.T, err error, want pmem2.Code) {
	t.Helper()
	if got := pmem2.CodeOf(err); got != int(want) {
		t.Fatalf("code %d (%s), want %d (%s); err = %v", got, pmem2.Code(got).Name(), int(want), want.Name(), err)
	}
	if err != nil {
		var pe *pmem2.Error
		if !errors.As(err, &pe) {
			t.Fatalf("err %T %v is not a *pmem2.Error", err, err)
		}
	}
}

// devDir is the real sysfs directory of the device behind charLink
// ("sys/dev/char/M:m"), relative to the mount root.
func devDir(t *testing.T, f *emulate.Fixture, charLink string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(f.Path(charLink))
	require.NoError(t, err)
	rel, err := filepath.Rel(f.Root(), real)
	require.NoError(t, err)
	return filepath.ToSlash(rel)
}

func mkdir(dir string) error { return os.Mkdir(dir, 0o755) }
