// Package emulate turns a description of persistent memory in pmem terms —
// "Device DAX dax0.0, 1 GiB, 2 MiB aligned, NUMA node 0" — into a mounted
// file system that the kernel, the pmem2 package and unmodified C programs
// (daxctl, ndctl, the C libpmem2) all take for the real thing.
//
// # Layout
//
// A fixture is one FUSE mount (package fusefs). <root>/sys is a fake sysfs
// laid out as Linux lays out Device DAX, the NVDIMM bus above it, fsdax
// pmem block devices and virtual char devices; <root>/dev holds the device
// nodes (dev/dax0.0 is a char device with the declared major:minor); any
// other declared path lies below <root>. Give pmem2 the sysfs root with
// pmem2.SourceFromFD(fd, f.PmemOptions()...), or run a program that
// hard-codes /sys and /dev with Fixture.Command, which binds <root>/sys
// over /sys and the nodes into a private /dev (package nsrun).
//
// # Specs
//
// A Spec is data: a Go literal or JSON (Decode, LoadSpec), one schema read
// from the struct tags. Decoding is strict — unknown fields, duplicate
// keys, nulls, wrong types and trailing data are errors, and so is every
// broken rule (Spec.Validate), each naming the JSON location and the rule
// ("nodes[3].path: \"a/../b\": a path must not contain \"..\" components
// (rule path-dot-dot)"); a Go literal is held to the same rules. Nothing is
// mounted for an invalid spec. Each node and device may carry an
// expectation of what pmem2 returns for it in each open mode (Expect);
// Spec.Checks lists them for `pmem2emu check`. Default is the built-in
// fixture covering every documented error and behaviour; Healthy is
// Default without its deliberately broken parts, for programs.
//
// # Ownership and who checks
//
// Ownership follows a real machine: what the kernel makes — everything
// under sys/ and dev/, generated or declared — is root's, with the
// kernel's modes (a Device DAX's resource and dax_region/align are 0400,
// so a program that is not root meets the EACCES it would meet on real
// hardware). Nodes a spec declares for its own data, anywhere else, belong
// to the user who mounts the fixture, unless Node.UID and Node.GID say
// otherwise (JSON "uid": 0 makes a file root's; leaving the key out is
// not the same). So a normal user mounts, opens and writes the data files
// as root does.
//
// Where the right answer still depends on who checks — root's 0600 file,
// an attribute only root may read — Expect.AsRoot and Expect.AsUser hold
// the outcomes for that caller ("as_root", "as_user" in JSON); Checks picks
// those of the calling process (CurrentCaller), ChecksFor those of any.
//
// Nodes declared under sys/ and dev/ are applied after the generated tree:
// they add files or replace generated ones (a non-directory replacing a
// generated directory drops everything generated below it), which is how
// broken sysfs trees are built. A replaced file keeps its path, so a fault
// rule or an expectation can name it. Devices declared without a minor are
// numbered in declaration order (Fixture.DevNum tells the numbers).
//
// # Device DAX size and alignment
//
// The C libpmem2 users link today (PMDK 1.10 and later) and package pmem2
// return a Device DAX's size and alignment as libndctl finds them: those
// of its nd_dax, regionR/daxR.(N+1)/size and align, parsed with strtoull
// and no format check. Besides, libdaxctl must be able to read the
// device's own size and find its /dev/<name> with its number, and libndctl
// must find a namespace whose holder names the nd_dax; where either fails,
// or there is no NVDIMM bus, the C library crashes and pmem2 returns what
// its documentation says. DAXDevice.SizeRaw and AlignRaw fill exactly the
// nd_dax's two files (so they need the NVDIMM bus); the files PMDK 1.9
// read instead — the device's own size, dax_region/size and
// dax_region/align — keep the declared values, and a spec breaks them by
// declaring a node at their path. Files the kernel makes 0400 (resource,
// dax_region/align, mapping0/*) are 0400 here too; neither library reads
// them for size or alignment, so every user gets root's answers.
//
// A Device DAX declared without an expectation gets one derived check
// (Spec.Checks), in mode path: classified DevDAX; with the NVDIMM bus, the
// declared Size and Align (a size_raw or align_raw leaves that value
// unchecked; dax_region/ plays no part); without it, where C crashes,
// PMEM2_E_DAX_REGION_NOT_FOUND for the size and
// PMEM2_E_INVALID_ALIGNMENT_FORMAT for the alignment. A pmem device's
// derived check is PMEM2_E_INVALID_FILE_TYPE. When declared nodes or
// faults touch what a device generates, only a successful open is derived,
// and when they touch its node in dev/ nothing is.
//
// # DIMMs, bad blocks and files on pmem
//
// The NVDIMM bus is an ACPI NFIT bus (Spec.NDBusProvider "nfit", the
// default) on which every region is an interleave set of DIMMs (Spec.DIMMs,
// named per device by DAXDevice.DIMMs; a region that names none gets one
// generated DIMM with a deterministic id): nmemN with its nfit/ attributes,
// and regionR/mappingK naming them, which is where libpmem2's
// pmem2_source_device_id and _device_usc read. The regions stay label-less
// namespace_io regions, as the kernel makes them for NVDIMMs without a
// label area; "e820" gives memmap= pmem's bus instead, without DIMMs.
// Declared bad blocks (BadBlock) become the region's badblocks lines, and
// a pmem device's block device's, in the kernel's form. The NUMA node of a
// device is its region's numa_node. A pmem device with HostsFiles takes the
// mount's device number once mounted, so that the fixture's own regular
// files lie on it for libpmem2 (which then maps them to extents with
// FIEMAP, which FUSE does not support: the bad block context of such a file
// fails with -EOPNOTSUPP, -EBADF for an O_PATH descriptor).
//
// A Device DAX's derived check also holds what NumaNode, DeviceID,
// DeviceUSC and BadBlocks return: its region's NUMA node; the ids of the
// region's DIMMs concatenated in libndctl's DIMM order (the bus directory's
// order reversed: each DIMM is added at the head of its list), or
// PMEM2_E_NOSUPP when one has none; the sum of their dirty shutdown counts,
// or PMEM2_E_NOSUPP when one has none; for root, the region's badblocks
// lines that overlap the device, cut to it and relative to it, and for any
// other user PMEM2_E_CANNOT_READ_BOUNDS (placing the device needs its
// nd_dax's resource, mode 0400). On an e820 bus the id is "" and the count
// 0; without the NVDIMM bus, PMEM2_E_DAX_REGION_NOT_FOUND, PMEM2_E_NOSUPP
// twice and no bad blocks. They are left out when declared nodes or faults
// touch the files of the device's region or DIMMs.
//
// Clearing bad blocks (pmem2_badblock_clear) is out of scope: on a Device
// DAX it submits ARS and clear-error commands through an ioctl on the bus
// device (/dev/ndctl0), which the fixture does not emulate (its DIMMs and
// bus support no commands, and the nodev mount opens no device).
//
// # Fixtures
//
// Mount serves a spec on a directory until Close; in tests emutest.Start
// mounts under t.TempDir() and closes in t.Cleanup. A Fixture's paths are
// relative to its root or absolute below it, and symlinks among their
// parents are followed inside the fixture, so the paths pmem2 names
// (sys/dev/char/252:0/size, pmem2.Error.Path) work as they are; Fixture.DAX
// gives a device's node and the files pmem2 reads. Runtime changes
// (WriteFile, SetNode, SetTarget, Remove, AddFault, SetFaults) are held to
// the spec's rules: WriteFile writes files and never replaces a directory
// or a device, an exact fault path must name a node, and after Close every
// change and Command fails with ErrClosed. Fixture.Calls counts the calls
// that reached the server.
//
// Options are values made by WithDeviceMode, WithFusefsOptions and
// WithBusyReport, as pmem2's are; each sets only its own part, so they
// combine in any order.
//
// # Caching and runtime changes
//
// fusefs lets the kernel cache entries, attributes and symlink targets, so
// a warm lookup never reaches the server; a node with a fault rule is never
// served from the cache, and runtime changes invalidate the kernel's
// caches, so the very next system call sees them. Attribute files report
// their true size (real sysfs says 4096), so tools reading them once get
// exactly the bytes.
//
// # Running programs
//
// Fixture.Command (and CommandAt, for a fixture another process mounted)
// runs a program in a private mount namespace where <root>/sys is /sys and
// <root>/dev's entries are in a private /dev (package nsrun), as root or,
// in a user namespace, as anyone. Device nodes there come from the nodev
// mount and do not open, with one exception: a Device DAX numbered 1:5
// (a character device 1:5 named daxR.N) is the host's /dev/zero. Any
// caller can open it read-write and map it, and the C libpmem2 takes it for
// the Device DAX its sysfs describes: pmem2_map_new succeeds at
// PMEM2_GRANULARITY_PAGE. What the mapping is:
//
//   - zero-filled memory: each mapping is new, so nothing written persists
//     from one mapping to the next (pmem2_source_pwrite_mcsafe succeeds,
//     and a later pmem2_source_pread_mcsafe, which maps again, reads
//     zeros), nor across processes;
//   - without MAP_SYNC: /dev/zero refuses it, libpmem2 falls back to a plain
//     shared mapping and so offers PAGE granularity only. CACHE_LINE or
//     BYTE fail with PMEM2_E_GRANULARITY_NOT_SUPPORTED unless the
//     environment says PMEM2_FORCE_GRANULARITY=CACHE_LINE (or CACHELINE)
//     or BYTE (case does not matter; PMDK 1.12 reads it at each
//     pmem2_map_new), which makes libpmem2 take that granularity as found;
//   - a descriptor opened with O_PATH, which pmem2_source_from_fd accepts,
//     cannot be mapped: pmem2_map_new returns -EBADF (mmap's EBADF).
//
// Everything else of the fixture — sizes, alignments, faults, runtime
// changes — applies as on the mount.
//
// # Safety
//
// Mounts are nodev and nosuid: opening a device node fails with EACCES,
// while O_PATH opens (all pmem2_source_from_fd needs) work. WithDeviceMode
// lifts nodev only for trees whose device nodes are harmless memory
// devices (fusefs checks), and only for root: other users mount through
// fusermount3, which always mounts nodev. Mounts are private to the
// mounting user.
//
// # Errors
//
// Spec problems are SpecErrors (one *SpecError per broken rule, each with
// Loc, Rule and Msg) matching ErrInvalidSpec. Mount errors wrap fusefs's
// (errors.Is(err, fusefs.ErrNoFuse) when FUSE is unavailable) and name the
// mount point; emutest.Start turns either into a test failure with the
// remedy.
package emulate
