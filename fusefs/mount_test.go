package fusefs_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"golang.org/x/sys/unix"
)

func TestMountIsNodevNosuidAndPrivate(t *testing.T) {
	_, dir := mount(t, fusefs.Tree{"f": fusefs.File("")}, nil)
	line := mountinfoLine(t, dir)
	fields := strings.Fields(line)
	if len(fields) < 6 {
		t.Fatalf("no mountinfo line for %s", dir)
	}
	opts := "," + fields[5] + ","
	for _, want := range []string{",nodev,", ",nosuid,"} {
		if !strings.Contains(opts, want) {
			t.Errorf("mount options %s lack %s", fields[5], want)
		}
	}
	if strings.Contains(line, "allow_other") {
		t.Errorf("mount allows others: %s", line)
	}
	if !strings.Contains(line, " - fuse.pmem2emu pmem2emu ") {
		t.Errorf("mountinfo: %s; want fstype fuse.pmem2emu and source pmem2emu", line)
	}
	t.Run("AllowOther is given only on request", func(t *testing.T) {
		_, dir := mount(t, fusefs.Tree{}, &fusefs.Options{AllowOther: true})
		if line := mountinfoLine(t, dir); !strings.Contains(line, "allow_other") {
			t.Errorf("mountinfo: %s", line)
		}
	})
	t.Run("FsName sets the source", func(t *testing.T) {
		_, dir := mount(t, fusefs.Tree{}, &fusefs.Options{FsName: "fixture-7"})
		if line := mountinfoLine(t, dir); !strings.Contains(line, " - fuse.pmem2emu fixture-7 ") {
			t.Errorf("mountinfo: %s", line)
		}
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
		if err != nil {
			t.Fatal(err)
		}
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
	if err != nil {
		t.Fatal(err)
	}
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
	if line := mountinfoLine(t, srv.Dir()); line != "" {
		t.Errorf("still in mountinfo: %s", line)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(srv.Dir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := os.Open(filepath.Join(srv.Dir(), "d"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	within(t, 15*time.Second, "Close", func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Logf("Close took %v", time.Since(start))
	if line := mountinfoLine(t, srv.Dir()); line != "" {
		t.Errorf("still in mountinfo: %s", line)
	}
	if _, err := f.ReadAt(make([]byte, 1), 0); !errors.Is(err, unix.ENOTCONN) {
		t.Errorf("read on the old descriptor: %v, want ENOTCONN", err)
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
	t.Run("char 1:5 opens read-write and maps", func(t *testing.T) {
		srv, dir := mount(t, fusefs.Tree{"dev/zero": {Type: fusefs.TypeCharDev, Major: 1, Minor: 5, Mode: 0666}}, &fusefs.Options{DeviceMode: true})
		if line := mountinfoLine(t, dir); strings.Contains(strings.Fields(line)[5], "nodev") {
			t.Errorf("device mode mounted nodev: %s", line)
		}
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
	if os.Geteuid() != 0 {
		t.Fatal("this test runs the binary as another user and needs root")
	}
	base := t.TempDir()
	for d := base; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		os.Chmod(d, 0755)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "fusefs.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0755); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(base, "mnt")
	os.Mkdir(mnt, 0777)
	try := func(v string) string {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), tryEnv+"="+v)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return string(out)
	}
	t.Run("device mode is refused for lack of root", func(t *testing.T) {
		if out := try("dev:" + mnt); !strings.Contains(out, "needs root") || !strings.Contains(out, mnt) {
			t.Errorf("output %q", out)
		}
	})
	t.Run("a closed /dev/fuse is named in the error", func(t *testing.T) {
		var st unix.Stat_t
		if err := unix.Stat("/dev/fuse", &st); err != nil || st.Mode&0006 != 0 {
			t.Fatalf("/dev/fuse mode %#o (%v): this test needs it closed to others", st.Mode, err)
		}
		if out := try(mnt); !strings.Contains(out, "FUSE unavailable") || !strings.Contains(out, "/dev/fuse") {
			t.Errorf("output %q", out)
		}
	})
}
