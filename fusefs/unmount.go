package fusefs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// unmount detaches dir, lazily when it is busy, and says whether it was.
func unmount(dir string) (busy bool, err error) {
	if os.Geteuid() != 0 {
		// fusermount3 says only in words why it failed: ask the mount
		// table whether the mount is still there.
		if err := runFusermount("-u", dir); err != nil {
			if !isOurMount(dir) {
				return false, nil // unmounted already (Unmount, CleanStale, by hand)
			}
			return true, runFusermount("-u", "-z", dir)
		}
		return false, nil
	}
	err = unix.Unmount(dir, 0)
	if errors.Is(err, unix.EBUSY) {
		busy, err = true, unix.Unmount(dir, unix.MNT_DETACH)
	}
	if errors.Is(err, unix.EINVAL) && !isOurMount(dir) {
		return busy, nil // unmounted already (Unmount, CleanStale, by hand)
	}
	return busy, err
}

// lazyUnmount detaches dir at once, whether or not it is busy or dead.
func lazyUnmount(dir string) error {
	if os.Geteuid() != 0 {
		return runFusermount("-u", "-z", dir)
	}
	return unix.Unmount(dir, unix.MNT_DETACH)
}

func runFusermount(args ...string) error {
	bin, err := fusermount()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// errCannotAbort is abortConnection's error for a user where the fuse
// control file system is not mounted: only root can mount it.
var errCannotAbort = errors.New("cannot abort the connection: /sys/fs/fuse/connections is not mounted, and only root can mount it")

// abortConnection ends connection conn through the fusectl file system:
// pending and future requests fail with ENOTCONN and the serve loop exits,
// even while descriptors stay open on a lazily detached mount. The abort
// file belongs to the user who mounted. Where fusectl is not mounted
// (containers), root mounts a private instance for the one write; any
// other user gets errCannotAbort.
func abortConnection(conn uint64) error {
	if conn == 0 {
		return errors.New("connection number unknown")
	}
	name := strconv.FormatUint(conn, 10)
	err := os.WriteFile(filepath.Join("/sys/fs/fuse/connections", name, "abort"), []byte("1"), 0)
	if err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		if errors.Is(err, fs.ErrNotExist) {
			return errCannotAbort
		}
		return err
	}
	tmp, terr := os.MkdirTemp("", "fusefs-fusectl-")
	if terr != nil {
		return errors.Join(err, terr)
	}
	defer os.Remove(tmp)
	if merr := unix.Mount("fusectl", tmp, "fusectl", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); merr != nil {
		return errors.Join(err, fmt.Errorf("mount fusectl: %w", merr))
	}
	defer unix.Unmount(tmp, unix.MNT_DETACH)
	return os.WriteFile(filepath.Join(tmp, name, "abort"), []byte("1"), 0)
}
