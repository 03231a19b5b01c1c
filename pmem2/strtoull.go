package pmem2

import (
	"bytes"
	"math"
)

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
	mag, neg, end, overflow := strtonum(s, base)
	switch {
	case overflow:
		return math.MaxUint64, end, true
	case neg:
		return -mag, end, false
	}
	return mag, end, false
}

// strtoll is glibc's strtoll(s, NULL, base), and strtol's on a 64-bit
// Linux: strtoull's parsing, with the value clamped to [LLONG_MIN,
// LLONG_MAX] ("junk" is 0, "-1" is -1, "9223372036854775808" is
// LLONG_MAX).
func strtoll(s []byte, base int) int64 {
	mag, neg, _, overflow := strtonum(s, base)
	switch {
	case !neg && (overflow || mag > math.MaxInt64):
		return math.MaxInt64
	case neg && (overflow || mag > 1<<63):
		return math.MinInt64
	case neg:
		return int64(-mag)
	}
	return int64(mag)
}

// strtonum is the parsing glibc's strto(u)ll functions share: the
// magnitude of the number, whether a '-' preceded it, where it ends (0
// when no digit was read) and whether the magnitude overflowed 2^64-1.
func strtonum(s []byte, base int) (mag uint64, neg bool, end int, overflow bool) {
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
	for ; i < len(s); i++ {
		d, ok := digit(s[i])
		if !ok || d >= b {
			break
		}
		if mag > cutoff || (mag == cutoff && d > cutlim) {
			overflow = true
		} else {
			mag = mag*b + d
		}
	}
	if i == save {
		// No digits. glibc: "0x" followed by no hex digit is 0 ending at
		// the 'x'; anything else did not convert at all.
		if save >= 2 && upper(s[save-1]) == 'X' && s[save-2] == '0' {
			return 0, false, save - 1, false
		}
		return 0, false, 0, false
	}
	return mag, neg, i, overflow
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
