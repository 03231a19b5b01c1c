package testutil

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// AbortConnection aborts the FUSE connection of the mount on dir, as an
// administrator would through the fuse control file system (a private
// instance, mounted on a temporary directory for the one write, so it
// works where /sys/fs/fuse/connections is not mounted; root only). Every
// request waiting on the connection ends with ENOTCONN and the mount
// stays behind, stale. It is the way out for a process that serves a
// mount, waits on it itself and is killed.
func AbortConnection(t testing.TB, dir string) {
	t.Helper()
	m := MountAt(t, dir)
	if m == nil {
		t.Fatalf("no mount at %s to abort", dir)
	}
	// fusectl names a connection by the mount's device number in the
	// kernel's own encoding (major<<20 | minor), not unix.Mkdev's.
	conn := strconv.FormatUint(uint64(m.Major)<<20|uint64(m.Minor), 10)
	ctl := t.TempDir()
	if err := unix.Mount("fusectl", ctl, "fusectl", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		t.Fatalf("mount fusectl on %s: %v", ctl, err)
	}
	defer unix.Unmount(ctl, unix.MNT_DETACH)
	if err := os.WriteFile(filepath.Join(ctl, conn, "abort"), []byte("1"), 0); err != nil {
		t.Fatalf("aborting the FUSE connection of %s: %v", dir, err)
	}
}
