package main

import (
	"flag"
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
	flags: func(fs *flag.FlagSet) func(*env, []string) int {
		stale := fs.Bool("stale", false, "unmount every pmem2emu mount whose server is gone")
		return func(e *env, args []string) int {
			if !*stale && len(args) == 0 {
				return e.fail("umount", usagef("give a MOUNTPOINT or --stale"))
			}
			status := exitOK
			for _, dir := range args {
				if err := fusefs.Unmount(dir); err != nil {
					fmt.Fprintf(e.stderr, "pmem2emu umount: %v\n", err)
					status = exitFail
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
					fmt.Fprintf(e.stderr, "pmem2emu umount: %v\n", err)
					status = exitFail
				}
			}
			return status
		}
	},
}
