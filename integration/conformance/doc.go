// Package conformance holds the differential conformance suite: the Go
// port (package pmem2) against the real C libpmem2 (Debian's libpmem2-dev,
// PMDK 1.12.1) on the same paths, opened in the same modes, seeing the same
// emulated sysfs. Run it with `make conformance`, or
//
//	go test -count=1 -v -run TestConformance ./integration/conformance/
//
// # What is compared
//
// Every node of the default fixture (emulate.Default) in every open mode
// (r, w, rw, path) and every (path, mode) of its Checks; every node of a
// set of adversarial fixtures — broken sysfs trees built as specs whose
// nodes replace generated entries (dangling, looping, misdirected,
// misspelt subsystem links, dev/char entries that are files, directories
// or missing, chains of 40 and 41 symbolic links, failing readlink and
// lookup …); a healthy Device DAX reached through a node other than its
// /dev/<name>; and, when run as root, a fixture mounted in device mode whose
// Device DAX nodes really open (they are backed by /dev/zero), so the r,
// w and rw modes reach the library too.
//
// The C side is the probe of internal/cref, run under the fixture's
// namespace runner (the fake sysfs bound over /sys, which the C library
// hard-codes); the Go side is pmem2.SourceFromFD with
// pmem2.WithSysfsRoot(f.Sysfs()) in the test process. The open errno and
// the code of pmem2_source_from_fd must be identical everywhere. Where a
// source is made, pmem2_source_size and pmem2_source_alignment are compared
// too (codes, and values where the code is 0), on every fixture; each runs
// in its own probe process, so a crash in one hides nothing of the other.
//
// # As root and as a user
//
// Run as root, the suite runs twice: as root, then, with the same
// fixtures, as uid 65534 (nobody), the test binary started again in that
// user's name. That run mounts through fusermount3, and both sides run
// under the namespace runner in a user namespace, the Go side as a user's
// program would (this binary in a role of its own, on /sys), so the files
// the kernel makes 0400 (resource, dax_region/align) are closed to both.
// fusermount3 opens /dev/fuse with the caller's rights: where /dev/fuse is
// 0600, the run is started in a mount namespace of its own in which a
// /dev/fuse node of mode 0666 is bound over the host's, which keeps its
// mode. Device mode needs root, so that run has no device-mode fixture
// and its Device DAX nodes open in mode path only. Run as
// another user, the suite runs once, as that user. Each run ends with its
// summary line, "as root: N cases: …" and "as uid 65534: N cases: …".
//
// # Differences
//
// Both sides find a Device DAX's size and alignment by the same rules (the
// nd_dax's size and align, as libndctl reads them; see package pmem2), so
// every case must be identical, with two kinds of exception. Where the C
// library crashes (SIGSEGV: libndctl finds no namespace holding the device
// — a Device DAX outside any NVDIMM region, one libdaxctl leaves out, one
// without /dev node, an NVDIMM bus libndctl cannot find, a namespace whose
// holder names no nd_dax) the crash is recorded and Go must return what
// package pmem2 documents for it. And one glibc corner of classification
// (an intermediate path past PATH_MAX) makes C fail where the port does
// not. Each is a known difference: both the documented Go result and C's
// observed one are asserted, so a change on either side fails the suite,
// as does a difference nobody declared. The test prints a table of every
// case with both results and, per run, a summary line
// "N cases: N identical, N known differences, N C crashes".
//
// The package has no non-test code; this file is its documentation.
package conformance
