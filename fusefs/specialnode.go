package fusefs

import "github.com/hanwen/go-fuse/v2/fs"

// specialNode serves a FIFO, a socket or a device node. The kernel opens
// these itself (a pipe, a socket, the device driver): no open, read or
// write reaches the server. On a nodev mount, opening a device fails with
// EACCES; O_PATH works.
type specialNode struct {
	fs.Inode
	nodeBase
}

var _ = (fs.InodeEmbedder)((*specialNode)(nil))
