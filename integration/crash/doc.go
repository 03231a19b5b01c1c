// Package crash kills, interrupts and starves pmem2emu and holds it to one
// promise: nothing stays mounted, or what stays is a stale mount that
// `pmem2emu umount --stale` or the next mount on the same directory
// removes.
//
//	go test -count=1 -v ./integration/crash/        # as root, ~1 min
//
// # What is tried
//
//	kill_test.go       `pmem2emu mount` killed with SIGKILL, 50 times each: recovered by
//	                   `pmem2emu umount --stale`; by the next `pmem2emu mount` on the same
//	                   directory; by the next emulate.Mount there. A killed `check` and a
//	                   killed `exec` are recovered by `umount --stale` too.
//	interrupt_test.go  SIGINT (Ctrl-C), twice in a row, or SIGTERM at random moments of
//	                   `pmem2emu check` (busy on a slow spec, or on the default one) and
//	                   during `pmem2emu exec`: exit 130 or the command's status, nothing
//	                   mounted, no temporary directory left.
//	panic_test.go      a test that panics while holding an emutest.Start fixture, run as a
//	                   child test process: in the test's goroutine t.Cleanup runs and
//	                   unmounts; in another goroutine, on -test.timeout and on os.Exit it
//	                   does not, the mount is stale and `umount --stale` recovers it.
//	fulldisk_test.go   TMPDIR on a full 64 KiB tmpfs (blocks full; blocks and inodes
//	                   full): `pmem2emu check`, `pmem2emu exec`, emulate.Mount and
//	                   emutest.Start either work or fail naming the directory and
//	                   "no space left on device"; nothing mounted.
//
// # How
//
// The tests run the pmem2emu binary built from source (testutil.CLI: `go
// build`, once, into a temporary directory) in a private mount namespace
// of their own: TestMain starts the test binary again in the role "suite"
// with CLONE_NEWNS, which makes every mount private before anything else. `pmem2emu umount --stale` unmounts
// every stale pmem2emu mount it can see; in the host namespace it would
// also take those other packages' tests leave behind on purpose while
// `go test ./...` runs them in parallel. In its own namespace the package
// sees only its own mounts, and whatever it might leave dies with the
// namespace. Every check of "nothing mounted" reads /proc/self/mountinfo of
// that namespace, where the children run too.
//
// # Known failures
//
// Three tests fail today, each for a defect outside this package, and
// each recovers what it left before it ends:
//
//   - TestKilledCheckAndExecAreRecovered/a check killed …: a process that
//     serves a fixture and waits on it itself (`pmem2emu check`; any Go test
//     using emutest.Start) does not die of SIGKILL while one of its calls
//     is in its own server's hands: the waiting thread sleeps
//     uninterruptibly (request_wait_answer) until the request is answered,
//     and only the release of the /dev/fuse descriptor — at the exit of
//     that very thread — would abort it. The mount hangs every access and
//     is not stale, so `umount --stale` does not see it. Recovered by
//     writing to /sys/fs/fuse/connections/N/abort.
//   - TestPanicWhileHoldingAFixture/a -test.timeout while a call waits …:
//     the same deadlock at the exit of a test binary whose -test.timeout
//     fired while a call hung on its fixture — the case timeouts exist for.
//   - TestInterruptedExecLeavesNothingMounted/SIGINT at any moment …:
//     `pmem2emu exec` installs its signal handler only when it starts the
//     command, after mounting: a Ctrl-C in between kills it with the
//     fixture mounted (stale) and its temporary directory left.
//
// It needs root (mount namespaces, the tmpfs) and /dev/fuse; without them
// it fails with the remedy.
package crash
