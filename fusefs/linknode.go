package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
)

// linkNode serves a symbolic link. With symlink caching the kernel keeps
// the target in the inode's page cache; SetTarget drops it (NotifyContent),
// and a readlink rule gives each lookup a fresh inode (see entryOut).
type linkNode struct {
	fs.Inode
	nodeBase
}

var (
	_ = (fs.InodeEmbedder)((*linkNode)(nil))
	_ = (fs.NodeReadlinker)((*linkNode)(nil))
)

func (l *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if errno, _ := l.srv.check(l.e, OpReadlink); errno != 0 {
		return nil, errno
	}
	l.srv.idx.mu.RLock()
	t := []byte(l.e.target)
	l.srv.idx.mu.RUnlock()
	return t, 0
}
