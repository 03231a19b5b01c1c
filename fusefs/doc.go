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
// issue a getattr inside open(2), so a getattr fault would make open fail;
// KernelOpen is the exception, see Kernel caching).
// The server checks open, opendir, truncate and access(2) itself against the
// caller's uid and primary gid. Root bypasses the permission classes, but,
// as in sysfs, opens a regular file for reading only if some r bit is set
// and for writing only if some w bit is set. Path traversal is not checked.
//
// # Kernel caching
//
// The kernel caches entries, attributes, negative lookups and symlink
// targets (Options timeouts, one minute by default; targets in the page
// cache, EnableSymlinkCaching) and directory listings (FOPEN_CACHE_DIR), so
// a warm stat, lookup, readlink or listing does not reach the server.
// Regular files open with FOPEN_DIRECT_IO: every read and write reaches the
// server, as with sysfs attributes, and a Fault can fail or shorten any of
// them. FLUSH is answered ENOSYS once, so a close costs no round trip. Every
// change the server makes (Set, Remove, SetData, SetTarget) is followed,
// before it returns, by an invalidation of what it changed: NotifyEntry for
// names, NotifyContent for attributes, targets, file pages and the parent's
// listing (a file kept out of the caches with KernelOpen needs none: each
// of its reads asks the server); writes through the mount keep the
// kernel's copy in step themselves. So the very next system call of any
// process sees the change. Options.NoCache turns every cache off, for
// comparisons; Options.Prefetch fills them before Mount returns.
//
// With Options.KernelOpen the kernel opens files and directories without
// asking (FUSE's no-open and no-opendir support: OPEN and OPENDIR are
// answered ENOSYS once, and the kernel stops sending them, and FLUSH and
// RELEASE with them). Files are then read through the page cache, kept
// until a change drops it, and a client that opens, reads and lists
// hundreds of files costs no round trip once the caches are warm. In
// exchange: opens are neither counted nor checked, so rules on open are
// refused (ErrInvalidFault); the kernel checks the permission bits itself
// (default_permissions), so root opens every file, even one without r bits
// (which sysfs refuses), and a getattr rule on a node also fails its opens
// (the kernel asks for fresh attributes first); a short page read would look like the end of the
// file to the kernel, so rules that shorten reads are refused; a read at
// or past the end of a file no rule watches is answered by the kernel from
// the size it holds. A file the server changes at runtime is from then on
// kept out of the caches like a watched one (below), so that no read mixes
// its states. A kernel without no-open or without AUTO_INVAL_DATA opens
// through the server, for direct I/O, as without KernelOpen.
//
// A node matched by any fault rule (any operation), and every node with
// NoCache, is never served from the kernel's caches: its entry and
// attribute timeouts are zero (a zero timeout makes the kernel ask again on
// every access), a symlink with a readlink rule gets a fresh inode on each
// lookup (so its page cache is empty and every path walk reaches
// READLINK), missing names a rule watches are not cached as negative
// entries, its listings are not cached, and a rule that starts to watch a
// node drops what the kernel cached of it. READDIRPLUS fills the kernel's
// caches only for nodes without rules.
//
// A descriptor that lists or reads through the kernel's caches (a
// directory opened before the rule; with KernelOpen, every descriptor)
// reaches the server too, through two habits of the kernel. Before a
// cached listing starts it asks for the directory's attributes, and the
// server drops the cached listing before it answers (that GETATTR is
// counted as a getattr). Before a read through the page cache it refreshes
// the file's expired attributes (a GETATTR with a file handle, which is not
// a stat: not counted, no getattr rule). The reply's mtime, a few
// nanoseconds off the last one, and its size, rounded up past the next page
// boundary, make the kernel drop the file's pages and read whole pages from
// the server, even at the end of the file; the server's short answer, one
// snapshot of the content, gives it the true size back. Stat always shows
// the true attributes; lseek to the end of such a descriptor sees the
// rounded size. A page read that a rule fails is sent twice by the kernel
// (as readahead, then for the page the caller waits on); the second gets
// the same answer and is not counted again. With KernelOpen each lookup of
// such a file also gives a fresh inode, so that no two opens share pages or
// attributes; a path walk that finds the name cached then looks it up
// twice (both counted), and a file a lookup rule watches keeps its inode,
// so that the rule sees one lookup per walk.
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
// fusermount3 (apt-get install fuse3), which opens /dev/fuse with the
// user's own permissions: where the device is closed to the user (mode
// 0600, owner root) only root can use FUSE, and Mount says so, naming the
// mode and the remedy (ErrNoFuse). A user's AllowOther needs
// user_allow_other in /etc/fuse.conf, and their mount point must be
// writable to them, as fusermount3 demands. Options.DeviceMode drops nodev
// only when every device node is a harmless memory device (char 1:3 null,
// 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom), so a device node can be
// opened, and even mapped, while a fixture can never reach a real disk; it
// is root's (ErrNeedsRoot), since fusermount3 always mounts nodev for
// others.
//
// Mount refuses /, /sys, /dev, /proc and everything below them, a missing
// directory, a non-directory, a directory a live mount of ours serves, and
// a non-empty directory unless Options.Force. Close is idempotent, unmounts
// (lazily if busy) and waits for the serving goroutines, aborting the
// connection if it outlives a few seconds, so it never hangs. Aborting
// takes root, or, for the user who mounted, the fuse control file system
// on /sys/fs/fuse/connections (systemd mounts it; containers often do not).
// Where a user cannot abort, Close of a busy mount returns once it is
// detached, and whoever holds it is served until they let go; the reaper
// below detaches such a user's mounts but cannot free a process stuck on
// its own mount.
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
