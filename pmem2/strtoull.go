package pmem2

import (
	"bytes"
	"math"
	"syscall"
)

// maxSizeLength is MAX_SIZE_LENGTH of pmem2_utils_linux.c: the one read of
// a sysfs number takes at most this many bytes.
const maxSizeLength = 64

// strtoull is glibc's strtoull(s, &end, base) in the C locale, on s as the
// C code sees its buffer: terminated by the first NUL byte, or by the end
// of s. base is 0 or 2…36. It returns the value, end as an index into s and
// whether errno would be ERANGE (the value is then MaxUint64).
//
// The details that matter for sysfs files: leading isspace (" \t\n\v\f\r")
// is skipped; one '+' or '-' is accepted and '-' negates modulo 2^64 ("-1"
// is MaxUint64 without ERANGE); base 0 reads "0x"/"0X" as hex and a leading
// "0" as octal; "0x" not followed by a hex digit parses as 0 with end at the
// 'x'; with no digits at all end is 0, the start of s (not after the
// spaces); on overflow the digits are still consumed.
func strtoull(s []byte, base int) (v uint64, end int, erange bool) {
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	i := 0
	for isspace(at(i)) {
		i++
	}
	neg := false
	switch at(i) {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	if at(i) == '0' {
		if (base == 0 || base == 16) && upper(at(i+1)) == 'X' {
			i += 2
			base = 16
		} else if base == 0 {
			base = 8
		}
	} else if base == 0 {
		base = 10
	}
	save := i
	b := uint64(base)
	cutoff, cutlim := math.MaxUint64/b, math.MaxUint64%b
	overflow := false
	for ; i < len(s); i++ {
		d, ok := digit(s[i])
		if !ok || d >= b {
			break
		}
		if v > cutoff || (v == cutoff && d > cutlim) {
			overflow = true
		} else {
			v = v*b + d
		}
	}
	if i == save {
		// No digits. glibc: "0x" followed by no hex digit is 0 ending at
		// the 'x'; anything else did not convert at all.
		if save >= 2 && upper(s[save-1]) == 'X' && s[save-2] == '0' {
			return 0, save - 1, false
		}
		return 0, 0, false
	}
	if overflow {
		return math.MaxUint64, i, true
	}
	if neg {
		v = -v
	}
	return v, i, false
}

func isspace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func digit(c byte) (uint64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0'), true
	case c >= 'a' && c <= 'z':
		return uint64(c-'a') + 10, true
	case c >= 'A' && c <= 'Z':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// charAt is *endptr: the byte at end, NUL past the buffer or its first NUL.
func charAt(s []byte, end int) byte {
	if end < len(s) {
		return s[end]
	}
	return 0
}

// parseSize is the parsing half of pmem2_device_dax_size_from_stat:
// strtoull(buf, &end, 0); end == buf or *end != '\n' is
// PMEM2_E_INVALID_SIZE_FORMAT; ULLONG_MAX with ERANGE is -ERANGE.
func parseSize(buf []byte) (uint64, Code) {
	v, end, erange := strtoull(buf, 0)
	if end == 0 || charAt(buf, end) != '\n' {
		return 0, ErrInvalidSizeFormat
	}
	if v == math.MaxUint64 && erange {
		return 0, Code(-int(syscall.ERANGE))
	}
	return v, 0
}

// parseAlignment is the parsing half of
// pmem2_device_dax_alignment_from_stat: decimal, and when that is not a
// power of two (0 counts as one in this test) hex, as kernels before 4.9
// printed it. Each parse requires the '\n' (PMEM2_E_INVALID_ALIGNMENT_FORMAT)
// and fails with -ERANGE on overflow. Whether the result is a valid
// alignment is the caller's check.
func parseAlignment(buf []byte) (uint64, Code) {
	v, code := parseAlignmentBase(buf, 10)
	if code != 0 || v&(v-1) == 0 {
		return v, code
	}
	return parseAlignmentBase(buf, 16)
}

func parseAlignmentBase(buf []byte, base int) (uint64, Code) {
	v, end, erange := strtoull(buf, base)
	if end == 0 || charAt(buf, end) != '\n' {
		return 0, ErrInvalidAlignmentFormat
	}
	if v == math.MaxUint64 && erange {
		return 0, Code(-int(syscall.ERANGE))
	}
	return v, 0
}
