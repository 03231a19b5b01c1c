package pmem2

import (
	"math"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/pmem2/internal/cstrtoull"
)

// Known answers of glibc's strtoull, written down by hand; each is also
// checked against the C library itself.
var strtoullCases = []struct {
	s      string
	base   int
	v      uint64
	end    int
	erange bool
}{
	{"42\n", 0, 42, 2, false},
	{"0x1F\n", 0, 31, 4, false},
	{"0X1f\n", 16, 31, 4, false},
	{"1f\n", 16, 31, 2, false},
	{"017\n", 0, 15, 3, false},
	{"017\n", 10, 17, 3, false},
	{"08\n", 0, 0, 1, false},
	{"0x\n", 0, 0, 1, false},
	{"0xg", 16, 0, 1, false},
	{"0x1000\n", 10, 0, 1, false},
	{"  \t+7\n", 0, 7, 5, false},
	{"-1\n", 0, math.MaxUint64, 2, false},
	{"-0x10", 0, math.MaxUint64 - 15, 5, false},
	{"   ", 0, 0, 0, false},
	{"-", 0, 0, 0, false},
	{"+-1", 0, 0, 0, false},
	{"", 10, 0, 0, false},
	{"18446744073709551615", 10, math.MaxUint64, 20, false},
	{"18446744073709551616x", 10, math.MaxUint64, 20, true},
	{"-18446744073709551616", 10, math.MaxUint64, 21, true},
	{"ffffffffffffffff\n", 16, math.MaxUint64, 16, false},
	{"10000000000000000\n", 16, math.MaxUint64, 17, true},
	{"4096\x00\n", 10, 4096, 4, false},
	{"\x004096\n", 10, 0, 0, false},
	{"\xa04096\n", 10, 0, 0, false}, // not a space in the C locale
	{"zz", 36, 36*36 - 1, 2, false},
}

func TestStrtoullIsGlibcs(t *testing.T) {
	for _, tt := range strtoullCases {
		v, end, erange := strtoull([]byte(tt.s), tt.base)
		if v != tt.v || end != tt.end || erange != tt.erange {
			t.Errorf("strtoull(%q, %d) = %d, %d, %v; want %d, %d, %v", tt.s, tt.base, v, end, erange, tt.v, tt.end, tt.erange)
		}
		cv, cend, cerr := cstrtoull.Strtoull([]byte(tt.s), tt.base)
		if cv != tt.v || cend != tt.end || (cerr == syscall.ERANGE) != tt.erange {
			t.Errorf("the C library disagrees with the table on strtoull(%q, %d): %d, %d, %v", tt.s, tt.base, cv, cend, cerr)
		}
	}
}

// cNdDax is what libndctl makes of an nd_dax attribute's bytes, on the C
// library's strtoull: the size (ULLONG_MAX when the read fails) and the
// alignment (0 then), with pmem2_source_alignment's power-of-two check.
func cNdDax(data []byte) (size, align uint64, alignCode Code) {
	if len(data) >= attrSize {
		return math.MaxUint64, 0, ErrInvalidAlignmentValue
	}
	if n := len(data); n > 0 && data[n-1] == '\n' {
		data = data[:n-1]
	}
	size, _, _ = cstrtoull.Strtoull(data, 0)
	align = size
	if align == 0 || align&(align-1) != 0 {
		return size, align, ErrInvalidAlignmentValue
	}
	return size, align, 0
}

func compareStrtoull(t *testing.T, buf []byte, base int) {
	v, end, erange := strtoull(buf, base)
	cv, cend, cerr := cstrtoull.Strtoull(buf, base)
	if v != cv || end != cend || erange != (cerr == syscall.ERANGE) {
		t.Fatalf("strtoull(%q, %d): Go %d, %d, %v; C %d, %d, %v", buf, base, v, end, erange, cv, cend, cerr)
	}
}

var fuzzSeeds = []string{
	"2097152\n", "0x200000\n", "010\n", "0\n", "-1\n", " +42\n", "0x\n", "0xg\n", "08\n", "4096", "",
	"\n", "18446744073709551616\n", "18446744073709551615\n", "1000\n", "200000\n", "4096\x00\n", "\v\f\r 7\n",
	"2M\n", "4096\n\n",
}

// FuzzParseSize holds the port's reading of an nd_dax size against
// libndctl's on the C library's strtoull.
func FuzzParseSize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareStrtoull(t, data, 0)
		v := ndDaxSize(attrContent(data))
		if cv, _, _ := cNdDax(data); v != cv {
			t.Fatalf("nd_dax size %q: Go %d, C %d", data, v, cv)
		}
	})
}

// FuzzParseAlignment does the same for the nd_dax's align and
// pmem2_source_alignment's check.
func FuzzParseAlignment(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := ndDaxAlign(attrContent(data))
		code := Code(0)
		if !isPow2(v) {
			code = ErrInvalidAlignmentValue
		}
		if _, cv, ccode := cNdDax(data); v != cv || code != ccode {
			t.Fatalf("nd_dax align %q: Go %d %s, C %d %s", data, v, code.Name(), cv, ccode.Name())
		}
	})
}
