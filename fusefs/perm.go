package fusefs

import (
	"context"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Permission bits asked for, as in access(2).
const (
	wantRead  = 4
	wantWrite = 2
	wantExec  = 1
)

// allowed decides whether the caller of ctx may access e as want asks.
// The mount does not use default_permissions (so a getattr fault cannot
// make open fail), which leaves the check to us. Callers hold the index
// lock.
//
// Root bypasses the owner/group/other classes, except that, as in sysfs, a
// regular file opens for reading only if some r bit is set and for writing
// only if some w bit is set, and executes only with some x bit. Only the
// caller's primary group is known to FUSE, so supplementary groups do not
// count.
func allowed(ctx context.Context, e *entry, want uint32) bool {
	c, ok := fuse.FromContext(ctx)
	if !ok {
		return true
	}
	if c.Uid == 0 {
		if e.typ == TypeDir {
			return true
		}
		return !(want&wantRead != 0 && e.perm&0444 == 0 ||
			want&wantWrite != 0 && e.perm&0222 == 0 ||
			want&wantExec != 0 && e.perm&0111 == 0)
	}
	var bits uint32
	switch {
	case c.Uid == e.uid:
		bits = e.perm >> 6
	case c.Gid == e.gid:
		bits = e.perm >> 3
	default:
		bits = e.perm
	}
	return bits&7&want == want
}

// owner reports whether the caller may change e's attributes.
func owner(ctx context.Context, e *entry) bool {
	c, ok := fuse.FromContext(ctx)
	return !ok || c.Uid == 0 || c.Uid == e.uid
}

func isRoot(ctx context.Context) bool {
	c, ok := fuse.FromContext(ctx)
	return !ok || c.Uid == 0
}
