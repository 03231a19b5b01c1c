package fusefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// refused reports whether dir is one a test fixture must never cover: /,
// or /sys, /dev, /proc or anything below them (an empty /dev/shm is as
// much the system's as /dev).
func refused(dir string) bool {
	if dir == "/" {
		return true
	}
	for _, sys := range []string{"/sys", "/dev", "/proc"} {
		if dir == sys || strings.HasPrefix(dir, sys+"/") {
			return true
		}
	}
	return false
}

func refuse(dir, format string, args ...any) error {
	return &fs.PathError{Op: "mount", Path: dir, Err: fmt.Errorf("%w: "+format, append([]any{ErrMountpoint}, args...)...)}
}

// prepareMountpoint resolves dir and checks it can be mounted on: an
// existing directory, not /, nor /sys, /dev, /proc or below, not in use by a live
// mount of ours, and empty unless force. A stale mount of ours on dir (its
// server killed) is detached first, so the next run recovers by itself.
func prepareMountpoint(dir string, force bool) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", &fs.PathError{Op: "mount", Path: dir, Err: err}
	}
	if refused(abs) {
		return "", refuse(dir, "%s is a system directory", abs)
	}
	// Resolve the parent only: the last component may be a dead mount,
	// which cannot even be lstat'ed.
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", refuse(dir, "parent directory: %v", err)
	}
	mnt := filepath.Join(parent, filepath.Base(abs))
	// Stale mounts may be stacked, and a reaper may be detaching them at
	// the same time: look again after each step.
	for isOurMount(mnt) {
		if !dead(mnt) {
			if !isOurMount(mnt) {
				break
			}
			return "", refuse(dir, "already serving a pmem2emu mount")
		}
		if err := lazyUnmount(mnt); err != nil && isOurMount(mnt) && dead(mnt) {
			return "", refuse(dir, "cleaning stale mount: %v", err)
		}
	}
	if _, err := os.Lstat(mnt); errors.Is(err, syscall.ENOTCONN) {
		return "", refuse(dir, "%s is a dead mount that is not ours", mnt)
	}
	mnt, err = filepath.EvalSymlinks(mnt)
	if errors.Is(err, fs.ErrNotExist) {
		return "", refuse(dir, "directory does not exist")
	} else if err != nil {
		return "", refuse(dir, "%v", err)
	}
	if refused(mnt) {
		return "", refuse(dir, "%s is a system directory", mnt)
	}
	if isOurMount(mnt) { // reached through a symlink
		return "", refuse(dir, "%s already serves a pmem2emu mount", mnt)
	}
	fi, err := os.Stat(mnt)
	if err != nil {
		return "", refuse(dir, "%v", err)
	}
	if !fi.IsDir() {
		return "", refuse(dir, "not a directory")
	}
	if !force {
		f, err := os.Open(mnt)
		if err != nil {
			return "", refuse(dir, "%v", err)
		}
		_, err = f.Readdirnames(1)
		f.Close()
		if err != io.EOF {
			if err == nil {
				return "", refuse(dir, "directory is not empty (Options.Force mounts over it)")
			}
			return "", refuse(dir, "%v", err)
		}
	}
	return mnt, nil
}

// checkFuse makes sure this process can mount, so that a missing module,
// a container without the device, a device closed to the caller or a
// missing fusermount3 gives an error naming the remedy rather than a mount
// that fails later. Root mounts with mount(2), for which it opens
// /dev/fuse itself. Anyone else mounts through fusermount3, which opens
// /dev/fuse with the caller's own permissions (it drops to the caller's
// file system uid first, as every version since fuse 2 does): a device
// closed to the caller — mode 0600, owner root, as some hosts have it —
// makes FUSE root-only there, and no way round it exists without root.
func checkFuse(root bool) (err error) {
	if root {
		f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
		if err != nil {
			return fuseDeviceErr(err)
		}
		return f.Close()
	}
	var st unix.Stat_t
	if err := unix.Stat("/dev/fuse", &st); err != nil {
		return fuseDeviceErr(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return fmt.Errorf("%w: /dev/fuse is not a character device (mode %#o)", ErrNoFuse, st.Mode)
	}
	if err := unix.Access("/dev/fuse", unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("%w: /dev/fuse (mode %04o, owner %d:%d) is closed to uid %d: %v; fusermount3 opens it as you, "+
			"so only root can use FUSE on this machine (have an administrator make it 0666, the mode udev gives it "+
			"on Debian and most distributions, or run as root)",
			ErrNoFuse, st.Mode&0o7777, st.Uid, st.Gid, os.Getuid(), err)
	}
	_, err = fusermount()
	return err
}

func fuseDeviceErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: /dev/fuse does not exist (modprobe fuse; in a container, pass --device /dev/fuse)", ErrNoFuse)
	}
	return fmt.Errorf("%w: cannot open /dev/fuse: %v", ErrNoFuse, err)
}

// checkUserMount refuses, before fusermount3 is run, what fusermount3
// would refuse a user with a message on standard error and nothing but
// an exit status for us: a mount point the user cannot write to, and
// allow_other unless /etc/fuse.conf says user_allow_other.
func checkUserMount(dir string, allowOther bool) error {
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return refuse(dir, "fusermount3 mounts only on a directory you may write to: %v", err)
	}
	if allowOther && !userAllowOther("/etc/fuse.conf") {
		return &fs.PathError{Op: "mount", Path: dir,
			Err: fmt.Errorf("%w: AllowOther for a user other than root needs user_allow_other in /etc/fuse.conf", ErrNeedsRoot)}
	}
	return nil
}

// userAllowOther reports whether the fuse configuration file conf lets
// users mount with allow_other: a line "user_allow_other", as fusermount3
// reads it (leading and trailing blanks ignored, # starts a comment).
func userAllowOther(conf string) bool {
	b, err := os.ReadFile(conf)
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		l, _, _ = strings.Cut(l, "#")
		if strings.TrimSpace(l) == "user_allow_other" {
			return true
		}
	}
	return false
}

// fusermount finds fusermount3, which mounts for callers other than root.
func fusermount() (string, error) {
	if p, err := exec.LookPath("fusermount3"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/bin/fusermount3", "/usr/bin/fusermount3"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: fusermount3 not found, and only root can mount without it (apt-get install fuse3)", ErrNoFuse)
}
