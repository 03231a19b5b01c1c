package fusefs

import (
	"os"
	"path/filepath"
	"sync"
)

// prefetchMax is the largest file whose content Prefetch stores in the
// kernel's page cache: sysfs attributes are a few bytes; a large or
// sparse file is read when a client asks for it.
const prefetchMax = 64 << 10

// prefetchWalkers is how many directories Prefetch fills at once: each of
// its calls waits for a round trip, and several keep the server busy.
const prefetchWalkers = 8

// prefetch fills the kernel's caches before Mount returns (Options.
// Prefetch), walking the mount from this process one level at a time.
// Its calls are not counted.
func (s *Server) prefetch() {
	level := []string{"."}
	for len(level) > 0 {
		var (
			mu   sync.Mutex
			next []string
			wg   sync.WaitGroup
			work = make(chan string)
		)
		for range prefetchWalkers {
			wg.Go(func() {
				for d := range work {
					sub := s.prefetchDir(d)
					mu.Lock()
					next = append(next, sub...)
					mu.Unlock()
				}
			})
		}
		for _, d := range level {
			work <- d
		}
		close(work)
		wg.Wait()
		level = next
	}
	s.counts.reset()
}

// prefetchDir fills the caches for directory d and its children and
// returns the subdirectories to fill next. Listing d makes the kernel
// cache its children's entries and attributes (READDIRPLUS) and the
// listing; a stat after it refreshes the access time the listing left
// stale. With no-open each small file's content goes to the page cache
// with NOTIFY_STORE, which costs no round trip; link targets are read
// (the kernel refuses a stored target) and stated after, as d. Nodes a
// rule watches, and everything below a directory one watches, are left
// alone, so no rule fires.
func (s *Server) prefetchDir(d string) (next []string) {
	path := func(p string) string { return filepath.Join(s.dir, filepath.FromSlash(p)) }
	if _, err := os.ReadDir(path(d)); err != nil {
		return nil
	}
	os.Lstat(path(d))
	type kid struct {
		path string
		typ  NodeType
		data []byte // a small file's content, for the page cache
	}
	var kids []kid
	s.idx.mu.RLock()
	if e := s.idx.find(d); e != nil {
		for _, k := range e.kids {
			if s.uncached(k) {
				continue
			}
			c := kid{path: k.path, typ: k.typ}
			if k.typ == TypeFile && s.kernel.noOpen && k.data.size <= prefetchMax {
				c.data = make([]byte, k.data.size)
				k.data.readAt(c.data, 0)
			}
			kids = append(kids, c)
		}
	}
	s.idx.mu.RUnlock()
	for _, k := range kids {
		switch {
		case k.typ == TypeDir:
			next = append(next, k.path)
		case k.typ == TypeSymlink:
			os.Readlink(path(k.path))
			os.Lstat(path(k.path))
		case len(k.data) > 0:
			if in := s.inodeAt(k.path); in != nil {
				in.WriteCache(0, k.data)
			}
		}
	}
	return next
}
