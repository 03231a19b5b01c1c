package fusefs

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// staleProbe bounds the stat that tells a dead mount from a live one: a
// live server that hangs must not hang Stale.
const staleProbe = 2 * time.Second

// mountEntry is one mount of ours from /proc/self/mountinfo.
type mountEntry struct {
	point string
	conn  uint64 // the connection's number under /sys/fs/fuse/connections
}

// ourMounts lists this package's mounts in this mount namespace.
func ourMounts() ([]mountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if sep < 5 || sep+1 >= len(fields) || fields[sep+1] != "fuse."+fsType {
			continue
		}
		m := mountEntry{point: unescapeMountinfo(fields[4])}
		var major, minor uint64
		if _, err := fmt.Sscanf(fields[2], "%d:%d", &major, &minor); err == nil {
			m.conn = major<<20 | minor // the kernel's dev_t, as fusectl names it
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func findMount(dir string) (mountEntry, bool) {
	mounts, _ := ourMounts()
	for _, m := range slices.Backward(mounts) {
		if m.point == dir {
			return m, true
		}
	}
	return mountEntry{}, false
}

// unescapeMountinfo undoes the octal escapes (\040 for a space…) of
// mountinfo fields.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
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
