package fusefs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func TestMountIsNodevNosuidAndPrivate(t *testing.T) {
	_, dir := mount(t, fusefs.Tree{"f": fusefs.File("")}, nil)
	m := testutil.MountAt(t, dir)
	require.NotNil(t, m, "no mount at %s", dir)
	opts := testutil.Options(m.Options)
	assert.True(t, opts["nodev"], "mount options %s lack nodev", m.Options)
	assert.True(t, opts["nosuid"], "mount options %s lack nosuid", m.Options)
	assert.False(t, testutil.Options(m.VFSOptions)["allow_other"], "the mount allows others: %s", m.VFSOptions)
	assert.Equal(t, testutil.FSType, m.FSType)
	assert.Equal(t, "pmem2emu", m.Source)
	t.Run("AllowOther is given only on request", func(t *testing.T) {
		if os.Geteuid() != 0 && !fusefs.UserAllowOther("/etc/fuse.conf") {
			_, err := fusefs.Mount(t.TempDir(), fusefs.Tree{}, &fusefs.Options{AllowOther: true})
			assert.ErrorIs(t, err, fusefs.ErrNeedsRoot, "AllowOther for a user without user_allow_other")
			assert.ErrorContains(t, err, "user_allow_other in /etc/fuse.conf")
			return
		}
		_, dir := mount(t, fusefs.Tree{}, &fusefs.Options{AllowOther: true})
		assert.True(t, testutil.Options(testutil.MountAt(t, dir).VFSOptions)["allow_other"])
	})
	t.Run("FsName sets the source", func(t *testing.T) {
		_, dir := mount(t, fusefs.Tree{}, &fusefs.Options{FsName: "fixture-7"})
		m := testutil.MountAt(t, dir)
		assert.Equal(t, testutil.FSType, m.FSType)
		assert.Equal(t, "fixture-7", m.Source)
	})
}

func TestMountRefusesDangerousOrUnusableDirectories(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, nil, 0644)
	full := filepath.Join(tmp, "full")
	os.MkdirAll(filepath.Join(full, "something"), 0755)
	toProc := filepath.Join(tmp, "to-proc")
	os.Symlink("/proc", toProc)
	busy, busyDir := mount(t, fusefs.Tree{}, nil)
	_ = busy
	tests := []struct {
		name, dir, reason string
	}{
		{"the root directory is refused", "/", "system directory"},
		{"/sys is refused", "/sys", "system directory"},
		{"/dev is refused", "/dev/", "system directory"},
		{"/proc is refused", "/proc", "system directory"},
		{"an empty directory below /dev is refused", "/dev/shm", "system directory"},
		{"a directory below /sys is refused", "/sys/kernel", "system directory"},
		{"a symlink to /proc is refused", toProc, "system directory"},
		{"a missing directory is refused", filepath.Join(tmp, "missing"), "does not exist"},
		{"a file is refused", file, "not a directory"},
		{"a non-empty directory is refused", full, "not empty"},
		{"a directory a live mount serves is refused", busyDir, "already serving"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := fusefs.Mount(tt.dir, fusefs.Tree{}, nil)
			if err == nil {
				srv.Close()
				t.Fatal("mounted")
			}
			if !errors.Is(err, fusefs.ErrMountpoint) || !strings.Contains(err.Error(), tt.dir) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q: want ErrMountpoint naming %s and %q", err, tt.dir, tt.reason)
			}
		})
	}
	t.Run("Force mounts over a non-empty directory", func(t *testing.T) {
		srv, err := fusefs.Mount(full, fusefs.Tree{"f": fusefs.File("over")}, &fusefs.Options{Force: true})
		require.NoError(t, err)
		defer srv.Close()
		wantRead(t, full, "f", "over")
	})
	t.Run("an invalid tree is refused before mounting, naming the path", func(t *testing.T) {
		_, err := fusefs.Mount(t.TempDir(), fusefs.Tree{"a/../b": fusefs.File("")}, nil)
		if !errors.Is(err, fusefs.ErrInvalidNode) || !strings.Contains(err.Error(), "a/../b") {
			t.Errorf("error %v", err)
		}
	})
}

func TestCloseIsIdempotentAndLeavesNoMount(t *testing.T) {
	dir := t.TempDir()
	srv, err := fusefs.Mount(dir, fusefs.Tree{"f": fusefs.File("x")}, nil)
	require.NoError(t, err)
	readFile(t, filepath.Join(dir, "f"))
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := srv.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	testutil.NothingMountedBelow(t, srv.Dir())
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("the directory underneath: %v, %v", ents, err)
	}
	t.Run("the same directory mounts again", func(t *testing.T) {
		_, dir := mount(t, fusefs.Tree{"g": fusefs.File("again")}, nil)
		wantRead(t, dir, "g", "again")
	})
}

