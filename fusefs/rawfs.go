package fusefs

import (
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// hiddenKernelFeatures are INIT flags treated as not offered, so tests can
// see how a mount falls back on an older kernel.
var hiddenKernelFeatures atomic.Uint64

// rawFS stands between the kernel and go-fuse's node API for the requests
// that API cannot serve as the caches need (see cache.go):
//
//   - with KernelOpen, OPEN and OPENDIR are answered ENOSYS, which tells
//     the kernel to stop sending them (and RELEASE, RELEASEDIR);
//   - READDIR and READDIRPLUS without a handle (no-opendir) are served
//     through a handle opened for the one request, as go-fuse lists only
//     through handles;
//   - GETATTR with a file handle is the kernel refreshing a file's
//     attributes for its own reads, not a stat(2): it is marked, by the
//     request's cancel channel (which go-fuse hands to the node as
//     fuse.Context.Cancel), for the node that answers it (isRefresh).
type rawFS struct {
	fuse.RawFileSystem
	s *Server
}

// Init runs once the kernel's INIT is handled and before any other
// request: the features it offers decide which caches are used.
func (r *rawFS) Init(srv *fuse.Server) {
	offered := srv.KernelSettings().Flags64() &^ hiddenKernelFeatures.Load()
	k := &r.s.kernel
	// Without AUTO_INVAL_DATA a read from the page cache would not ask
	// for the attributes first, so a rule could not see it: no page or
	// listing cache at all then.
	k.pageCache = offered&fuse.CAP_AUTO_INVAL_DATA != 0
	k.noOpen = r.s.opts.KernelOpen && k.pageCache && offered&fuse.CAP_NO_OPEN_SUPPORT != 0
	k.noOpendir = r.s.opts.KernelOpen && k.pageCache && offered&fuse.CAP_NO_OPENDIR_SUPPORT != 0
	r.RawFileSystem.Init(srv)
}

func (r *rawFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if r.s.kernel.noOpen {
		return fuse.ENOSYS
	}
	return r.RawFileSystem.Open(cancel, in, out)
}

func (r *rawFS) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if r.s.kernel.noOpendir {
		return fuse.ENOSYS
	}
	return r.RawFileSystem.OpenDir(cancel, in, out)
}

func (r *rawFS) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return r.withDirHandle(cancel, in, func(in *fuse.ReadIn) fuse.Status {
		return r.RawFileSystem.ReadDir(cancel, in, out)
	})
}

func (r *rawFS) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return r.withDirHandle(cancel, in, func(in *fuse.ReadIn) fuse.Status {
		return r.RawFileSystem.ReadDirPlus(cancel, in, out)
	})
}

// withDirHandle runs list with in, or, when the kernel sent no handle
// (no-opendir), with a handle opened for this request and released after.
// A handle starts a listing at offset 0 and takes a fresh snapshot at any
// other offset (dirHandle.Seekdir).
func (r *rawFS) withDirHandle(cancel <-chan struct{}, in *fuse.ReadIn, list func(*fuse.ReadIn) fuse.Status) fuse.Status {
	if in.Fh != 0 {
		return list(in)
	}
	open := fuse.OpenIn{InHeader: in.InHeader, Flags: syscall.O_RDONLY}
	var opened fuse.OpenOut
	if st := r.RawFileSystem.OpenDir(cancel, &open, &opened); !st.Ok() {
		return st
	}
	defer r.RawFileSystem.ReleaseDir(&fuse.ReleaseIn{InHeader: in.InHeader, Fh: opened.Fh})
	with := *in
	with.Fh = opened.Fh
	return list(&with)
}

func (r *rawFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	if in.Flags()&fuse.FUSE_GETATTR_FH != 0 {
		r.s.refreshing.Store(cancel, struct{}{})
		defer r.s.refreshing.Delete(cancel)
	}
	return r.RawFileSystem.GetAttr(cancel, in, out)
}
