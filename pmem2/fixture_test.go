package pmem2

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// sysfsTree is a fake sysfs of real files and symlinks in a temporary
// directory, laid out as /work/shared/reference/sysfs-dax.md describes.
type sysfsTree struct {
	t    testing.TB
	root string
}

func newSysfs(t testing.TB) *sysfsTree {
	t.Helper()
	return &sysfsTree{t: t, root: t.TempDir()}
}

func (s *sysfsTree) path(rel string) string { return filepath.Join(s.root, rel) }

func (s *sysfsTree) dir(rel string) {
	s.t.Helper()
	if err := os.MkdirAll(s.path(rel), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sysfsTree) file(rel, content string) {
	s.t.Helper()
	s.dir(filepath.Dir(rel))
	if err := os.WriteFile(s.path(rel), []byte(content), 0o444); err != nil {
		s.t.Fatal(err)
	}
}

// link makes rel a symlink to target, replacing whatever rel was.
func (s *sysfsTree) link(rel, target string) {
	s.t.Helper()
	s.dir(filepath.Dir(rel))
	if err := os.RemoveAll(s.path(rel)); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Symlink(target, s.path(rel)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sysfsTree) remove(rel string) {
	s.t.Helper()
	if err := os.RemoveAll(s.path(rel)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sysfsTree) fifo(rel string) {
	s.t.Helper()
	s.remove(rel)
	if err := unix.Mkfifo(s.path(rel), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// The device directories of the two layouts, relative to the root.
const (
	busDevDir   = "devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax0.0"
	classDevDir = "devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax/dax0.0"
	regionDir   = "devices/platform/e820_pmem/ndbus0/region0/dax0.1/dax_region"
	memDevDir   = "devices/virtual/mem/zero"
	testDAXSize = 2 << 20
)

// busDAX lays out a Device DAX on the modern dax bus for the device
// number rdev ("1:5"), 2 MiB in size and 2 MiB aligned.
func (s *sysfsTree) busDAX(rdev string) {
	s.t.Helper()
	s.daxDevice(rdev, busDevDir, "../../../../../../../bus/dax")
	s.dir("bus/dax/devices")
	s.link("bus/dax/devices/dax0.0", "../../../"+busDevDir)
}

// classDAX lays out a Device DAX of the old class model (dax_pmem_compat).
func (s *sysfsTree) classDAX(rdev string) {
	s.t.Helper()
	s.daxDevice(rdev, classDevDir, "../../../../../../../../class/dax")
	s.link("class/dax/dax0.0", "../../"+classDevDir)
}

func (s *sysfsTree) daxDevice(rdev, devDir, subsystem string) {
	s.t.Helper()
	s.file(devDir+"/dev", rdev+"\n")
	s.file(devDir+"/size", "2097152\n")
	s.file(devDir+"/align", "2097152\n")
	s.link(devDir+"/subsystem", subsystem)
	s.file(regionDir+"/id", "0\n")
	s.file(regionDir+"/size", "2097152\n")
	s.file(regionDir+"/align", "2097152\n")
	s.link("dev/char/"+rdev, "../../"+devDir)
}

// mem lays out a memory character device such as /dev/zero.
func (s *sysfsTree) mem(rdev string) {
	s.t.Helper()
	s.file(memDevDir+"/dev", rdev+"\n")
	s.link(memDevDir+"/subsystem", "../../../../class/mem")
	s.dir("class/mem")
	s.link("dev/char/"+rdev, "../../"+memDevDir)
}

// tempFile is a regular file holding content.
func tempFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// wantCode fails the test unless err carries exactly code (0: no error).
func wantCode(t testing.TB, err error, code Code) {
	t.Helper()
	if got := CodeOf(err); got != int(code) {
		t.Fatalf("got code %d (%s), error %v; want %d (%s)", got, Code(got).Name(), err, int(code), code.Name())
	}
	if code == 0 {
		return
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *pmem2.Error", err, err)
	}
	if !errors.Is(err, code) {
		t.Fatalf("errors.Is(%v, %s) is false", err, code.Name())
	}
	if code < 0 && code > -4096 && !errors.Is(err, syscall.Errno(-code)) {
		t.Fatalf("errors.Is(%v, %v) is false", err, syscall.Errno(-code))
	}
	if pe.Func == "" || !strings.Contains(err.Error(), pe.Func) {
		t.Fatalf("error %q does not name the libpmem2 function", err)
	}
}

func errnoCode(e syscall.Errno) Code { return Code(-int(e)) }

// withoutDACOverride runs f on an OS thread of its own that lacks
// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so that file permissions apply
// even to root. Capabilities belong to the thread: the rest of the test
// binary keeps them, and the thread dies with the goroutine.
func withoutDACOverride(t testing.TB, f func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits afterwards
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		drop := uint32(1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH)
		data[0].Effective &^= drop
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("dropping CAP_DAC_OVERRIDE: %v", err)
	}
}
