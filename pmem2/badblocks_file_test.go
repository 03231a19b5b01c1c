package pmem2

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/pmem2/internal/cscanf"
	"github.com/pmem2emu/pmem2emu/pmem2/internal/cstrtoull"
)

// memFile is a descriptor of an anonymous file holding data, read from the
// start.
func memFile(t testing.TB, data []byte) int {
	t.Helper()
	fd, err := unix.MemfdCreate("badblocks", unix.MFD_CLOEXEC)
	require.NoError(t, err)
	for off := 0; off < len(data); {
		n, err := unix.Pwrite(fd, data[off:], int64(off))
		require.NoError(t, err)
		off += n
	}
	return fd
}

// goBadBlocks is the port's reading of a bad-block list holding data.
func goBadBlocks(t testing.TB, data []byte, max int) []cscanf.BadBlock {
	t.Helper()
	f := &badblocksFile{fd: memFile(t, data)}
	defer f.close()
	var out []cscanf.BadBlock
	for len(out) < max {
		off, n, ok := f.next()
		if !ok {
			break
		}
		out = append(out, cscanf.BadBlock{Offset: off, Count: n})
	}
	return out
}

// Known answers of libndctl's iterator (getline, sscanf "%llu %u"), also
// checked against the C library.
func TestBadBlockListsAreReadAsLibndctlReadsThem(t *testing.T) {
	bb := func(off uint64, n uint32) cscanf.BadBlock { return cscanf.BadBlock{Offset: off, Count: n} }
	for _, tt := range []struct {
		name, data string
		want       []cscanf.BadBlock
	}{
		{"two lines", "8 8\n1024 1\n", []cscanf.BadBlock{bb(8, 8), bb(1024, 1)}},
		{"no newline at the end", "8 8", []cscanf.BadBlock{bb(8, 8)}},
		{"an empty list", "", nil},
		{"an empty line ends the list", "8 8\n\n16 1\n", []cscanf.BadBlock{bb(8, 8)}},
		{"one number ends the list", "8\n16 1\n", nil},
		{"the newline is white space to sscanf, and ends the line", "8\n 1\n", nil},
		{"tabs, vertical tabs, form feeds, carriage returns", "\t8\v\f\r8\r\n", []cscanf.BadBlock{bb(8, 8)}},
		{"signs", "+8 -1\n-8 +1\n", []cscanf.BadBlock{bb(8, math.MaxUint32), bb(math.MaxUint64-7, 1)}},
		{"a sign alone fails", "- 1\n", nil},
		{"no space needed before a sign", "8-1\n", []cscanf.BadBlock{bb(8, math.MaxUint32)}},
		{"hex is not read", "0x10 1\n", nil},
		{"what follows is ignored", "8 8x\n9 9 9\n", []cscanf.BadBlock{bb(8, 8), bb(9, 9)}},
		{"a count past 32 bits keeps its low 32", "8 4294967297\n", []cscanf.BadBlock{bb(8, 1)}},
		{"an offset past 64 bits saturates", "99999999999999999999 1\n", []cscanf.BadBlock{bb(math.MaxUint64, 1)}},
		{"a count past 64 bits saturates, then keeps 32", "8 99999999999999999999\n", []cscanf.BadBlock{bb(8, math.MaxUint32)}},
		{"a NUL ends sscanf's string", "8 8\x009\n1 1\n", []cscanf.BadBlock{bb(8, 8), bb(1, 1)}},
		{"a NUL before the second number fails the line", "8 \x008\n1 1\n", nil},
		{"a comma fails", "8,8\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, goBadBlocks(t, []byte(tt.data), 100), "Go")
			assert.Equal(t, tt.want, cscanf.BadBlocks([]byte(tt.data), 100), "C")
		})
	}
}

// FuzzBadBlockList holds the port's reading of a bad-block list against
// libndctl's on the C library's getline and sscanf.
func FuzzBadBlockList(f *testing.F) {
	for _, s := range []string{"8 8\n1024 1\n", "8 8", " 8\t-1\n+1 1x\n", "8 8\x009\n1 1\n", "\n", "99999999999999999999 4294967296\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := goBadBlocks(t, data, 64), cscanf.BadBlocks(data, 64); !assert.ObjectsAreEqual(want, got) {
			t.Fatalf("%q: Go %v, C %v", data, got, want)
		}
	})
}

