package testutil

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// AbortConnection aborts the FUSE connection of the mount on dir, as an
// administrator would through the fuse control file system: the one on
// /sys/fs/fuse/connections, whose abort file the mounting user may write,
// or else a private instance mounted on a temporary directory for the one
// write (root only; see CanAbortFuse). Every
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
	if os.WriteFile(filepath.Join("/sys/fs/fuse/connections", conn, "abort"), []byte("1"), 0) == nil {
		return
	}
	ctl := t.TempDir()
	if err := unix.Mount("fusectl", ctl, "fusectl", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		t.Fatalf("mount fusectl on %s: %v", ctl, err)
	}
	defer unix.Unmount(ctl, unix.MNT_DETACH)
	if err := os.WriteFile(filepath.Join(ctl, conn, "abort"), []byte("1"), 0); err != nil {
		t.Fatalf("aborting the FUSE connection of %s: %v", dir, err)
	}
}

// CanAbortFuse reports whether this process can abort the FUSE
// connections it mounts: as root, or where the fuse control file system is
// mounted on /sys/fs/fuse/connections (whose abort files belong to the
// user who mounted). Anyone else — a normal user in a container, say —
// cannot, and a busy mount of theirs is detached and served until it is
// let go (see fusefs.Server.Close).
func CanAbortFuse(t testing.TB) bool {
	t.Helper()
	if os.Geteuid() == 0 {
		return true
	}
	m := MountAt(t, "/sys/fs/fuse/connections")
	return m != nil && m.FSType == "fusectl"
}
