package main

import (
	"encoding/json"
	"fmt"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/probe"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

var probeCmd = &command{
	name:  "probe",
	args:  "PATH...",
	short: "open paths and run the pmem2 library on them",
	long: `Opens each PATH in the given mode (with O_NONBLOCK, so a FIFO never blocks) and runs
pmem2.SourceFromFD on the descriptor, then, when it succeeds, Size, Alignment,
NumaNode, DeviceID, DeviceUSC and BadBlocks. Codes are exactly what the C library
returns: 0, a PMEM2_E_* value or -errno.

With --json, one object per line:
  {"path": "...", "mode": "r", "from_fd": 0, "type": "devdax", "size": 1073741824,
   "size_rc": 0, "alignment": 2097152, "alignment_rc": 0, "numa_node": 0,
   "numa_node_rc": 0, "device_id": "8089-a2-1837-00000abc", "device_id_rc": 0,
   "usc": 7, "usc_rc": 0, "badblocks": [{"offset": 4096, "length": 4096}],
   "badblocks_rc": 0}
"type" is "regular", "devdax" or "" (when from_fd fails); each value ("size",
"alignment", "numa_node", "device_id", "usc", "badblocks") is present only when its
code is 0. When open(2) itself fails:
  {"path": "...", "mode": "r", "open_errno": 13}
The exit status is 0 whenever every path was probed, whatever the library said.`,
	example: `pmem2emu mount /tmp/pmem &
pmem2emu probe --sysfs /tmp/pmem/sys --mode path --json /tmp/pmem/dev/dax0.0`,
	run: runProbe,
}

func runProbe(e *env, args []string) int {
	sysfs := e.flags.String("sysfs", "/sys", "sysfs root the library reads (a fixture's MOUNTPOINT/sys)")
	modeFlag := e.flags.String("mode", "r", "open mode: r, w, rw or path (O_PATH)")
	asJSON := e.flags.Bool("json", false, "print one JSON object per path")
	args, err := e.parse(args)
	if err != nil {
		return e.fail(err)
	}
	if len(args) == 0 {
		return e.fail(usagef("no PATH given"))
	}
	mode := emulate.OpenMode(*modeFlag)
	if _, err := mode.Flags(); err != nil {
		return e.fail(usagef("--mode %q: want r, w, rw or path", mode))
	}
	enc := json.NewEncoder(e.stdout)
	for _, p := range args {
		r, err := probe.Run(p, mode, pmem2.WithSysfsRoot(*sysfs))
		if err != nil {
			return e.fail(err)
		}
		if *asJSON {
			err = enc.Encode(r)
		} else {
			_, err = fmt.Fprintln(e.stdout, r)
		}
		if err != nil {
			return e.fail(err)
		}
	}
	return exitOK
}
