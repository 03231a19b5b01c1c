package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fileNode serves a regular file. Files open with FOPEN_DIRECT_IO, so every
// read and write reaches the server, as in sysfs: rules and SetData show at
// once, and tools that read an attribute with one read() get its current
// bytes. With KernelOpen the kernel opens files itself, for reading
// through the page cache (see cache.go).
type fileNode struct {
	fs.Inode
	nodeBase
}

var (
	_ = (fs.InodeEmbedder)((*fileNode)(nil))
	_ = (fs.NodeOpener)((*fileNode)(nil))
	_ = (fs.NodeReader)((*fileNode)(nil))
	_ = (fs.NodeWriter)((*fileNode)(nil))
	_ = (fs.NodeFsyncer)((*fileNode)(nil))
	_ = (fs.NodeFlusher)((*fileNode)(nil))
	_ = (fs.NodeLseeker)((*fileNode)(nil))
)

// fileHandle marks an open file; its presence in Setattr tells a
// truncation through a descriptor (already checked by the kernel) from one
// by path. With no-open the kernel sends no handle.
type fileHandle struct{}

const seekData, seekHole = 3, 4

func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	s := f.srv
	if s.opts.KernelOpen {
		// A kernel without no-open support: neither counted nor
		// checked (see Options).
		return &fileHandle{}, fuse.FOPEN_DIRECT_IO, 0
	}
	if errno, _ := s.check(f.e, OpOpen); errno != 0 {
		return nil, 0, errno
	}
	var want uint32
	switch flags & syscall.O_ACCMODE {
	case syscall.O_RDONLY:
		want = wantRead
	case syscall.O_WRONLY:
		want = wantWrite
	default:
		want = wantRead | wantWrite
	}
	s.idx.mu.RLock()
	ok := allowed(ctx, f.e, want)
	s.idx.mu.RUnlock()
	if !ok {
		return nil, 0, syscall.EACCES
	}
	return &fileHandle{}, fuse.FOPEN_DIRECT_IO, 0
}

func (f *fileNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	cached := fh == nil // no handle: the kernel opened it (no-open), for the page cache
	if cached {
		if errno := f.e.failed.retried(ctx, off); errno != 0 {
			return nil, errno
		}
	}
	errno, short := f.srv.check(f.e, OpRead)
	if errno != 0 {
		if cached {
			f.e.failed.remember(ctx, off, len(dest), errno)
		}
		return nil, errno
	}
	if short > 0 && len(dest) > short {
		dest = dest[:short]
	}
	f.srv.idx.mu.RLock()
	n := f.e.data.readAt(dest, off)
	f.srv.idx.mu.RUnlock()
	return fuse.ReadResultData(dest[:n]), 0
}

func (f *fileNode) Write(ctx context.Context, _ fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	errno, short := f.srv.check(f.e, OpWrite)
	if errno != 0 {
		return 0, errno
	}
	if short > 0 && len(data) > short {
		data = data[:short]
	}
	if off < 0 || off+int64(len(data)) > 1<<62 {
		return 0, syscall.EFBIG
	}
	f.srv.idx.mu.Lock()
	f.e.data.writeAt(data, off)
	f.srv.idx.mu.Unlock()
	return uint32(len(data)), 0
}

func (f *fileNode) Fsync(ctx context.Context, _ fs.FileHandle, flags uint32) syscall.Errno {
	errno, _ := f.srv.check(f.e, OpFsync)
	return errno
}

// Flush answers ENOSYS, which tells the kernel never to send FLUSH again:
// there is nothing to flush.
func (f *fileNode) Flush(ctx context.Context, _ fs.FileHandle) syscall.Errno { return syscall.ENOSYS }

// Lseek answers SEEK_DATA and SEEK_HOLE as for a file without holes; the
// kernel handles the other whences itself.
func (f *fileNode) Lseek(ctx context.Context, _ fs.FileHandle, off uint64, whence uint32) (uint64, syscall.Errno) {
	f.srv.idx.mu.RLock()
	size := uint64(f.e.data.size)
	f.srv.idx.mu.RUnlock()
	switch {
	case off >= size && (whence == seekData || whence == seekHole && off > size):
		return 0, syscall.ENXIO
	case whence == seekData:
		return off, 0
	case whence == seekHole:
		return size, 0
	}
	return 0, syscall.EINVAL
}
