package pmem2

import "math"

// badblocksFile is libndctl's bad-block iterator (badblocks_iter_*) over a
// sysfs badblocks file — a region's, or a block device's: fopen, then one
// getline per bad block parsed with sscanf(line, "%llu %u", &offset, &len).
// The first line that does not give both numbers ends the list, as does
// the end of the file or a read error; a file that cannot be opened has no
// bad blocks.
//
// The line is parsed as it streams through a fixed buffer, so a file of
// any size, with lines of any length, costs the buffer and nothing more.
type badblocksFile struct {
	fd   int // -1 once the list ended
	buf  [4096]byte
	r, n int
}

// openBadblocks opens the file at the NUL-terminated path. O_NONBLOCK
// because a FIFO must not hang the port (C's fopen blocks on it).
func openBadblocks(cpath []byte) *badblocksFile {
	f := &badblocksFile{fd: -1}
	if fd, errno := openat(cpath, sysfsOpenFlags); errno == 0 {
		f.fd = fd
	}
	return f
}

// close releases the descriptor; the list ends. Idempotent.
func (f *badblocksFile) close() {
	if f.fd >= 0 {
		closeFD(f.fd)
		f.fd = -1
	}
}

// byte returns the next byte of the file; false at its end or on an error
// (getline returns -1 for both).
func (f *badblocksFile) byte() (byte, bool) {
	if f.r == f.n {
		if f.fd < 0 {
			return 0, false
		}
		n, errno := read(f.fd, f.buf[:])
		if errno != 0 || n <= 0 {
			return 0, false
		}
		f.r, f.n = 0, n
	}
	c := f.buf[f.r]
	f.r++
	return c, true
}

// next is badblocks_iter_next: the next line's offset and length in
// 512-byte sectors, or false when the list ended (the file is then
// closed).
func (f *badblocksFile) next() (offset uint64, length uint32, ok bool) {
	if f.fd < 0 {
		return 0, 0, false
	}
	c, more := f.byte()
	if !more { // getline: nothing left
		f.close()
		return 0, 0, false
	}
	var p lineScan
	// sscanf's string ends at a NUL or at the end of the line; the bytes
	// of the line after what decided sscanf are skipped, as getline reads
	// them with the line.
	for more && c != '\n' && c != 0 && p.feed(c) {
		c, more = f.byte()
	}
	offset, length, ok = p.result()
	if !ok {
		f.close()
		return 0, 0, false
	}
	for more && c != '\n' {
		c, more = f.byte()
	}
	return offset, length, true
}

// lineScan is sscanf(line, "%llu %u") fed one byte at a time: white space,
// an optional sign and at least one digit for each number, the digits
// converted as strtoull converts them (the second number then keeps its low
// 32 bits, as %u stores strtoul's result).
type lineScan struct {
	state    int
	neg      bool
	mag      uint64
	overflow bool
	first    uint64
}

const (
	scanSpace1 = iota // before the first number
	scanSign1
	scanDigits1
	scanSpace2 // between the numbers
	scanSign2
	scanDigits2
	scanDone
	scanFailed
)

// feed takes the next byte; false once the outcome is decided.
func (p *lineScan) feed(c byte) bool {
	digit := c >= '0' && c <= '9'
	sign := c == '+' || c == '-'
	switch p.state {
	case scanSpace1, scanSpace2:
		switch {
		case isspace(c):
		case sign:
			p.neg = c == '-'
			p.state++
		case digit:
			p.state += 2
			p.add(c)
		default:
			p.state = scanFailed
		}
	case scanSign1, scanSign2:
		if !digit {
			p.state = scanFailed
			break
		}
		p.state++
		p.add(c)
	case scanDigits1:
		switch {
		case digit:
			p.add(c)
		case isspace(c) || sign:
			p.first = p.value()
			p.state = scanSpace2
			return p.feed(c)
		default:
			p.state = scanFailed
		}
	case scanDigits2:
		if digit {
			p.add(c)
			break
		}
		p.state = scanDone
	}
	return p.state != scanDone && p.state != scanFailed
}

func (p *lineScan) add(c byte) {
	d := uint64(c - '0')
	if p.mag > (math.MaxUint64-d)/10 {
		p.overflow = true
	} else {
		p.mag = p.mag*10 + d
	}
}

// value ends a number: strtoull's result on its sign and digits.
func (p *lineScan) value() uint64 {
	v := p.mag
	switch {
	case p.overflow:
		v = math.MaxUint64
	case p.neg:
		v = -v
	}
	p.neg, p.mag, p.overflow = false, 0, false
	return v
}

// result is what sscanf returned, once the string ended.
func (p *lineScan) result() (uint64, uint32, bool) {
	if p.state != scanDigits2 && p.state != scanDone {
		return 0, 0, false
	}
	return p.first, uint32(p.value()), true
}
