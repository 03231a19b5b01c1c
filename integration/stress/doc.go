// Package stress loads one emulated Device DAX fixture from 64 goroutines
// while the fixture changes under them, and holds every result to what the
// fixture allowed at the time (`make stress`, 60 s; `make stress-short`, part
// of `make test`, 5 s):
//
//	go test -race -count=1 -run TestStress -v ./integration/stress/ -stress.duration=60s
//
// # What runs
//
// One fixture in device mode (root only): Device DAX dax0.0 as char 1:5, so
// ReadAt really maps /dev/zero, and a regular file data/small. 64 workers
// call, at random, SourceFromFD (then Delete), Size, Alignment and ReadAt on
// both, through two shared Sources and fresh ones. One flipper goroutine
// meanwhile changes one thing at a time: ClearFaults, AddFault of one of six
// EIO rules (the device's and the file's getattr, the read of the nd_dax's
// size, of its align and of the file, the subsystem link's readlink),
// SetFaults to a random subset of them, or WriteFile of the nd_dax's size or
// align (the files the C library reads, through libndctl) with a valid value
// or a malformed one (no newline, a word, overflow, non-UTF-8 bytes, an empty
// file, a value that is no power of two).
//
// # The oracle
//
// Every change is logged as the full state after it, and bracketed by two
// counters: started (the change may be visible from now on) and finished
// (it is). A worker reads finished before its call and started after it:
// the states in force during the call are log entries [lo, hi]. Each fault
// rule and each sysfs file is consulted at most once per call, so the
// results the call may give are those of every combination of per-rule
// on/off and file contents seen in [lo, hi]; with no change during the call
// that is exactly one result. expect computes a result from one such
// combination from the documentation of package pmem2, by hand; before the
// workers start, the test checks expect against the library in quiescent
// states (every subset of the rules, every content), so an oracle that
// drifted from the library fails there, not as noise under load.
//
// Anything else — another code, another value, wrong bytes from ReadAt, an
// error that is not a *pmem2.Error, a panic — counts against the error
// budget, which is zero. The test also fails when the run did not cross its
// states (too few changes, or an op never both succeeded and failed).
//
// # Leaks
//
// Before the fixture is mounted (after a warm-up mount, so that lazily made
// runtime descriptors exist) and after it is unmounted, the test compares
// runtime.NumGoroutine (settling for up to 10 s), the descriptors of
// /proc/self/fd (number and target) and /proc/self/mountinfo (no mount at or
// below the fixture's directory).
//
// go-fuse keeps a process-wide pool of pipe pairs (package splice) that
// outlives every server; TestStress counts the pipes the pool gained apart
// (exactly two per pooled pair, none in use) and logs them.
// TestUnmountGivesBackEveryDescriptor does not, and fails until fusefs
// stops using the pool (fuse.MountOptions.DisableSplice): see its comment.
//
// The numbers — calls, calls per second, changes, unexpected results — are
// printed with t.Logf at the end: run with -v to see them.
package stress
