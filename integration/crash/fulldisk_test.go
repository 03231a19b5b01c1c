package crash_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// TestFullTempDirectory points TMPDIR at a 64 KiB tmpfs filled up, in two
// ways: only its blocks are full (a directory still fits: tmpfs gives
// directories no blocks), or its inodes too (nothing can be created).
// pmem2emu check and exec, emulate.Mount and emutest.Start either work or
// fail with an error naming the directory and "no space left on device";
// nothing stays mounted either way.
func TestFullTempDirectory(t *testing.T) {
	for _, c := range []struct {
		name      string
		noInodes  bool
		wantError bool
	}{
		{"a temporary directory whose blocks are full still takes the fixture's mount point", false, false},
		{"a temporary directory without free inodes fails with a clear error", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp, spare := fullTmpfs(t, c.noInodes)
			env := []string{"TMPDIR=" + tmp}
			wantSpaceError := func(what string, code int, errOut string) {
				t.Helper()
				if !c.wantError {
					if code != 0 {
						t.Errorf("%s on a full disk: exit status %d; stderr:\n%s", what, code, errOut)
					}
					return
				}
				if code != 1 || !strings.Contains(errOut, "no space left on device") || !strings.Contains(errOut, tmp+"/") {
					t.Errorf("%s without inodes: exit status %d, stderr %q; want 1 and an error naming %s and \"no space left on device\"",
						what, code, errOut, tmp)
				}
			}

			t.Run("pmem2emu check", func(t *testing.T) {
				code, out, errOut := cli(t, env, "check")
				wantSpaceError("check", code, errOut)
				if !c.wantError && !strings.Contains(out, " passed, 0 failed") {
					t.Errorf("check output:\n%s", out)
				}
				nothingMountedBelow(t, tmp)
			})
			t.Run("pmem2emu exec", func(t *testing.T) {
				code, _, errOut := cli(t, env, "exec", "--", "true")
				wantSpaceError("exec", code, errOut)
				nothingMountedBelow(t, tmp)
			})
			t.Run("emulate.Mount on a directory of the full disk mounts: a mount needs no space", func(t *testing.T) {
				f, err := emulate.Mount(spare, nil)
				if err != nil {
					t.Fatalf("emulate.Mount(%s): %v", spare, err)
				}
				if _, err := os.Lstat(f.Path("dev/dax0.0")); err != nil {
					t.Error(err)
				}
				if err := f.Close(); err != nil {
					t.Error(err)
				}
				nothingMountedBelow(t, tmp)
			})
			t.Run("emutest.Start in a test whose TMPDIR is full", func(t *testing.T) {
				cmd := helperProcess("fatal", tmp, 30*time.Second)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					t.Fatalf("the child test ended with %v, want exit status 1; output:\n%s", err, &out)
				}
				// With room for the directory, the fixture mounts and the
				// helper fails on purpose (t.Fatal); without, TempDir
				// fails first and says why.
				want := "a test fails with t.Fatal while holding a fixture"
				if c.wantError {
					want = "no space left on device"
				}
				if !strings.Contains(out.String(), want) {
					t.Errorf("the child test's output does not say %q:\n%s", want, &out)
				}
				nothingMountedBelow(t, tmp)
			})
		})
	}
}

// fullTmpfs mounts a 64 KiB tmpfs on a temporary directory, creates the
// directory spare on it, and fills its blocks — and with noInodes its
// inodes too. It returns the mount point and spare.
func fullTmpfs(t *testing.T, noInodes bool) (dir, spare string) {
	t.Helper()
	dir = t.TempDir()
	opts := "size=64k,mode=0755"
	if noInodes {
		opts += ",nr_inodes=64"
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NODEV|unix.MS_NOSUID, opts); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount tmpfs %s: %v", dir, err)
		}
	})
	spare = filepath.Join(dir, "spare")
	require.NoError(t, os.Mkdir(spare, 0o755))
	fill, err := os.Create(filepath.Join(dir, "fill"))
	require.NoError(t, err)
	chunk := make([]byte, 4096)
	for {
		if _, err := fill.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	fill.Close()
	for i := 0; noInodes; i++ {
		f, err := os.Create(filepath.Join(dir, "inode"+strconv.Itoa(i)))
		if errors.Is(err, syscall.ENOSPC) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	if st.Bavail != 0 || (noInodes && st.Ffree != 0) {
		t.Fatalf("the tmpfs on %s is not full: %d blocks and %d inodes free", dir, st.Bavail, st.Ffree)
	}
	return dir, spare
}

// nothingMountedBelow fails the test if anything is mounted below dir
// (dir itself being the tmpfs).
func nothingMountedBelow(t *testing.T, dir string) {
	t.Helper()
	for _, m := range testutil.MountsBelow(t, dir) {
		if m.Mountpoint != dir {
			t.Fatalf("still mounted below %s: %s", dir, testutil.Line(m))
		}
	}
}
