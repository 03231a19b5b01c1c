package fusefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// Materialize writes the tree into the real directory dir (created if
// missing): directories, files (a ZeroFile by truncation, so it stays
// sparse), symlinks, FIFOs, socket nodes and device nodes, with their
// modes, mtimes and, when run as root, owners. It serves "the same tree on
// tmpfs" comparisons: on tmpfs, which lists a directory newest first, the
// copy lists every directory in the mount's order (by name), so a client
// that enumerates does the same work on both.
//
// A device node outside the device-mode allow-list is written only when dir
// is on a nodev mount, so the copy can never open a real disk.
func (t Tree) Materialize(dir string) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0755); err != nil {
		return err
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		return &fs.PathError{Op: "materialize", Path: dir, Err: err}
	}
	nodev := sfs.Flags&unix.ST_NODEV != 0
	root := os.Geteuid() == 0

	dirs := []string{"."}
	for _, k := range creationOrder(t) {
		n := t[k]
		if n == nil {
			n = &Node{Type: TypeDir} // implied parent
		}
		if !nodev {
			if err := checkDevice("materialize", k, n); err != nil {
				return fmt.Errorf("%w (%s is not on a nodev mount)", err, dir)
			}
		}
		p := filepath.Join(dir, k)
		if err := create(p, n); err != nil {
			return &fs.PathError{Op: "materialize", Path: k, Err: err}
		}
		if n.Type == TypeDir {
			dirs = append(dirs, k)
			continue // attributes once the children are in
		}
		if err := setAttrs(p, n, root); err != nil {
			return &fs.PathError{Op: "materialize", Path: k, Err: err}
		}
	}
	// Deepest first, so creating children does not touch a parent's
	// mtime or need a permission its final mode withholds.
	for _, k := range slices.Backward(dirs) {
		n := t[k]
		if n == nil {
			continue
		}
		if err := setAttrs(filepath.Join(dir, k), n, root); err != nil {
			return &fs.PathError{Op: "materialize", Path: k, Err: err}
		}
	}
	return nil
}

// creationOrder lists the paths of t and their implied parents, parents
// before children and each directory's entries in reverse name order (see
// Materialize).
func creationOrder(t Tree) []string {
	kids := map[string][]string{}
	seen := map[string]bool{".": true}
	for k := range t {
		for p := k; !seen[p]; p = path.Dir(p) {
			seen[p] = true
			kids[path.Dir(p)] = append(kids[path.Dir(p)], p)
		}
	}
	var out []string
	var walk func(string)
	walk = func(d string) {
		ks := kids[d]
		slices.Sort(ks)
		for _, k := range slices.Backward(ks) {
			out = append(out, k)
		}
		for _, k := range ks {
			walk(k)
		}
	}
	walk(".")
	return out
}

func create(p string, n *Node) error {
	perm := n.perm()
	switch n.Type {
	case TypeDir:
		err := os.Mkdir(p, 0755)
		if errors.Is(err, fs.ErrExist) {
			if fi, serr := os.Lstat(p); serr == nil && fi.IsDir() {
				return nil
			}
		}
		return err
	case TypeFile:
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0600)
		if err != nil {
			return err
		}
		_, err = f.Write(n.Data)
		if err == nil && n.Size > int64(len(n.Data)) {
			err = f.Truncate(n.Size)
		}
		return errors.Join(err, f.Close())
	case TypeSymlink:
		return os.Symlink(n.Target, p)
	case TypeFIFO:
		return unix.Mkfifo(p, perm)
	case TypeSocket:
		return unix.Mknod(p, unix.S_IFSOCK|perm, 0)
	}
	return unix.Mknod(p, typeMode(n.Type)|perm, int(unix.Mkdev(n.Major, n.Minor)))
}

func setAttrs(p string, n *Node, root bool) error {
	if root {
		if err := os.Lchown(p, int(n.UID), int(n.GID)); err != nil {
			return err
		}
	}
	if n.Type != TypeSymlink {
		// After chown, which clears set-id bits.
		if err := unix.Chmod(p, n.perm()); err != nil {
			return err
		}
	}
	if n.Mtime.IsZero() {
		return nil
	}
	ts := unix.NsecToTimespec(n.Mtime.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}
