package nsrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// devEntry is one name of the private /dev and where it comes from.
type devEntry struct {
	name string
	src  string // the source path, for messages
	fd   int    // O_PATH handle on the source; -1 for a symbolic link
	dir  bool
	link string // a symbolic link's target
}

// devPlan is the content of the private /dev, sorted by name, with every
// source already open: building it needs no path outside /dev.
type devPlan []devEntry

// planDev opens the entries of dev, the host's /dev/zero for each name of
// zero and the host's basics that neither replaces, and adds the standard
// links.
func planDev(dev string, zero []string) (plan devPlan, err error) {
	defer func() {
		if err != nil {
			plan.close()
			plan = nil
		}
	}()
	taken := map[string]bool{}
	// add plans the entry from of the directory dirfd (dir in messages)
	// as name, unless an earlier source took the name; optional leaves
	// out an entry the directory does not have.
	add := func(dirfd int, dir, from, name string, optional bool) error {
		if taken[name] {
			return nil
		}
		e, err := planEntry(dirfd, dir, from)
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil // the host has none: neither has the command
		}
		if err != nil {
			return err
		}
		e.name = name
		plan = append(plan, e)
		taken[name] = true
		return nil
	}
	host, err := openPath("/dev", unix.O_DIRECTORY)
	if err != nil {
		return plan, err
	}
	defer unix.Close(host)
	for _, name := range zero {
		if err := add(host, "/dev", "zero", name, false); err != nil {
			return plan, err
		}
	}
	if dev != "" {
		names, err := readNames(dev)
		if err != nil {
			return plan, err
		}
		dfd, err := openPath(dev, unix.O_DIRECTORY)
		if err != nil {
			return plan, err
		}
		defer unix.Close(dfd)
		for _, name := range names {
			if err := add(dfd, dev, name, name, false); err != nil {
				return plan, err
			}
		}
	}
	for _, name := range basics {
		if err := add(host, "/dev", name, name, true); err != nil {
			return plan, err
		}
	}
	for _, l := range links {
		if !taken[l.name] {
			plan = append(plan, devEntry{name: l.name, fd: -1, link: l.target})
		}
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].name < plan[j].name })
	return plan, nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// planEntry opens name in the directory dirfd (called dir in messages). A
// symbolic link is read rather than opened: it is copied, not bound.
func planEntry(dirfd int, dir, name string) (devEntry, error) {
	src := filepath.Join(dir, name)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return devEntry{}, &fs.PathError{Op: "lstat", Path: src, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		target, err := readlinkat(dirfd, name)
		if err != nil {
			return devEntry{}, &fs.PathError{Op: "readlink", Path: src, Err: err}
		}
		return devEntry{name: name, src: src, fd: -1, link: target}, nil
	}
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return devEntry{}, &fs.PathError{Op: "open", Path: src, Err: err}
	}
	return devEntry{name: name, src: src, fd: fd, dir: st.Mode&unix.S_IFMT == unix.S_IFDIR}, nil
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// build mounts a tmpfs over /dev and fills it: a link for each link, and
// for everything else a placeholder (an empty directory or file) with the
// source bound on it. The tmpfs itself is nodev: only the bound nodes,
// which keep their own mounts' flags, can be opened as devices.
func (p devPlan) build() error {
	if err := unix.Mount("tmpfs", "/dev", "tmpfs",
		unix.MS_NODEV|unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755"); err != nil {
		return fmt.Errorf("mount a tmpfs on /dev: %w", err)
	}
	for _, e := range p {
		dst := "/dev/" + e.name
		if e.fd < 0 {
			if err := unix.Symlink(e.link, dst); err != nil {
				return fmt.Errorf("link %s to %s: %w", dst, e.link, err)
			}
			continue
		}
		if err := placeholder(dst, e.dir); err != nil {
			return fmt.Errorf("create %s: %w", dst, err)
		}
		if err := bind(e.fd, dst); err != nil {
			return fmt.Errorf("bind %s onto %s: %w", e.src, dst, err)
		}
	}
	return nil
}

func placeholder(p string, dir bool) error {
	if dir {
		return unix.Mkdir(p, 0o755)
	}
	fd, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func (p devPlan) close() {
	for _, e := range p {
		if e.fd >= 0 {
			unix.Close(e.fd)
		}
	}
}
