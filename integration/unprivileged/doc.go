// Package unprivileged runs pmem2emu the way a developer who is not root
// does — `pmem2emu check`, a Go test with an emutest fixture, and `pmem2emu
// exec` with a C program that maps an emulated Device DAX — as uid 65534,
// from a root CI run, with /dev/fuse as a desktop has it (0666) and as a
// host that keeps FUSE to root has it (0600):
//
//	go test -count=1 -v ./integration/unprivileged/     # as root (make unprivileged)
//
// # What is tried
//
//	mount_test.go    `pmem2emu mount`, `probe` and `umount` as each user
//	check_test.go    `pmem2emu check` as each user: with /dev/fuse open, every row's verdict
//	                 is root's but for the rows whose expectation depends on the caller, and
//	                 nothing fails; with /dev/fuse 0600, it fails at once naming the device,
//	                 its mode and the remedy. Nothing stays mounted either way.
//	fixture_test.go  TestAUsersFixtureTest, a Go test on an emutest.Start fixture, run as
//	                 each user: it opens and writes its data files, meets EACCES on root's
//	                 0600 file and on the 0400 dax_region/align, classifies a Device DAX; or,
//	                 with /dev/fuse 0600, fails with the remedy
//	exec_test.go     `pmem2emu exec --spec` with a Device DAX declared 1:5 and the C program
//	                 mapdax (internal/cref): as root and as each user, without device mode,
//	                 pmem2_map_new maps it at PAGE granularity; CACHE_LINE and BYTE need
//	                 PMEM2_FORCE_GRANULARITY; an O_PATH descriptor gets -EBADF
//
// # How
//
// testutil.User runs each command: the test binary starts itself again as
// root in a mount namespace of its own, binds a node of the FUSE device with
// the mode asked for over /dev/fuse there, becomes uid and gid 65534 and
// executes the command, which mounts through fusermount3 as any user does.
// The programs (the pmem2emu command, the C program, this test binary) are
// copies the user can execute. A command prints the pmem2emu mounts of its
// namespace as it ends, so that a mount left behind shows although the
// namespace dies with it.
//
// Switching users takes root: as any other user every test skips, saying
// so (testutil.RootOnly) — that user's own runs of `make check`, `make
// integration` and the unit tests are the real thing.
package unprivileged
