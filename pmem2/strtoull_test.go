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

func TestParsersFollowPMDK19(t *testing.T) {
	for _, tt := range []struct {
		s     string
		size  uint64
		scode Code
		align uint64
		acode Code
	}{
		{"4096\n", 4096, 0, 4096, 0},
		{"1000\n", 1000, 0, 4096, 0},
		{"0x1000\n", 4096, 0, 0, ErrInvalidAlignmentFormat},
		{"010\n", 8, 0, 16, 0}, // decimal 10 is no power of two; hex 0x10 is
		{"0\n", 0, 0, 0, 0},
		{"3\n", 3, 0, 3, 0},
		{"4096", 0, ErrInvalidSizeFormat, 0, ErrInvalidAlignmentFormat},
		{"99999999999999999999\n", 0, Code(-int(syscall.ERANGE)), 0, Code(-int(syscall.ERANGE))},
		{"10000000000000000000\n", 1e19, 0, 0, Code(-int(syscall.ERANGE))},
	} {
		size, scode := parseSize([]byte(tt.s))
		align, acode := parseAlignment([]byte(tt.s))
		if size != tt.size || scode != tt.scode || align != tt.align || acode != tt.acode {
			t.Errorf("%q: size %d %s, alignment %d %s; want %d %s, %d %s", tt.s,
				size, scode.Name(), align, acode.Name(), tt.size, tt.scode.Name(), tt.align, tt.acode.Name())
		}
	}
}

// cParseSize is pmem2_device_dax_size_from_stat's parsing, on the C
// library's strtoull.
func cParseSize(buf []byte) (uint64, Code) {
	v, end, errno := cstrtoull.Strtoull(buf, 0)
	if end == 0 || charAt(buf, end) != '\n' {
		return 0, ErrInvalidSizeFormat
	}
	if v == math.MaxUint64 && errno == syscall.ERANGE {
		return 0, Code(-int(syscall.ERANGE))
	}
	return v, 0
}

// cParseAlignment is pmem2_device_dax_alignment_from_stat's parsing, on
// the C library's strtoull.
func cParseAlignment(buf []byte) (uint64, Code) {
	parse := func(base int) (uint64, Code) {
		v, end, errno := cstrtoull.Strtoull(buf, base)
		if end == 0 || charAt(buf, end) != '\n' {
			return 0, ErrInvalidAlignmentFormat
		}
		if v == math.MaxUint64 && errno == syscall.ERANGE {
			return 0, Code(-int(syscall.ERANGE))
		}
		return v, 0
	}
	v, code := parse(10)
	if code != 0 || v&(v-1) == 0 {
		return v, code
	}
	return parse(16)
}

// sysfsRead is what the one bounded read leaves in the buffer.
func sysfsRead(data []byte) []byte {
	if len(data) > maxSizeLength {
		return data[:maxSizeLength]
	}
	return data
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
}

func FuzzParseSize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := sysfsRead(data)
		compareStrtoull(t, buf, 0)
		v, code := parseSize(buf)
		cv, ccode := cParseSize(buf)
		if v != cv || code != ccode {
			t.Fatalf("size of %q: Go %d %s, C %d %s", buf, v, code.Name(), cv, ccode.Name())
		}
	})
}

func FuzzParseAlignment(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := sysfsRead(data)
		compareStrtoull(t, buf, 10)
		compareStrtoull(t, buf, 16)
		v, code := parseAlignment(buf)
		cv, ccode := cParseAlignment(buf)
		if v != cv || code != ccode {
			t.Fatalf("alignment of %q: Go %d %s, C %d %s", buf, v, code.Name(), cv, ccode.Name())
		}
	})
}
