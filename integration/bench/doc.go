// Package bench compares the speed of the Go port with the C libpmem2 it
// ports, side by side in one `go test -bench` run (`make bench`):
// pmem2.SourceFromFD against pmem2_source_from_fd (through the cgo binding
// internal/cref/clib) on the same descriptor, for
//
//	local-file           a regular file on local disk (t.TempDir)
//	fuse-file            a regular file on the FUSE fixture
//	fuse-devdax          Device DAX dax0.0 of the default FUSE fixture (O_PATH)
//	fuse-nocache-devdax  the same with every kernel cache off (fusefs NoCache):
//	                     each lookup and readlink is a FUSE round trip; served
//	                     by a child process, as a real FUSE daemon would be
//	                     (see server_test.go for why)
//	tmpfs-devdax         the same fixture tree materialized on a tmpfs (O_PATH)
//
// Each iteration makes a source and deletes it, on both sides. The C side
// runs its b.N iterations in one cgo call (clib.SourceFromFDLoop), so the
// cost of crossing into C is not charged to C.
//
// # How the C library sees the fake sysfs
//
// The C library hard-codes /sys. For the Device DAX cases each timed loop
// runs on a goroutine locked to its OS thread (runtime.LockOSThread, never
// unlocked, so the thread dies with the goroutine) that has unshared its
// mount namespace and file system attributes (CLONE_NEWNS|CLONE_FS), made /
// recursively private and bound the fixture's sys over /sys and its dev
// over /dev (libdaxctl, behind the C alignment check, looks the device up
// there). The Go side
// runs in the same kind of thread with pmem2.WithSysfsRoot("/sys"), so both
// resolve the same tree through the same mount. Before timing, both sides
// must classify the descriptor alike: same code, same type, same
// alignment (for Device DAX the nd_dax's align: C's through libndctl, Go's
// read directly). The C probe of internal/cref makes that check first,
// in a child process under the namespace runner: a crash of the C library
// inside this process would take the in-process FUSE server down with it
// and leave the mount hanging.
//
// On the FUSE cases the benchmarks also report fuse-calls/op: requests
// that reached the FUSE server per iteration (none once the kernel's
// caches are warm, unless they are off). BenchmarkClassifySteps times the
// pieces both calls are made of, to explain the ratios.
//
// BenchmarkEnumerate and BenchmarkEnumerateCold (enum_test.go) time the
// clients that enumerate sysfs — the C libpmem2 (pmem2_source_size and
// _alignment, pmem2_source_from_fd) through libndctl and libdaxctl under
// the namespace runner, `ndctl list -NRD` and `daxctl list -R`, and the
// port's Size and Alignment — on a fixture and on a tmpfs copy of its
// tree, alternating the two, and report the fuse/tmpfs ratio, warm and for
// the first call after Mount.
//
// Benchmarks need root (mount namespaces, tmpfs), FUSE, gcc, libpmem2-dev,
// ndctl and daxctl; a missing piece fails them with the remedy.
//
// The package has no non-test code; this file is its documentation.
package bench
