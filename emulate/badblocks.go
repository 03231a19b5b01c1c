package emulate

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// BadBlock is a poisoned range of a device, in bytes from the device's
// start, as struct pmem2_badblock gives it. The kernel keeps bad blocks in
// 512-byte sectors, so a declared one starts and ends on a sector
// boundary.
//
// The kernel lists a region's bad blocks in its badblocks file, a line
// "SECTOR COUNT" each, relative to the region, sorted, adjacent ranges
// merged and no line longer than 512 sectors (BB_MAX_LEN); the generator
// writes the declared ones that way, so one declared range of more than
// 256 KiB, or two that touch, read back as the kernel would give them. A
// pmem device's bad blocks are also in its block device's badblocks file,
// relative to the device.
type BadBlock struct {
	Offset uint64 `json:"offset"`
	Length uint64 `json:"length"`
}

func (b BadBlock) String() string { return fmt.Sprintf("%d+%d", b.Offset, b.Length) }

// BadBlocks is a list of bad blocks, as an expectation gives it.
type BadBlocks []BadBlock

// String is "[4096+4096 524288+512]" (offset+length each), "[]" for none.
func (l BadBlocks) String() string {
	parts := make([]string, len(l))
	for i, b := range l {
		parts[i] = b.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

const (
	sector = 512
	// bbMaxLen is the longest run of sectors one badblocks line holds.
	bbMaxLen = 512
)

// sectors is a run of bad sectors: first sector and count.
type sectors struct{ first, count uint64 }

// checkBadBlocks applies the bad block rules to the list of the device at
// loc, of size bytes.
func checkBadBlocks(p *problems, loc string, list []BadBlock, size uint64, ndBus bool) {
	if list != nil && !ndBus {
		p.add(loc+".badblocks", "badblocks-without-bus", "bad blocks are listed per NVDIMM region; without the NVDIMM bus the device has none")
		return
	}
	for i, b := range list {
		at := fmt.Sprintf("%s.badblocks[%d]", loc, i)
		end, carry := bits.Add64(b.Offset, b.Length, 0)
		switch {
		case b.Length == 0:
			p.add(at+".length", "badblock-empty", "a bad block is at least one 512-byte sector long")
		case b.Offset%sector != 0 || b.Length%sector != 0:
			p.add(at, "badblock-not-sector-aligned", fmt.Sprintf("%s: the kernel keeps bad blocks in 512-byte sectors, so offset and length are multiples of 512", b))
		case carry != 0 || end > size:
			p.add(at, "badblock-outside-device", fmt.Sprintf("%s ends beyond the device's %d bytes", b, size))
		}
		for j, o := range list[:i] {
			if b.Offset < o.Offset+o.Length && o.Offset < end && b.Length > 0 && o.Length > 0 {
				p.add(at, "badblock-overlap", fmt.Sprintf("%s overlaps badblocks[%d] (%s)", b, j, o))
				break
			}
		}
	}
}

// regionSectors is the region's badblocks list as the kernel keeps it:
// every device's bad blocks, relative to the region, sorted, touching
// runs merged, split into lines of at most bbMaxLen sectors.
func (lay *layout) regionSectors(r *region) []sectors {
	var runs []sectors
	add := func(loc string, list []BadBlock) {
		base := lay.place[loc].start - r.start
		for _, b := range list {
			runs = append(runs, sectors{(base + b.Offset) / sector, b.Length / sector})
		}
	}
	for _, d := range r.daxs {
		add(d.loc, d.d.BadBlocks)
	}
	if r.pmem != nil {
		add(r.pmem.loc, r.pmem.d.BadBlocks)
	}
	return kernelForm(runs)
}

// kernelForm sorts runs, merges those that overlap or touch and splits
// them into lines of at most bbMaxLen sectors.
func kernelForm(runs []sectors) []sectors {
	slices.SortFunc(runs, func(a, b sectors) int { return cmpU64(a.first, b.first) })
	var merged []sectors
	for _, s := range runs {
		if n := len(merged); n > 0 && s.first <= merged[n-1].first+merged[n-1].count {
			merged[n-1].count = max(merged[n-1].count, s.first+s.count-merged[n-1].first)
			continue
		}
		merged = append(merged, s)
	}
	var out []sectors
	for _, s := range merged {
		for s.count > 0 {
			n := min(s.count, bbMaxLen)
			out = append(out, sectors{s.first, n})
			s.first += n
			s.count -= n
		}
	}
	return out
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// badblocksFile is the content of a badblocks file listing lines.
func badblocksFile(lines []sectors) string {
	var b strings.Builder
	for _, s := range lines {
		fmt.Fprintf(&b, "%d %d\n", s.first, s.count)
	}
	return b.String()
}

// clip is what libpmem2's region iterator makes of a region's lines for a
// device at start (bytes from the region's start) of size bytes: each line
// that overlaps the device, cut to it, relative to it, in the file's order.
// It is also what the kernel lists in a pmem block device's badblocks.
func clip(lines []sectors, start, size uint64) BadBlocks {
	out := BadBlocks{}
	if size == 0 {
		return out
	}
	end := start + size - 1
	for _, s := range lines {
		bbBeg := s.first * sector
		bbEnd := bbBeg + s.count*sector - 1
		if bbBeg > end || start > bbEnd {
			continue
		}
		beg, last := max(bbBeg, start), min(bbEnd, end)
		out = append(out, BadBlock{Offset: beg - start, Length: last - beg + 1})
	}
	return out
}

// asSectors turns bad blocks relative to a device into badblocks lines.
func asSectors(list BadBlocks) []sectors {
	out := make([]sectors, len(list))
	for i, b := range list {
		out[i] = sectors{b.Offset / sector, b.Length / sector}
	}
	return out
}

// checkDeviceBadBlocks applies the bad block rules to every device.
func (s *Spec) checkDeviceBadBlocks(p *problems) {
	for _, in := range s.daxInfos() {
		checkBadBlocks(p, in.loc, in.d.BadBlocks, in.d.Size, in.ndBus)
	}
	for _, in := range s.pmemInfos() {
		checkBadBlocks(p, in.loc, in.d.BadBlocks, in.d.Size, true)
	}
}
