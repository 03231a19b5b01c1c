// Package cref runs the reference: the C libpmem2 (Debian's libpmem2-dev,
// PMDK 1.12.1) on a path opened the way the tests open it, so that every
// claim of "same code as C" is checked against C itself.
//
// The reference is one small C program, csrc/probe.c, embedded here. Build
// compiles it with gcc once per test binary; Run executes it — under a
// Runner such as *emulate.Fixture, whose Command puts the fixture's fake
// sysfs over /sys (the C library hard-codes /sys) — and parses what it
// printed into a Result:
//
//	probe := cref.Build(t)
//	r, err := cref.Run(f, probe, f.Path("dev/dax0.0"), "path", cref.StepSize)
//	// r.FromFD.RC, r.Size.RC, r.Size.Value, r.Signal …
//
// Steps lists what can be asked for after pmem2_source_from_fd: size,
// alignment, numa_node, device_id, usc and badblocks (the list is
// Result.BadBlockList).
//
// A second program, csrc/mapdax.c (BuildMapDAX), does what a C program does
// with a Device DAX it may open: pmem2_map_new at a chosen granularity,
// a store through the mapping, pwrite_mcsafe and pread_mcsafe. The
// unprivileged suite runs it under `pmem2emu exec` as root and as uid
// 65534.
//
// # Crashes
//
// The C library crashes (SIGSEGV in libndctl) on some inputs, a Device DAX
// outside any NVDIMM region among them. The probe prints one line per call,
// unbuffered, so everything before the crash is kept: Run returns the
// partial Result with Signal set and Crashed naming the call that was
// running, and no error. Run separate probes for calls whose results must
// not hide each other. Core dumps are switched off in the probe.
//
// # Running as another user
//
// A Runner that starts the probe as root with ProbeUIDEnv=N in its
// environment gets an unprivileged caller: the probe becomes user and
// group N (no supplementary groups, no capabilities) before it opens the
// path, inside whatever mount namespace the runner set up.
//
// # Errors
//
// Build fails the test (never skips it) with the command that installs
// what is missing: gcc, or libpmem2-dev for the header and library. Run
// returns an error only when the probe could not give an answer: a bad
// mode or step, a runner that cannot start it, an exit status other than
// 0 without a signal (the namespace runner exits 127 when its set-up
// fails), or output that does not parse. Its message carries the probe's
// standard error.
//
// The cgo binding of the same library, for benchmarks that call it in
// process, is the sub-package clib; this package itself needs no cgo.
package cref