// FuzzMapping holds the port's reading of a region's mappingN against
// libndctl's sscanf(buf, "nmem%u,%llu,%llu,%d") >= 3.
func FuzzMapping(f *testing.F) {
	for _, s := range []string{"nmem0,0,1073741824,0", "nmem1, 2, 3", "nmem0,0", "nmem-1,0,0", "nmem 3,+1,-1,x", "nmemx", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		content, ok := attrContent(data)
		if !ok {
			return
		}
		id, ok := scanMapping(content)
		cid, n := cscanf.Mapping(content)
		if ok != (n >= 3) || ok && id != cid {
			t.Fatalf("%q: Go %d %v, C %d (%d conversions)", content, id, ok, cid, n)
		}
	})
}

// FuzzStrtoll holds strtoll, which reads dirty_shutdown and numa_node,
// against the C library's.
func FuzzStrtoll(f *testing.F) {
	for _, s := range append(fuzzSeeds, "-9223372036854775808", "-9223372036854775809", "9223372036854775807", "-0x8000000000000001") {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := strtoll(data, 0), cstrtoull.Strtoll(data, 0); got != want {
			t.Fatalf("strtoll(%q, 0): Go %d, C %d", data, got, want)
		}
	})
}

// The translation of a device's bad blocks to a file's, on extents made
// up, each expectation worked out from pmem2_badblock_next.
func TestBadBlocksAreMovedThroughTheExtents(t *testing.T) {
	exts := []extent{
		{logical: 0, physical: 1 << 20, length: 8192},
		{logical: 8192, physical: 1<<20 + 8192, length: 4096}, // physically adjacent
		{logical: 1 << 30, physical: 5 << 20, length: 4096},
	}
	for _, tt := range []struct {
		name    string
		blksize uint64
		dev     []BadBlock
		want    []BadBlock
	}{
		{"a bad block in no extent is skipped", 4096, []BadBlock{{0, 512}, {4 << 20, 4096}}, nil},
		{"a sector in an extent widens to its block", 4096, []BadBlock{{1<<20 + 1024, 512}}, []BadBlock{{0, 4096}}},
		{"a bad block across two adjacent extents is returned once per extent", 4096,
			[]BadBlock{{1<<20 + 4096, 8192}}, []BadBlock{{4096, 4096}, {8192, 4096}}},
		{"a bad block across an extent's end and no next one is cut", 4096, []BadBlock{{5<<20 + 2048, 8192}},
			[]BadBlock{{1 << 30, 4096}}},
		{"a bad block before the first extent, reaching into it, is cut at its start", 4096,
			[]BadBlock{{1<<20 - 512, 1024}}, []BadBlock{{0, 4096}}},
		{"a 512-byte block size keeps sectors", 512, []BadBlock{{1<<20 + 1024, 512}, {5 << 20, 512}},
			[]BadBlock{{1024, 512}, {1 << 30, 512}}},
		{"the order of the device's list is kept", 4096, []BadBlock{{5 << 20, 512}, {1 << 20, 512}},
			[]BadBlock{{1 << 30, 4096}, {0, 4096}}},
		{"a bad block carried to the next extent that misses it is dropped", 4096,
			[]BadBlock{{1<<20 + 8192, 1 << 20}, {5 << 20, 512}}, []BadBlock{{8192, 4096}, {1 << 30, 4096}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &fileExtents{blksize: tt.blksize, exts: exts}
			dev := tt.dev
			next := func() (BadBlock, bool) {
				if len(dev) == 0 {
					return BadBlock{}, false
				}
				b := dev[0]
				dev = dev[1:]
				return b, true
			}
			var w extentWalk
			var got []BadBlock
			for {
				b, ok := w.next(x, next)
				if !ok {
					break
				}
				got = append(got, b)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
