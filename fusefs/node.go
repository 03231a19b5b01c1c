package fusefs

import (
	"fmt"
	"time"
)

// NodeType is the kind of a node: what lstat reports in st_mode's S_IFMT bits.
type NodeType uint8

const (
	TypeDir NodeType = iota + 1
	TypeFile
	TypeSymlink
	TypeFIFO
	TypeSocket
	TypeCharDev
	TypeBlockDev
)

var typeNames = [...]string{
	TypeDir:      "dir",
	TypeFile:     "file",
	TypeSymlink:  "symlink",
	TypeFIFO:     "fifo",
	TypeSocket:   "socket",
	TypeCharDev:  "char",
	TypeBlockDev: "block",
}

func (t NodeType) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("NodeType(%d)", uint8(t))
}

// ParseNodeType reads a type written as String writes it.
func ParseNodeType(s string) (NodeType, error) {
	for t, n := range typeNames {
		if n != "" && n == s {
			return NodeType(t), nil
		}
	}
	return 0, fmt.Errorf("unknown node type %q (want dir, file, symlink, fifo, socket, char or block)", s)
}

// NoPerm asks for permission bits 0000; a zero Mode means the type's default.
const NoPerm uint32 = 1 << 31

// Node is one declared file system object. The zero value of every field but
// Type is usable.
type Node struct {
	Type NodeType
	// Mode holds the permission bits (07777). Zero means the default for
	// the type: 0755 for directories and sockets, 0644 for files and
	// FIFOs, 0777 for symlinks, 0660 for devices. NoPerm means 0000.
	Mode     uint32
	UID, GID uint32
	// Mtime is reported as st_mtime; zero means the time of Mount.
	Mtime time.Time
	// Data is a regular file's content.
	Data []byte
	// Size, when larger than len(Data), makes the file Data followed by
	// zeros up to Size bytes, without storing the zeros: a 1 TiB file costs
	// no memory.
	Size int64
	// Major and Minor are a device node's st_rdev.
	Major, Minor uint32
	// Target is a symlink's target text, served verbatim: it may dangle
	// or loop.
	Target string
}

// Tree declares a file system as a map from slash-separated relative paths
// ("sys/dev/char/251:0") to nodes, like testing/fstest.MapFS. Parent
// directories are implied; declaring one explicitly sets its attributes.
// The key "." declares the root directory's attributes.
type Tree map[string]*Node

// Dir is a directory node with default attributes.
func Dir() *Node { return &Node{Type: TypeDir} }

// File is a regular file holding data.
func File(data string) *Node { return &Node{Type: TypeFile, Data: []byte(data)} }

// ZeroFile is a regular file of size zero bytes that costs no memory.
func ZeroFile(size int64) *Node { return &Node{Type: TypeFile, Size: size} }

// Symlink is a symbolic link to target.
func Symlink(target string) *Node { return &Node{Type: TypeSymlink, Target: target} }

// FIFO is a named pipe.
func FIFO() *Node { return &Node{Type: TypeFIFO} }

// Socket is a Unix socket node (nothing listens on it).
func Socket() *Node { return &Node{Type: TypeSocket} }

// CharDev is a character device node major:minor.
func CharDev(major, minor uint32) *Node {
	return &Node{Type: TypeCharDev, Major: major, Minor: minor}
}

// BlockDev is a block device node major:minor.
func BlockDev(major, minor uint32) *Node {
	return &Node{Type: TypeBlockDev, Major: major, Minor: minor}
}
