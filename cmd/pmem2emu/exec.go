package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/pmem2emu/pmem2emu/emulate"
)

var execCmd = &command{
	name:  "exec",
	args:  "-- COMMAND [ARGS...]",
	short: "run any program with a fixture's sys over /sys and its devices in /dev",
	long: `Runs COMMAND in a private mount namespace where the fixture's sys is bind-mounted over
/sys and /dev is a private tmpfs holding the fixture's device nodes beside the host's
harmless basics (null, zero, full, random, urandom, tty, pts, shm). Unmodified programs
that hard-code /sys and /dev — a C program linked with libpmem2, daxctl, ndctl, a shell —
see the emulated devices. The host's mount table, /sys and /dev are never changed.

With --spec, that fixture is mounted in a temporary directory for the duration; with
--mount, an already mounted fixture (see 'pmem2emu mount') is used; with neither, the
built-in healthy fixture ('pmem2emu spec --healthy'): the default's whole devices and data
nodes without its deliberately broken devices, so libpmem2 and libdaxctl run quietly
('check' and 'mount' use the full default). The exit status is COMMAND's (128+N when
killed by signal N; 127 when it cannot be found, 126 when it cannot be executed). A fixture
exec mounts is served the way 'pmem2emu mount' serves it: the kernel opens and caches its
files itself.

Device nodes come from a nodev mount and do not open, except a Device DAX declared as
major 1, minor 5: it is the host's /dev/zero in COMMAND's /dev, so any user can open it
read-write and map it with pmem2_map_new (PAGE granularity; set PMEM2_FORCE_GRANULARITY to
CACHE_LINE or BYTE for more). Nothing written persists from one mapping to the next.`,
	example: `pmem2emu exec -- daxctl list
pmem2emu exec --spec my.json -- ./my-pmem2-program /dev/dax0.0
pmem2emu exec --mount /tmp/pmem -- cat /sys/dev/char/252:0/size`,
	commandLine: true,
	run:         runExec,
}

func runExec(e *env, args []string) int {
	specFile := e.flags.String("spec", "", "fixture spec (JSON) to mount for the duration")
	mountDir := e.flags.String("mount", "", "use the fixture already mounted on this directory")
	deviceMode := e.flags.Bool("device-mode", false, "mount the --spec fixture without nodev (root only; allow-listed memory devices only)")
	argv, err := e.parse(args)
	if err != nil {
		return e.fail(err)
	}
	switch {
	case len(argv) == 0:
		return e.fail(usagef("no COMMAND given (write it after --)"))
	case *specFile != "" && *mountDir != "":
		return e.fail(usagef("--spec and --mount exclude each other"))
	case *mountDir != "" && *deviceMode:
		return e.fail(usagef("--device-mode applies to a fixture exec mounts, not to --mount"))
	}
	// From here on SIGINT and SIGTERM are ours, so one that comes while
	// the fixture is being mounted still unmounts it; once the command
	// runs, they are passed on to it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	cmd, release, err := prepareExec(*specFile, *mountDir, *deviceMode, argv)
	defer release()
	if err != nil {
		return e.fail(err)
	}
	return e.runChild(cmd, sigs)
}

// prepareExec prepares argv to run with the fixture mounted on mountDir
// or, without one, with specFile's fixture (the healthy one for "")
// mounted in a temporary directory until release.
func prepareExec(specFile, mountDir string, deviceMode bool, argv []string) (cmd *exec.Cmd, release func(), err error) {
	release = func() {}
	if mountDir != "" {
		cmd, err = emulate.CommandAt(mountDir, argv[0], argv[1:]...)
		return cmd, release, err
	}
	spec := emulate.Healthy()
	if specFile != "" {
		if spec, err = emulate.LoadSpec(specFile); err != nil {
			return nil, release, err
		}
	}
	opts := []emulate.Option{emulate.WithKernelOpen()}
	if deviceMode {
		opts = append(opts, emulate.WithDeviceMode())
	}
	f, release, err := mountTemp("pmem2emu-exec-", spec, opts...)
	if err != nil {
		return nil, release, err
	}
	cmd, err = f.Command(argv[0], argv[1:]...)
	return cmd, release, err
}

// runChild runs cmd on the caller's streams like a shell would: the signals
// arriving on sigs (SIGINT, SIGTERM) are passed on to it rather than ending
// pmem2emu, so the fixture is unmounted only after the command is gone. A
// signal that came before the command started ends the run as that signal
// would have (128+N). The result is the command's exit status.
func (e *env) runChild(cmd *exec.Cmd, sigs <-chan os.Signal) int {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, e.stdout, e.stderr
	select {
	case sig := <-sigs:
		fmt.Fprintf(e.stderr, "pmem2emu exec: interrupted (%v) before the command started\n", sig)
		return 128 + int(sig.(syscall.Signal))
	default:
	}
	if err := cmd.Start(); err != nil {
		return e.fail(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			cmd.Process.Signal(sig)
		case err := <-done:
			return exitStatus(err)
		}
	}
}

// exitStatus maps a Wait error to a shell-style exit status.
func exitStatus(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return exitFail
}
