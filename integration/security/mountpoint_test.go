package security_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// mountAttempt is one emulate.Mount the mountpoints helper tried.
type mountAttempt struct {
	Name       string // the case, as the test names it
	Dir        string
	Force      bool
	Mounted    bool
	Mountpoint bool   // the error matches fusefs.ErrMountpoint
	Err        string // the error message
	Reason     string // what the error must say besides the directory
}

// mountpointCases are the directories tried, relative ones below a
// temporary directory the helper makes ("{tmp}").
var mountpointCases = []mountAttempt{
	{Name: "the root directory is refused", Dir: "/", Reason: "system directory"},
	{Name: "/sys is refused", Dir: "/sys", Reason: "system directory"},
	{Name: "/dev is refused", Dir: "/dev", Reason: "system directory"},
	{Name: "/proc is refused", Dir: "/proc", Reason: "system directory"},
	{Name: "/sys/ with a trailing slash is refused", Dir: "/sys/", Reason: "system directory"},
	{Name: "an empty directory below /dev is refused", Dir: "/dev/shm", Reason: "system directory"},
	{Name: "a directory below /proc is refused", Dir: "/proc/sys", Reason: "system directory"},
	{Name: "/dev reached through .. is refused", Dir: "/dev/shm/..", Reason: "system directory"},
	{Name: "/proc reached through a symlink is refused", Dir: "{tmp}/to-proc", Reason: "system directory"},
	{Name: "/ reached through a symlink is refused", Dir: "{tmp}/to-root", Reason: "system directory"},
	{Name: "/ with Force is still refused", Dir: "/", Force: true, Reason: "system directory"},
	{Name: "a file is refused", Dir: "{tmp}/file", Reason: "not a directory"},
	{Name: "a missing directory is refused", Dir: "{tmp}/missing", Reason: "does not exist"},
	{Name: "a non-empty directory is refused", Dir: "{tmp}/full", Reason: "not empty"},
	{Name: "a non-empty directory is mounted over with Force", Dir: "{tmp}/full", Force: true},
}

// helperMountpoints runs in a new mount namespace (CLONE_NEWNS): it makes
// every mount private first, so that whatever it might mount by mistake
// stays in that namespace, then tries emulate.Mount on each case and
// prints one JSON line per attempt.
func helperMountpoints([]string) int {
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fmt.Fprintln(os.Stderr, "making / private:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "pmem2emu-mountpoints-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	for _, err := range []error{
		os.Symlink("/proc", filepath.Join(tmp, "to-proc")),
		os.Symlink("/", filepath.Join(tmp, "to-root")),
		os.WriteFile(filepath.Join(tmp, "file"), nil, 0o644),
		os.MkdirAll(filepath.Join(tmp, "full", "something"), 0o755),
	} {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	enc := json.NewEncoder(os.Stdout)
	for _, c := range mountpointCases {
		c.Dir = strings.ReplaceAll(c.Dir, "{tmp}", tmp)
		f, err := emulate.Mount(c.Dir, &emulate.Spec{}, emulate.WithFusefsOptions(fusefs.Options{Force: c.Force}))
		if err == nil {
			c.Mounted = true
			if err := f.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		} else {
			c.Err = err.Error()
			c.Mountpoint = errors.Is(err, fusefs.ErrMountpoint)
		}
		enc.Encode(c)
	}
	return 0
}

// TestMountPointsAreChecked: emulate.Mount (and so emutest.Start and every
// CLI command) refuses /, /sys, /dev and /proc however they are spelled or
// reached, a file, a missing directory and — unless forced — a non-empty
// directory, with an error naming the directory. The attempts run in a
// private mount namespace.
func TestMountPointsAreChecked(t *testing.T) {
	out := runHelper(t, "mountpoints", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS})
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var a mountAttempt
		require.NoError(t, json.Unmarshal(sc.Bytes(), &a))
		want := mountpointCases[n]
		n++
		t.Run(a.Name, func(t *testing.T) {
			if want.Reason == "" {
				if !a.Mounted {
					t.Errorf("emulate.Mount(%s, Force %v): %s; want a mount", a.Dir, a.Force, a.Err)
				}
				return
			}
			if a.Mounted {
				t.Fatalf("emulate.Mount(%s, Force %v) mounted", a.Dir, a.Force)
			}
			// The error names the directory as given or as made absolute
			// and clean ("/sys/" → "/sys", "/dev/shm/.." → "/dev").
			named := strings.Contains(a.Err, a.Dir) || strings.Contains(a.Err, "mount "+filepath.Clean(a.Dir)+":")
			if !a.Mountpoint || !named || !strings.Contains(a.Err, want.Reason) {
				t.Errorf("emulate.Mount(%s): %q; want ErrMountpoint naming %s and saying %q", a.Dir, a.Err, a.Dir, want.Reason)
			}
		})
	}
	if n != len(mountpointCases) {
		t.Fatalf("the helper reported %d attempts of %d:\n%s", n, len(mountpointCases), out)
	}
}

// TestTheCLIChecksMountPoints runs `pmem2emu mount` on the refused
// directories inside `unshare -m` (a private mount namespace): it must
// exit 1 at once, naming the directory; --force mounts over a non-empty
// directory.
func TestTheCLIChecksMountPoints(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("%v (apt-get install util-linux)", err)
	}
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	full := filepath.Join(tmp, "full")
	require.NoError(t, os.MkdirAll(filepath.Join(full, "something"), 0o755))
	for _, c := range []struct{ dir, reason string }{
		{"/", "system directory"}, {"/sys", "system directory"}, {"/dev", "system directory"},
		{"/proc", "system directory"}, {file, "not a directory"}, {full, "not empty"},
	} {
		t.Run(fmt.Sprintf("pmem2emu mount %s is refused", c.dir), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, unshare, "--mount", "--propagation", "private", "--", testutil.CLI(t), "mount", c.dir)
			out, errOut, code := testutil.Output(t, cmd)
			if ctx.Err() != nil {
				t.Fatalf("pmem2emu mount %s ran until killed: it mounted (in the test's private namespace). Output: %s%s", c.dir, out, errOut)
			}
			if code != 1 || !strings.Contains(errOut, c.dir) || !strings.Contains(errOut, "refused mount point") || !strings.Contains(errOut, c.reason) {
				t.Errorf("exit %d, stderr %q; want 1 and a refusal naming %s (%s)", code, errOut, c.dir, c.reason)
			}
		})
	}
	t.Run("pmem2emu mount --force mounts over a non-empty directory", func(t *testing.T) {
		testutil.StartMount(t, nil, "--force", full)
		if _, err := os.Stat(filepath.Join(full, "something")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the directory's own content still shows through the mount: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(full, "dev", "dax0.0")); err != nil {
			t.Errorf("the fixture is not served over the directory: %v", err)
		}
	})
}
