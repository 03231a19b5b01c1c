package fusefs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"syscall"
)

// Limits the kernel puts on names and symlink targets.
const (
	maxNameLen   = 255
	maxTargetLen = 4095
	maxMajor     = 1<<12 - 1
	maxMinor     = 1<<20 - 1
)

// Validate reports every problem that would keep the tree from being
// served, each error naming the path: paths must be clean, relative, free of
// ".." and of names longer than 255 bytes; a declared ancestor must be a
// directory; each node must be valid for its type (see Node).
func (t Tree) Validate() error {
	_, err := t.validate()
	return err
}

// validate also returns the paths sorted, parents before their children.
func (t Tree) validate() ([]string, error) {
	keys := slices.Sorted(maps.Keys(t))
	var errs []error
	for _, k := range keys {
		if err := checkPath("validate", k); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := validateNode("validate", k, t[k]); err != nil {
			errs = append(errs, err)
			continue
		}
		for a := k; ; {
			i := strings.LastIndexByte(a, '/')
			if i < 0 {
				break
			}
			a = a[:i]
			if n := t[a]; n != nil && n.Type != TypeDir {
				errs = append(errs, invalid("validate", k, "parent %s is a %s, not a dir", a, n.Type))
				break
			}
		}
	}
	return keys, errors.Join(errs...)
}

func invalid(op, p, format string, args ...any) error {
	return &fs.PathError{Op: op, Path: p, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidNode}, args...)...)}
}

// checkPath accepts "." (the root) and clean relative slash paths.
func checkPath(op, p string) error {
	if msg := pathProblem(p); msg != "" {
		return invalid(op, p, "%s", msg)
	}
	return nil
}

func pathProblem(p string) string {
	switch {
	case p == ".":
		return ""
	case p == "":
		return `empty path (the root is ".")`
	case strings.HasPrefix(p, "/"):
		return "absolute path (want one relative to the mount)"
	case path.Clean(p) != p:
		return fmt.Sprintf("path is not clean (want %q)", path.Clean(p))
	case strings.IndexByte(p, 0) >= 0:
		return "path holds a NUL byte"
	}
	for rest := p; rest != ""; {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		if c == ".." {
			return `path escapes the root with ".."`
		}
		if len(c) > maxNameLen {
			return fmt.Sprintf("name %.20q… is %d bytes, over the limit of %d", c, len(c), maxNameLen)
		}
	}
	return ""
}

// apiPath turns a path given to a Server method into the form of Tree keys:
// a leading slash is dropped and "" names the root.
func apiPath(op, p string) (string, error) {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		p = "."
	}
	return p, checkPath(op, p)
}

func validateNode(op, p string, n *Node) error {
	if n == nil {
		return invalid(op, p, "nil node")
	}
	if n.Type < TypeDir || n.Type > TypeBlockDev {
		return invalid(op, p, "unknown node type %d", n.Type)
	}
	if n.Mode != NoPerm && n.Mode&^uint32(07777) != 0 {
		return invalid(op, p, "mode %#o has bits outside 07777 (use NoPerm for 0000)", n.Mode)
	}
	if p == "." && n.Type != TypeDir {
		return invalid(op, p, "the root must be a dir, not a %s", n.Type)
	}
	isFile, isLink := n.Type == TypeFile, n.Type == TypeSymlink
	isDev := n.Type == TypeCharDev || n.Type == TypeBlockDev
	switch {
	case !isFile && (len(n.Data) > 0 || n.Size != 0):
		return invalid(op, p, "a %s has no data or size", n.Type)
	case n.Size < 0:
		return invalid(op, p, "negative size %d", n.Size)
	case !isLink && n.Target != "":
		return invalid(op, p, "a %s has no target", n.Type)
	case isLink && n.Target == "":
		return invalid(op, p, "empty symlink target")
	case isLink && len(n.Target) > maxTargetLen:
		return invalid(op, p, "symlink target is %d bytes, over the limit of %d", len(n.Target), maxTargetLen)
	case isLink && strings.IndexByte(n.Target, 0) >= 0:
		return invalid(op, p, "symlink target holds a NUL byte")
	case !isDev && (n.Major != 0 || n.Minor != 0):
		return invalid(op, p, "a %s has no major:minor", n.Type)
	case n.Major > maxMajor || n.Minor > maxMinor:
		return invalid(op, p, "device %d:%d out of range (major ≤ %d, minor ≤ %d)", n.Major, n.Minor, maxMajor, maxMinor)
	}
	return nil
}

// perm resolves Mode to the permission bits served.
func (n *Node) perm() uint32 {
	switch {
	case n.Mode == NoPerm:
		return 0
	case n.Mode != 0:
		return n.Mode & 07777
	}
	switch n.Type {
	case TypeDir, TypeSocket:
		return 0755
	case TypeSymlink:
		return 0777
	case TypeCharDev, TypeBlockDev:
		return 0660
	}
	return 0644
}

// typeMode is the S_IFMT bits of a node type.
func typeMode(t NodeType) uint32 {
	switch t {
	case TypeDir:
		return syscall.S_IFDIR
	case TypeSymlink:
		return syscall.S_IFLNK
	case TypeFIFO:
		return syscall.S_IFIFO
	case TypeSocket:
		return syscall.S_IFSOCK
	case TypeCharDev:
		return syscall.S_IFCHR
	case TypeBlockDev:
		return syscall.S_IFBLK
	}
	return syscall.S_IFREG
}
