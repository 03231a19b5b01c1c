package fusefs

import (
	"io/fs"
	"path"
)

// Changes while mounted. Each one updates the index under its lock, then,
// with the lock released, drops what the kernel cached about the paths
// involved (see notify.go), so the very next system call sees the change.
// Do not call these from inside a FUSE request of the same mount.

func (s *Server) changeErr(op, p string) error {
	if !s.live.Load() && s.fuse != nil {
		return &fs.PathError{Op: op, Path: p, Err: ErrClosed}
	}
	return nil
}

// Set adds the node at path or replaces the one there; missing parents are
// created as default directories. A node of the same type is updated in
// place (a directory keeps its children, a file takes the new Data and
// Size, open descriptors see the change); a node of another type, or a
// device node with other numbers, replaces the old one and its subtree.
func (s *Server) Set(path string, n *Node) error {
	p, err := apiPath("set", path)
	if err != nil {
		return err
	}
	if err := validateNode("set", p, n); err != nil {
		return err
	}
	if s.opts.DeviceMode {
		if err := checkDevice("set", p, n); err != nil {
			return err
		}
	}
	if err := s.changeErr("set", p); err != nil {
		return err
	}
	s.idx.mu.Lock()
	wasUncached := s.uncachedFile(s.idx.find(p))
	res, err := s.idx.set(p, n)
	s.idx.mu.Unlock()
	if err != nil {
		return err
	}
	if res.top != "" {
		s.invalidateEntry(res.top)
		s.invalidateNode(parentOf(res.top), true) // st_nlink, and its listing
	}
	if res.inPlace {
		s.changed(p, n.Type, wasUncached)
	}
	return nil
}

// Remove removes the node at path and its subtree.
func (s *Server) Remove(path string) error {
	p, err := apiPath("remove", path)
	if err != nil {
		return err
	}
	if p == "." {
		return invalid("remove", p, "the root cannot be removed")
	}
	if err := s.changeErr("remove", p); err != nil {
		return err
	}
	s.idx.mu.Lock()
	e := s.idx.find(p)
	if e != nil {
		s.idx.remove(e)
	}
	s.idx.mu.Unlock()
	if e == nil {
		return &fs.PathError{Op: "remove", Path: p, Err: fs.ErrNotExist}
	}
	s.invalidateEntry(p)
	s.invalidateNode(parentOf(p), true)
	return nil
}

// SetData replaces a regular file's content; its size becomes len(data).
func (s *Server) SetData(path string, data []byte) error {
	return s.update("setdata", path, TypeFile, func(e *entry) {
		e.data = newContent(data, 0)
		e.changed.Store(true)
	})
}

// SetTarget changes a symlink's target.
func (s *Server) SetTarget(path, target string) error {
	if err := validateNode("settarget", path, &Node{Type: TypeSymlink, Target: target}); err != nil {
		return err
	}
	return s.update("settarget", path, TypeSymlink, func(e *entry) {
		e.target = target
	})
}

func (s *Server) update(op, path string, want NodeType, fn func(*entry)) error {
	p, err := apiPath(op, path)
	if err != nil {
		return err
	}
	if err := s.changeErr(op, p); err != nil {
		return err
	}
	s.idx.mu.Lock()
	e := s.idx.find(p)
	wasUncached := s.uncachedFile(e)
	switch {
	case e == nil:
		err = &fs.PathError{Op: op, Path: p, Err: fs.ErrNotExist}
	case e.typ != want:
		err = invalid(op, p, "is a %s, not a %s", e.typ, want)
	default:
		fn(e)
	}
	s.idx.mu.Unlock()
	if err == nil {
		s.changed(p, want, wasUncached)
	}
	return err
}

// Node returns a copy of the node at path as it is served now (writes
// through the mount included), or false if there is none. For a file, Data
// holds the bytes up to the last stored one and Size the file size; the
// mode is the permission bits, NoPerm for 0000.
func (s *Server) Node(path string) (Node, bool) {
	p, err := apiPath("node", path)
	if err != nil {
		return Node{}, false
	}
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	e := s.idx.find(p)
	if e == nil {
		return Node{}, false
	}
	return e.node(), true
}

func parentOf(p string) string { return path.Dir(p) }
