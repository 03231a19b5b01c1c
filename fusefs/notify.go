package fusefs

import (
	"path"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
)

// The kernel caches entries, attributes, negative lookups and symlink
// targets for long timeouts; every change the server makes is followed by
// a notification that drops what changed, so the next system call sees it.
// Notifications are sent without holding any lock of ours: the kernel
// handles them under its own inode locks, which in-flight requests (served
// by handlers that take our locks) may hold.

// inodeAt returns the go-fuse inode the kernel may have cached for p, by
// following the children go-fuse recorded for the kernel's lookups; nil
// when the kernel knows no inode there.
func (s *Server) inodeAt(p string) *fs.Inode {
	if !s.live.Load() {
		return nil
	}
	in := s.rootNode.EmbeddedInode()
	if p == "." {
		return in
	}
	for _, name := range strings.Split(p, "/") {
		if in = in.GetChild(name); in == nil {
			return nil
		}
	}
	return in
}

// invalidateEntry drops the kernel's entry (positive or negative) for p,
// so the next path walk looks it up again.
func (s *Server) invalidateEntry(p string) {
	if p == "." {
		return
	}
	if dir := s.inodeAt(path.Dir(p)); dir != nil {
		s.logNotify("entry", p, dir.NotifyEntry(path.Base(p)))
	}
}

// invalidateNode drops the kernel's attributes of p and, with data, its
// page cache (a symlink's cached target; pages of a mapped file).
func (s *Server) invalidateNode(p string, data bool) {
	if in := s.inodeAt(p); in != nil {
		off := int64(-1) // attributes only
		if data {
			off = 0
		}
		s.logNotify("inode", p, in.NotifyContent(off, 0))
	}
}

func (s *Server) logNotify(kind, p string, errno syscall.Errno) {
	if s.opts.Debug && errno != 0 && errno != syscall.ENOENT {
		s.logf("notify %s %s: %v", kind, p, errno)
	}
}

// negatives records the missing paths the kernel was allowed to cache, so
// a rule installed later can drop them again.
type negatives struct {
	mu sync.Mutex
	m  map[string]struct{}
}

func (n *negatives) add(p string) {
	n.mu.Lock()
	if n.m == nil {
		n.m = make(map[string]struct{})
	}
	n.m[p] = struct{}{}
	n.mu.Unlock()
}

// take removes and returns the recorded paths for which fn is true.
func (n *negatives) take(fn func(string) bool) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for p := range n.m {
		if fn(p) {
			out = append(out, p)
			delete(n.m, p)
		}
	}
	return out
}
