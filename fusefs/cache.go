package fusefs

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// What the kernel may keep, and how a node a rule watches (or every node,
// with NoCache) is kept out of it, is described once, in the package
// documentation (Kernel caching). This file holds the decisions; notify.go
// the invalidations that follow changes.

// pageSize is the unit of the kernel's page cache.
const pageSize = 4096

// kernelFeatures are the caching features the kernel offered at INIT, set
// by rawFS.Init before any other request is served.
type kernelFeatures struct {
	pageCache bool // AUTO_INVAL_DATA: file pages and listings may be cached
	noOpen    bool // KernelOpen, and the kernel supports no-open
	noOpendir bool // KernelOpen, and the kernel supports no-opendir
}

// uncached reports whether e must be served as if the kernel cached
// nothing of it: every call reaches the server. With no-open a file the
// server changed is too: its reads must never mix the new bytes with the
// size the kernel held before (see refreshAttr).
func (s *Server) uncached(e *entry) bool {
	return s.opts.NoCache || e.rules.Load() != nil || s.kernel.noOpen && e.changed.Load()
}

// uncachedFile is uncached for a regular file (nil or anything else:
// false).
func (s *Server) uncachedFile(e *entry) bool {
	return e != nil && e.typ == TypeFile && s.uncached(e)
}

// changed drops what the kernel cached of the node at p, whose content the
// server just changed. With no-open a file already kept out of the caches
// needs nothing: each read asks for it (refreshAttr), and a notification
// landing between the kernel's page read and the server's short answer
// would make the kernel keep the rounded-up size, and a reader see the
// content padded with zeros. A file cached until now is dropped with its
// entry, so that its next open gets an inode of its own (entryOut).
func (s *Server) changed(p string, typ NodeType, wasUncached bool) {
	if typ == TypeFile && s.kernel.noOpen {
		if wasUncached {
			return
		}
		s.invalidateEntry(p)
	}
	s.invalidateNode(p, true)
}

// dirOpen decides how a directory opens: the kernel keeps the listings of
// a directory no rule watches (FOPEN_CACHE_DIR) until a change drops them.
// With no-opendir it caches every listing; cached says so.
func (s *Server) dirOpen(e *entry) (openFlags uint32, cached bool) {
	if s.kernel.pageCache && !s.uncached(e) {
		return fuse.FOPEN_CACHE_DIR, true
	}
	return 0, s.opts.KernelOpen
}

// isRefresh reports whether the GETATTR of ctx carries a file handle
// (rawFS marks it): the kernel refreshing a file's attributes inside
// read(2), lseek(2) or write(2), which with AUTO_INVAL_DATA it does before
// every read once the attributes have expired. It is not a stat: not
// counted, no getattr rule.
func (s *Server) isRefresh(ctx context.Context) bool {
	c, ok := ctx.(*fuse.Context)
	if !ok {
		return false
	}
	_, ok = s.refreshing.Load(c.Cancel)
	return ok
}

// refreshAttr answers a refresh of a file's attributes (isRefresh). For
// a file kept out of the caches (attribute timeout zero, so every read
// comes here first) the reply makes the read that follows reach the
// server even through a descriptor that reads via the page cache (any,
// with KernelOpen): its mtime is a few nanoseconds off the last one, and
// its size is rounded up past the next page boundary, and either change
// makes the kernel drop the file's pages. The larger size also makes a
// read at the end of the file ask the server rather than answer EOF
// itself, and has the kernel read whole pages: the server's short answer,
// one snapshot of the content, gives the kernel the true size back, so a
// read never mixes one state's bytes with another's size. A stat gets the
// true attributes. (Dropping the pages with a notification instead would
// make the kernel discard the reply, and with it a changed size.)
func (s *Server) refreshAttr(e *entry, out *fuse.AttrOut) {
	s.idx.mu.RLock()
	fillAttr(e, &out.Attr)
	s.idx.mu.RUnlock()
	if s.uncached(e) {
		m := e.mtime.Add(time.Duration(1 + e.nudge.Add(1)%1000))
		out.Mtime, out.Mtimensec = uint64(m.Unix()), uint32(m.Nanosecond())
		out.Size = (out.Size/pageSize + 1) * pageSize
	}
	out.SetTimeout(s.attrTimeout(e))
}

// dropListing empties the kernel's listing cache of a directory kept out
// of the caches, when a listing went to a descriptor whose listings the
// kernel caches (one opened before the rule, or any with KernelOpen). A
// cached listing starts with a GETATTR (AUTO_INVAL_DATA), which comes here
// before the reply, so that the listing reaches the server.
func (s *Server) dropListing(e *entry) {
	if e.typ == TypeDir && s.uncached(e) && e.listed.Swap(false) {
		s.invalidateNode(e.path, true)
	}
}

// failedRead remembers the last read of a file through the page cache
// that a rule failed. The kernel sends such a read twice — as readahead,
// then once more for the page the caller waits on — and the second is the
// same system call: it gets the same answer, and is neither counted nor
// shown to the rules again.
type failedRead struct {
	p atomic.Pointer[readFailure]
}

type readFailure struct {
	pid      uint32
	off, end int64
	errno    syscall.Errno
	at       time.Time
}

// retryWindow bounds how long a failed read waits for its repeat, which
// the kernel sends at once: a read that was never repeated (another
// thread's read filled the page meanwhile) must not answer a later one.
const retryWindow = time.Second

func (f *failedRead) remember(ctx context.Context, off int64, n int, errno syscall.Errno) {
	if c, ok := fuse.FromContext(ctx); ok {
		f.p.Store(&readFailure{pid: c.Pid, off: off, end: off + int64(n), errno: errno, at: time.Now()})
	}
}

// forget drops a remembered failure: the rules changed.
func (f *failedRead) forget() { f.p.Store(nil) }

// retried returns the errno of the failed read that this one repeats, once,
// or 0.
func (f *failedRead) retried(ctx context.Context, off int64) syscall.Errno {
	if f.p.Load() == nil {
		return 0
	}
	r := f.p.Swap(nil)
	c, ok := fuse.FromContext(ctx)
	if r == nil || !ok || c.Pid != r.pid || off < r.off || off >= r.end || time.Since(r.at) > retryWindow {
		return 0
	}
	return r.errno
}
