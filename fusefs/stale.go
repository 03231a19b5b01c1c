package fusefs

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// staleProbe bounds the stat that tells a dead mount from a live one: a
// live server that hangs must not hang Stale.
const staleProbe = 2 * time.Second

// mountEntry is one mount of ours from /proc/self/mountinfo.
type mountEntry struct {
	point string // unescaped: the library undoes mountinfo's octal escapes (\040 for a space…)
	conn  uint64 // the connection's number under /sys/fs/fuse/connections
}

// ourMounts lists this package's mounts in this mount namespace, in the
// mount table's order (a mount stacked on another comes after it).
func ourMounts() ([]mountEntry, error) {
	infos, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("fuse." + fsType))
	if err != nil {
		return nil, err
	}
	out := make([]mountEntry, len(infos))
	for i, m := range infos {
		// The connection is named by the mount's anonymous device
		// number, the kernel's dev_t of major:minor.
		out[i] = mountEntry{point: m.Mountpoint, conn: uint64(m.Major)<<20 | uint64(m.Minor)}
	}
	return out, nil
}

// findMount is the topmost mount of ours on dir.
func findMount(dir string) (mountEntry, bool) {
	mounts, _ := ourMounts()
	for _, m := range slices.Backward(mounts) {
		if m.point == dir {
			return m, true
		}
	}
	return mountEntry{}, false
}

func isOurMount(dir string) bool {
	_, ok := findMount(dir)
	return ok
}

// Stale lists the mount points of this package's mounts whose server is
// gone: requests fail with ENOTCONN ("transport endpoint is not
// connected"), as they do once a server is killed, even with SIGKILL.
func Stale() ([]string, error) {
	mounts, err := ourMounts()
	if err != nil {
		return nil, fmt.Errorf("stale mounts: %w", err)
	}
	var out []string
	for _, m := range mounts {
		if dead(m.point) {
			out = append(out, m.point)
		}
	}
	return out, nil
}

// dead asks m's server with statfs, which always reaches it: stat may be
// answered from cached attributes even after the server died. The time
// limit keeps a hung live server from hanging the caller.
func dead(m string) bool {
	done := make(chan error, 1)
	go func() {
		var st unix.Statfs_t
		done <- unix.Statfs(m, &st)
	}()
	t := time.NewTimer(staleProbe)
	defer t.Stop()
	select {
	case err := <-done:
		return errors.Is(err, unix.ENOTCONN)
	case <-t.C:
		return false
	}
}

// CleanStale detaches every stale mount of this package (see Stale) and
// returns their mount points.
func CleanStale() ([]string, error) {
	stale, err := Stale()
	if err != nil {
		return nil, err
	}
	var errs []error
	var cleaned []string
	for _, m := range stale {
		if err := lazyUnmount(m); err != nil {
			errs = append(errs, &fs.PathError{Op: "unmount", Path: m, Err: err})
			continue
		}
		cleaned = append(cleaned, m)
	}
	return cleaned, errors.Join(errs...)
}

// Unmount unmounts a mount of this package at dir, whether its server is
// alive (in this process or another), dead, or busy (then lazily). A
// directory that holds no such mount is an error wrapping ErrNotMounted.
func Unmount(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return &fs.PathError{Op: "unmount", Path: dir, Err: err}
	}
	if parent, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(parent, filepath.Base(abs))
	}
	if !isOurMount(abs) {
		return &fs.PathError{Op: "unmount", Path: dir, Err: ErrNotMounted}
	}
	if dead(abs) {
		err = lazyUnmount(abs)
	} else {
		_, err = unmount(abs)
	}
	if err != nil {
		return &fs.PathError{Op: "unmount", Path: dir, Err: err}
	}
	return nil
}
