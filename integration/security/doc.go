// Package security holds pmem2emu to its safety promises from the
// outside — through package emulate, the pmem2 library and the built
// pmem2emu binary — and feeds the library sysfs content and descriptors
// designed to hurt it.
//
//	go test -count=1 -v ./integration/security/     # as root
//
// # What is tried
//
//	device_test.go      device mode refuses a block device 8:0 and a char device 10:237
//	                    (at mount, at runtime, through the CLI), naming the node; the
//	                    device-mode mount is still nosuid
//	mountopts_test.go   default mounts are nodev,nosuid and private: a process running as
//	                    uid 65534 gets EACCES on the mount; with AllowOther (or
//	                    `pmem2emu mount --allow-other`) it gets in, and file modes still hold
//	mountpoint_test.go  /, /sys, /dev, /proc (also spelled with a trailing slash, through
//	                    "..", through a symlink), a file and a non-empty directory are refused
//	                    with an error naming the directory; Force and --force mount over a
//	                    non-empty directory
//	isolation_test.go   Fixture.Command and `pmem2emu exec` leave the mount table, /dev and
//	                    /sys as they found them, with a control that proves a leak would show
//	hostile_test.go     the hostile sysfs list: a FIFO (empty, held by a writer, holding data),
//	                    a char and a block device node, a 1 GiB file, non-UTF-8 bytes, a
//	                    directory, a file without read permission, a socket, symlink loops and
//	                    40/41-link chains, names at NAME_MAX and paths at PATH_MAX, in place of
//	                    the nd_dax's size and align, the device's size or the subsystem link;
//	                    each call bounded by a timeout; the 1 GiB size file measured not to
//	                    allocate
//	descriptors_test.go descriptor numbers reused after close (by a file of another type) and
//	                    descriptors closed or replaced by another goroutine during the call
//
// Most single hostile inputs are also covered, one by one and without a
// time bound, by pmem2's unit tests on tmpfs (sysfs_test.go,
// classify_test.go) and by ./integration (size_test.go, alignment_test.go,
// sourcefromfd_test.go); hostile_test.go puts the whole list in one
// table with a bound on every call and adds what was missing.
//
// # Doing no harm when a check regresses
//
// Tests that expect a refusal to mount on /, /sys, /dev or /proc run the
// attempt in a child process in a private mount namespace (the test binary
// re-executed with CLONE_NEWNS, or `unshare -m` for the CLI), so a
// regression that mounted anyway would cover only that namespace's view.
// The namespace-runner check runs in a namespace of its own whose mounts
// are shared in fresh peer groups, so that a mount escaping a command's
// namespace would show there — on a host whose mounts are private, as in
// many containers, it would not show in the host's table at all.
//
// It needs root (uid switches, device mode, namespaces) and /dev/fuse;
// without them it fails with the remedy.
package security