func TestCloseWithOpenDescriptorsDoesNotHang(t *testing.T) {
	srv, err := fusefs.Mount(t.TempDir(), fusefs.Tree{"f": fusefs.File("x"), "d": fusefs.Dir()}, nil)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(srv.Dir(), "f"))
	require.NoError(t, err)
	defer f.Close()
	d, err := os.Open(filepath.Join(srv.Dir(), "d"))
	require.NoError(t, err)
	defer d.Close()
	start := time.Now()
	testutil.Within(t, 15*time.Second, "Close", func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Logf("Close took %v", time.Since(start))
	testutil.NothingMountedBelow(t, srv.Dir())
	_, err = f.ReadAt(make([]byte, 1), 0)
	if testutil.CanAbortFuse(t) {
		if !errors.Is(err, unix.ENOTCONN) {
			t.Errorf("read on the old descriptor: %v, want ENOTCONN (the connection aborted)", err)
		}
	} else if err != nil {
		t.Errorf("read on the old descriptor: %v, want the data (a user who cannot abort leaves it served)", err)
	}
}

func TestDeviceModeAllowsOnlyMemoryDevices(t *testing.T) {
	t.Run("a block device 8:0 is refused, naming the node", func(t *testing.T) {
		_, err := fusefs.Mount(t.TempDir(), fusefs.Tree{"dev/sda": fusefs.BlockDev(8, 0)}, &fusefs.Options{DeviceMode: true})
		if !errors.Is(err, fusefs.ErrDeviceNotAllowed) || !strings.Contains(err.Error(), "dev/sda") || !strings.Contains(err.Error(), "8:0") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("a char device 10:237 is refused, naming the node", func(t *testing.T) {
		_, err := fusefs.Mount(t.TempDir(), fusefs.Tree{"dev/loop-control": fusefs.CharDev(10, 237)}, &fusefs.Options{DeviceMode: true})
		if !errors.Is(err, fusefs.ErrDeviceNotAllowed) || !strings.Contains(err.Error(), "dev/loop-control") || !strings.Contains(err.Error(), "10:237") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("a block device 1:5 is refused: only char memory devices", func(t *testing.T) {
		_, err := fusefs.Mount(t.TempDir(), fusefs.Tree{"ram": fusefs.BlockDev(1, 5)}, &fusefs.Options{DeviceMode: true})
		if !errors.Is(err, fusefs.ErrDeviceNotAllowed) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("device mode is root's: fusermount3 mounts nodev for anyone else", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root may mount in device mode")
		}
		_, err := fusefs.Mount(t.TempDir(), fusefs.Tree{"dev/zero": fusefs.CharDev(1, 5)}, &fusefs.Options{DeviceMode: true})
		assert.ErrorIs(t, err, fusefs.ErrNeedsRoot)
	})
	t.Run("char 1:5 opens read-write and maps", func(t *testing.T) {
		testutil.RootOnly(t, "device mode mounts without nodev")
		srv, dir := mount(t, fusefs.Tree{"dev/zero": {Type: fusefs.TypeCharDev, Major: 1, Minor: 5, Mode: 0666}}, &fusefs.Options{DeviceMode: true})
		mnt := testutil.MountAt(t, dir)
		assert.False(t, testutil.Options(mnt.Options)["nodev"], "device mode mounted nodev: %s", mnt.Options)
		f, err := os.OpenFile(filepath.Join(dir, "dev/zero"), os.O_RDWR, 0)
		if err != nil {
			t.Fatalf("open O_RDWR: %v", err)
		}
		defer f.Close()
		m, err := unix.Mmap(int(f.Fd()), 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatalf("mmap: %v", err)
		}
		m[12345] = 7
		if m[0] != 0 || m[12345] != 7 {
			t.Error("mapping does not behave like memory")
		}
		unix.Munmap(m)
		t.Run("Set refuses a disk at runtime", func(t *testing.T) {
			err := srv.Set("dev/sdb", fusefs.BlockDev(8, 16))
			if !errors.Is(err, fusefs.ErrDeviceNotAllowed) || !strings.Contains(err.Error(), "dev/sdb") {
				t.Errorf("Set: %v", err)
			}
			if _, ok := srv.Node("dev/sdb"); ok {
				t.Error("the refused node was added")
			}
		})
		t.Run("Set accepts another memory device", func(t *testing.T) {
			if err := srv.Set("dev/null", fusefs.CharDev(1, 3)); err != nil {
				t.Error(err)
			}
		})
	})
}

// Run as root, the suite checks what other users get by running this test
// binary as nobody.
func TestOtherUsersGetClearErrors(t *testing.T) {
	testutil.RootOnly(t, "it runs the binary as another user")
	mnt := filepath.Join(testutil.PublicDir(t), "mnt")
	require.NoError(t, os.Mkdir(mnt, 0o777))
	require.NoError(t, os.Chmod(mnt, 0o777)) // past the umask
	try := func(dir string) string {
		out, err := testutil.CommandAs(t, 65534, 65534, "try", dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	t.Run("device mode is refused for lack of root", func(t *testing.T) {
		out := try("dev:" + mnt)
		assert.Contains(t, out, "needs root")
		assert.Contains(t, out, mnt)
	})
	t.Run("a closed /dev/fuse is named in the error", func(t *testing.T) {
		var st unix.Stat_t
		require.NoError(t, unix.Stat("/dev/fuse", &st))
		require.Zero(t, st.Mode&0o006, "/dev/fuse mode %#o: this test needs it closed to others", st.Mode)
		out := try(mnt)
		assert.Contains(t, out, "FUSE unavailable")
		assert.Contains(t, out, "/dev/fuse")
	})
}
