package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

var mountCmd = &command{
	name:  "mount",
	args:  "MOUNTPOINT",
	short: "serve a fixture in the foreground until SIGINT or SIGTERM",
	long: `Serves the fixture (the built-in default when no --spec is given) on MOUNTPOINT, an
existing empty directory: MOUNTPOINT/sys is the fake sysfs, MOUNTPOINT/dev holds the
device nodes. Prints "mounted MOUNTPOINT" on standard output once the mount is usable,
then serves until SIGINT or SIGTERM, unmounts and exits 0.

The mount is nodev,nosuid and private to you. --device-mode drops nodev so device
nodes open the devices they name; it is refused unless every device node is a harmless
memory device (1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom) — declare a
Device DAX as major 1, minor 5 to back it by /dev/zero. If the server is killed, clean
up with 'pmem2emu umount --stale' (the next mount on the same directory does it too).

The kernel opens and caches the fixture's files itself, so programs that read hundreds
of sysfs files per call (libndctl, daxctl, ndctl) run about as fast as on tmpfs; a spec
with open or short-read faults is served through the server instead (go doc
github.com/pmem2emu/pmem2emu/emulate WithKernelOpen).`,
	example: `mkdir -p /tmp/pmem && pmem2emu mount /tmp/pmem &
ls -l /tmp/pmem/dev; cat /tmp/pmem/sys/bus/dax/devices/dax0.0/size
kill %1`,
	run: runMount,
}

func runMount(e *env, args []string) int {
	specFile := e.flags.String("spec", "", "fixture spec (JSON); default: the built-in fixture")
	deviceMode := e.flags.Bool("device-mode", false, "mount without nodev (only allow-listed memory devices)")
	allowOther := e.flags.Bool("allow-other", false, "let other users see the mount (allow_other; needs root or user_allow_other)")
	force := e.flags.Bool("force", false, "mount even if MOUNTPOINT is not empty")
	args, err := e.parse(args)
	if err != nil {
		return e.fail(err)
	}
	if len(args) != 1 {
		return e.fail(usagef("want exactly one MOUNTPOINT, got %d arguments", len(args)))
	}
	spec, err := loadSpec(*specFile)
	if err != nil {
		return e.fail(err)
	}
	opts := []emulate.Option{emulate.WithFusefsOptions(fusefs.Options{AllowOther: *allowOther, Force: *force}), emulate.WithKernelOpen()}
	if *deviceMode {
		opts = append(opts, emulate.WithDeviceMode())
	}
	// Catch signals before mounting, so one arriving in between still
	// leads to a clean unmount.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	f, err := emulate.Mount(args[0], spec, opts...)
	if err != nil {
		return e.fail(err)
	}
	fmt.Fprintf(e.stdout, "mounted %s\n", args[0])
	sig := <-sigs
	if err := f.Close(); err != nil {
		return e.fail(fmt.Errorf("unmount after %v: %w", sig, err))
	}
	return exitOK
}
