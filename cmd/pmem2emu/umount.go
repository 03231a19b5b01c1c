package main

import (
	"fmt"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

var umountCmd = &command{
	name:  "umount",
	args:  "[MOUNTPOINT...]",
	short: "unmount fixtures, or every stale one with --stale",
	long: `Unmounts the given fixture mounts (lazily when they are busy). With --stale, also finds every
pmem2emu mount on this machine whose server is gone — a 'pmem2emu mount' killed with SIGKILL
leaves one behind, answering "transport endpoint is not connected" — and unmounts it.
Live mounts of other running servers are left alone.`,
	example: `pmem2emu umount /tmp/pmem
pmem2emu umount --stale`,
	run: runUmount,
}

func runUmount(e *env, args []string) int {
	stale := e.flags.Bool("stale", false, "unmount every pmem2emu mount whose server is gone")
	args, err := e.parse(args)
	if err != nil {
		return e.fail(err)
	}
	if !*stale && len(args) == 0 {
		return e.fail(usagef("give a MOUNTPOINT or --stale"))
	}
	status := exitOK
	for _, dir := range args {
		if err := fusefs.Unmount(dir); err != nil {
			status = e.fail(err)
			continue
		}
		fmt.Fprintf(e.stdout, "unmounted %s\n", dir)
	}
	if *stale {
		dirs, err := fusefs.CleanStale()
		for _, d := range dirs {
			fmt.Fprintf(e.stdout, "unmounted stale %s\n", d)
		}
		if err != nil {
			status = e.fail(err)
		}
	}
	return status
}
