// Package fusefs serves a tree of declared nodes through a real kernel FUSE
// mount, with fault injection, call counters and kernel caching.
//
// A Tree is a map from slash paths to nodes, as easy to write as a
// testing/fstest.MapFS literal; parent directories are implied:
//
//	srv, err := fusefs.Mount(dir, fusefs.Tree{
//		"devices/widget0/size": fusefs.File("4096\n"),
//		"devices/widget0/data": fusefs.ZeroFile(1 << 40), // 1 TiB, no memory
//		"bus/widget/devices/widget0": fusefs.Symlink("../../../devices/widget0"),
//		"dev/widget0": fusefs.CharDev(1, 5),
//	}, nil)
//	defer srv.Close()
//
// Nodes are directories, regular files, symlinks (any target text,
// dangling or looping), FIFOs, sockets and character or block devices of
// any major:minor, each with permission bits, owner and mtime. Files are
// writable when their mode allows and st_size follows writes and
// truncation. The tree can change while mounted (Set, Remove, SetData,
// SetTarget); the namespace cannot be changed through the mount (create
// fails with EACCES, mkdir, unlink, rename and the like with EPERM).
//
// # Permissions
//
// The mount does not use default_permissions (with it, the kernel would
// issue a getattr inside open(2), so a getattr fault would make open fail).
// The server checks open, opendir, truncate and access(2) itself against the
// caller's uid and primary gid. Root bypasses the permission classes, but,
// as in sysfs, opens a regular file for reading only if some r bit is set
// and for writing only if some w bit is set. Path traversal is not checked.
//
// # Kernel caching
//
// Entries, attributes, negative lookups and symlink targets are cached by
// the kernel (Options timeouts, one minute by default; symlink targets in
// the page cache, EnableSymlinkCaching), so a warm stat, lookup or readlink
// does not reach the server. Every change the server makes is followed by an
// invalidation (NotifyEntry for names, NotifyContent for attributes and
// cached targets), so the very next system call sees it. Regular files open
// with FOPEN_DIRECT_IO: every read and write reaches the server, as with
// sysfs attributes. Options.NoCache turns every cache off, for comparisons.
//
// A node matched by any fault rule (any operation) is never served from
// the kernel's caches: its entry and attribute timeouts are zero (a zero
// timeout makes the kernel ask again on every access), a symlink with a
// readlink rule gets a fresh inode on each lookup (so its page cache is
// empty and every path walk reaches READLINK), missing names a rule watches
// are not cached as negative entries, and installing a rule drops what the
// kernel cached about the nodes it matches. READDIRPLUS fills the kernel's
// caches only for nodes without rules.
//
// # Faults
//
// A Fault makes matching calls fail with an errno, transfer fewer bytes
// (Short, for read and write) or run slow (Delay); After, Times and
// Probability with Seed select which calls, reproducibly. Paths are exact
// or globs ("devices/*/size", "**/uevent"); a lookup rule applies to names
// that do not exist too. Rules are given at Mount (Options.Faults) or
// changed at runtime (AddFault, SetFaults, ClearFaults). The operations are
// checked where the kernel sends them: lookup on LOOKUP, getattr on GETATTR
// (stat, fstat), open on OPEN and OPENDIR, read and write on each READ and
// WRITE, readlink on READLINK (readlink(2), and every path walk through the
// link), readdir once per listing (opendir or rewind, then the first
// getdents), fsync on FSYNC and FSYNCDIR, setattr on SETATTR (truncate,
// ftruncate, O_TRUNC, chmod, chown, utimes). Rules on FIFOs, sockets and
// devices can only fail lookup, getattr and setattr: the kernel opens them.
//
// Every call that reaches the server is counted per path and operation,
// faulted or not (Calls, CallCounts, ResetCalls).
//
// # Mounts
//
// Mount mounts nodev,nosuid and private (no allow_other) unless Options
// say otherwise. Root mounts with mount(2); other users go through
// fusermount3 (apt-get install fuse3). Options.DeviceMode drops nodev only
// when every device node is a harmless memory device (char 1:3 null, 1:5
// zero, 1:7 full, 1:8 random, 1:9 urandom), so a device node can be opened,
// and even mapped, while a fixture can never reach a real disk.
//
// Mount refuses /, /sys, /dev, /proc and everything below them, a missing
// directory, a non-directory, a directory a live mount of ours serves, and
// a non-empty directory unless Options.Force. Close is idempotent, unmounts
// (lazily if busy) and waits for the serving goroutines, aborting the
// connection if it outlives a few seconds, so it never hangs.
//
// A process that dies without Close — SIGKILL, os.Exit, a test timeout —
// is cleaned up after by its reaper, a copy of the program started with the
// first Mount that aborts the dead process's connections and detaches its
// mounts (see reaper.go; PMEM2EMU_REAPER=off disables it). Without a
// reaper, such a mount stays stale, every access failing with ENOTCONN:
// Stale finds such mounts, and CleanStale, Unmount and a new Mount on the
// same directory detach them.
//
// Serving and calling from one process works (tests do it); while a mount
// is live, a goroutine waits on a ticker so that a garbage collection can
// never wait long on a FUSE reader blocked in read(2) (see sysmon.go).
//
// # Errors
//
// Errors name the path and the operation (most are *fs.PathError) and
// wrap a sentinel for errors.Is: ErrInvalidNode, ErrInvalidFault,
// ErrMountpoint, ErrDeviceNotAllowed, ErrNoFuse, ErrNeedsRoot,
// ErrNotMounted, ErrClosed, or fs.ErrNotExist for a path with no node.
//
// The package knows nodes, modes, device numbers, faults and mounts; what
// the tree means is up to its caller.
package fusefs
