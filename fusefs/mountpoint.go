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

// checkFuseDevice makes sure /dev/fuse exists and opens, so that a missing
// module or a container without the device gives a clear error.
func checkFuseDevice() error {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: /dev/fuse does not exist (modprobe fuse; in a container, pass --device /dev/fuse)", ErrNoFuse)
	} else if err != nil {
		return fmt.Errorf("%w: cannot open /dev/fuse: %v", ErrNoFuse, err)
	}
	return f.Close()
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
