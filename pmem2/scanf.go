package pmem2

import (
	"bytes"
	"math"
	"strconv"
)

// libndctl and libdaxctl recognise their devices by name with sscanf:
// "region%d", "namespace<R>.%d", "dax<R>.%d", "ndctl%d", "dax%d.%d", and
// read a bus's dev attribute with "%d:%d". These helpers are those sscanf
// calls, as glibc performs them.

// scanInt is glibc's sscanf conversion %d at the start of s: leading white
// space skipped, an optional sign, at least one decimal digit. The digits
// are converted like strtol (clamped to the range of a long on overflow)
// and the result is stored in an int, keeping its low 32 bits. It returns
// the value, the bytes consumed and whether a number was read.
func scanInt(s []byte) (int32, int, bool) {
	i := 0
	for i < len(s) && isspace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			over = true
		} else {
			v = v*10 + d
		}
	}
	if i == start {
		return 0, 0, false
	}
	var l int64
	switch {
	case !neg && (over || v > math.MaxInt64):
		l = math.MaxInt64
	case neg && (over || v > 1<<63):
		l = math.MinInt64
	case neg:
		l = int64(-v)
	default:
		l = int64(v)
	}
	return int32(l), i, true
}

// scanName is sscanf(name, "<prefix>%d", &id) == 1: name starts with prefix
// exactly and a number follows; anything after the number is ignored.
func scanName(name []byte, prefix []byte) (int32, bool) {
	if !bytes.HasPrefix(name, prefix) {
		return 0, false
	}
	v, _, ok := scanInt(name[len(prefix):])
	return v, ok
}

// scanPair is sscanf(s, "<a>%d<sep>%d", &x, &y) == 2, for "dax%d.%d" and
// "%d:%d".
func scanPair(s []byte, a string, sep byte) (int32, int32, bool) {
	if !bytes.HasPrefix(s, []byte(a)) {
		return 0, 0, false
	}
	s = s[len(a):]
	x, n, ok := scanInt(s)
	if !ok || n >= len(s) || s[n] != sep {
		return 0, 0, false
	}
	y, _, ok := scanInt(s[n+1:])
	return x, y, ok
}

// devPrefix is the prefix libndctl builds with sprintf("%s%d.", kind, id)
// to recognise the devices of region id: "namespace0.", "dax0.".
func devPrefix(dst []byte, kind string, id int32) []byte {
	dst = append(dst, kind...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	return append(dst, '.')
}

// scanUnsigned is glibc's sscanf conversion %llu (or %u, whose caller keeps
// the low 32 bits) at the start of s: leading white space skipped, an
// optional sign, at least one decimal digit, converted as strtoull does
// ("-1" is 2^64-1, an overflow saturates at 2^64-1). It returns the value,
// the bytes consumed and whether a number was read.
func scanUnsigned(s []byte) (uint64, int, bool) {
	i := 0
	for i < len(s) && isspace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return 0, 0, false
	}
	// The digits, with their sign, are what glibc hands to strtoull; no
	// base prefix can be among them.
	first := start
	if first > 0 && (s[first-1] == '-' || s[first-1] == '+') {
		first--
	}
	v, _, _ := strtoull(s[first:i], 10)
	return v, i, true
}

// scanMapping is libndctl's sscanf(buf, "nmem%u,%llu,%llu,%d", &dimm,
// &offset, &length, &position) >= 3 for a region's mappingN attribute: the
// DIMM's number (the low 32 bits, as %u stores it) and whether the first
// three conversions succeeded, which is all mappings_init requires.
func scanMapping(s []byte) (dimm uint32, ok bool) {
	if !bytes.HasPrefix(s, []byte("nmem")) {
		return 0, false
	}
	s = s[len("nmem"):]
	id, n, ok := scanUnsigned(s)
	for field := 0; ok && field < 2; field++ {
		s = s[n:]
		if len(s) == 0 || s[0] != ',' {
			return 0, false
		}
		s = s[1:]
		_, n, ok = scanUnsigned(s)
	}
	return uint32(id), ok
}
