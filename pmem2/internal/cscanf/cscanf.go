// Package cscanf calls the C library's sscanf, getline and strtoll the way
// libndctl does, so the tests of package pmem2 can compare its pure-Go
// ports with the real thing. Only tests import it: package pmem2 itself
// stays free of cgo.
package cscanf

/*
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// bad_blocks is libndctl's badblocks_iter over buf: getline, then
// sscanf(line, "%llu %u") until a line fails or the input ends. It writes
// up to max pairs and returns how many lines parsed.
static int
bad_blocks(const char *buf, size_t len, unsigned long long *off, unsigned *cnt, int max)
{
	FILE *f = fmemopen((void *)buf, len, "r");
	if (f == NULL)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (getline(&line, &cap, f) != -1) {
		unsigned long long o;
		unsigned c;
		if (sscanf(line, "%llu %u", &o, &c) != 2)
			break;
		if (n < max) {
			off[n] = o;
			cnt[n] = c;
		}
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

// mapping is mappings_init's sscanf of a region's mappingN attribute.
static int
mapping(const char *s, unsigned *dimm)
{
	unsigned long long offset, length;
	int position;
	return sscanf(s, "nmem%u,%llu,%llu,%d", dimm, &offset, &length, &position);
}
*/
import "C"

import "unsafe"

// BadBlock is one line libndctl's iterator parsed: offset and length in
// 512-byte sectors.
type BadBlock struct {
	Offset uint64
	Count  uint32
}

// BadBlocks is what libndctl's bad-block iterator returns for a file
// holding data (at most max entries).
func BadBlocks(data []byte, max int) []BadBlock {
	if len(data) == 0 {
		return nil // fmemopen refuses a zero-size buffer: nothing to read either way
	}
	cs := C.CBytes(data)
	defer C.free(cs)
	off := make([]C.ulonglong, max+1)
	cnt := make([]C.uint, max+1)
	n := int(C.bad_blocks((*C.char)(cs), C.size_t(len(data)), &off[0], &cnt[0], C.int(max)))
	var out []BadBlock
	for i := 0; i < n && i < max; i++ {
		out = append(out, BadBlock{uint64(off[i]), uint32(cnt[i])})
	}
	return out
}

// Mapping is sscanf(s, "nmem%u,%llu,%llu,%d", &dimm, …) on s up to its
// first NUL: the DIMM's number and how many conversions succeeded.
func Mapping(s []byte) (dimm uint32, n int) {
	cs := C.CString(string(s))
	defer C.free(unsafe.Pointer(cs))
	var d C.uint
	r := int(C.mapping(cs, &d))
	return uint32(d), r
}
