// Package integration is the end-to-end suite of pmem2emu: it drives the
// pmem2 package through real FUSE mounts and real file descriptors, never
// through mocks, and holds every path of SourceFromFD, Size, Alignment, FD,
// ReadAt, WriteAt and Delete to the code the C libpmem2 returns.
//
// The package has no code of its own; the tests are in package
// integration_test, one file per function under test:
//
//	sourcefromfd_test.go  TestSourceFromFD: every row of the manual page's ERRORS and of
//	                      libpmem2-behaviour.md (bad descriptors, O_WRONLY, every file type,
//	                      Device DAX in the bus and class models and without an NVDIMM bus),
//	                      then fstat, lookup and readlink faults, symlink loops, missing and
//	                      misspelt sysfs entries
//	size_test.go          TestSize: regular files, Device DAX, every malformed size file
//	                      written at runtime, read and open faults, a missing dax region
//	alignment_test.go     TestAlignment: the dax_region/align walk, every malformed form,
//	                      faults on the walk
//	fd_test.go            TestFD
//	readwrite_test.go     TestReadAt, TestWriteAt: pread/pwrite with EIO, other errnos and
//	                      short transfers; a Device DAX in device mode (backed by /dev/zero)
//	                      read and written through a mapping; NO_ACCESS; LENGTH_OUT_OF_RANGE
//	delete_test.go        TestDelete: nil, twice, use after delete
//	concurrency_test.go   TestConcurrentUse: one Source shared by many goroutines while
//	                      faults flip and a Delete races
//	helpers_test.go       fixtures, descriptors and assertions shared by the above
//
// Each test mounts its own fixture (package emulate, a few milliseconds) so
// that runtime changes — Fixture.WriteFile, SetNode, SetTarget, Remove,
// fault rules — never leak from one case to another. Assertions use
// pmem2.CodeOf (the value C returns), errors.Is with the pmem2 sentinels and
// with the syscall.Errno behind a -errno code, the words of the error message
// (the libpmem2 function, the failing step, the sysfs path) and, where they
// prove a call really reached the file system, fusefs's call counters.
//
// Where the suite says "as in C" about a Device DAX read or written in
// device mode, or about a sysfs tree no kernel writes, the expectation was
// measured with the C libpmem2 (PMDK 1.12.1) on the same emulated device
// through `pmem2emu exec --device-mode`.
//
// Run it as root on a machine with /dev/fuse (the Device DAX read and write
// tests need device mode, which only root gets):
//
//	make integration          # go test -race -count=1 ./integration/
//	go test -race -count=1 -run 'TestSize/.*newline' -v ./integration/
//
// Without FUSE the tests fail with the remedy (they never skip). Every mount
// is unmounted in t.Cleanup; `grep fuse.pmem2emu /proc/mounts` is empty
// after a run.
package integration
