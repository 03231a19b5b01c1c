// Command pmem2emu tests persistent-memory software without persistent
// memory: it serves an emulated Device DAX topology (a fake /sys and /dev)
// through FUSE and checks the pmem2 library — or any program — against it.
//
//	pmem2emu check                   # the main job, on the built-in fixture
//	pmem2emu mount --spec my.json /mnt/pmem
//	pmem2emu probe --sysfs /mnt/pmem/sys --json /mnt/pmem/dev/dax0.0
//	pmem2emu exec --spec my.json -- daxctl list
//
// Run `pmem2emu help` or `pmem2emu COMMAND -h` for details.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
