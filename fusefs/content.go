package fusefs

import "slices"

// chunkSize is the unit in which file bytes are stored. Bytes never written
// (the zeros of a ZeroFile, holes left by writes past the end) are not
// stored, so a 1 TiB file with a few written bytes costs a few chunks.
const chunkSize = 64 << 10

// content is a regular file's bytes: size bytes, of which only the chunks
// in head (chunk 0, the common case of a small file) and rest hold data;
// everything else reads as zeros. A chunk slice may be shorter than
// chunkSize: its tail is zeros too. Invariant: no stored byte lies at or
// beyond size, so growing size exposes zeros.
type content struct {
	size int64
	head []byte
	rest map[int64][]byte
}

func newContent(data []byte, size int64) content {
	c := content{size: max(size, int64(len(data)))}
	if len(data) <= chunkSize {
		c.head = append([]byte(nil), data...)
		return c
	}
	c.writeAt(data, 0)
	return c
}

func (c *content) chunk(i int64) []byte {
	if i == 0 {
		return c.head
	}
	return c.rest[i]
}

func (c *content) setChunk(i int64, b []byte) {
	if i == 0 {
		c.head = b
		return
	}
	if len(b) == 0 {
		delete(c.rest, i)
		return
	}
	if c.rest == nil {
		c.rest = make(map[int64][]byte)
	}
	c.rest[i] = b
}

// readAt fills dst from off and returns how many bytes it filled: fewer
// than len(dst) only at the end of the file.
func (c *content) readAt(dst []byte, off int64) int {
	if off < 0 || off >= c.size {
		return 0
	}
	n := int(min(int64(len(dst)), c.size-off))
	dst = dst[:n]
	for done := 0; done < n; {
		pos := off + int64(done)
		i, in := pos/chunkSize, int(pos%chunkSize)
		span := min(chunkSize-in, n-done)
		part := dst[done : done+span]
		ch := c.chunk(i)
		m := 0
		if in < len(ch) {
			m = copy(part, ch[in:])
		}
		clear(part[m:])
		done += span
	}
	return n
}

// writeAt stores p at off, growing the file when p reaches past its end.
func (c *content) writeAt(p []byte, off int64) {
	for done := 0; done < len(p); {
		pos := off + int64(done)
		i, in := pos/chunkSize, int(pos%chunkSize)
		span := min(chunkSize-in, len(p)-done)
		ch := c.chunk(i)
		if need := in + span; len(ch) < need {
			if cap(ch) >= need {
				// Bytes between len and cap may be left over from a
				// truncate: expose them as zeros.
				old := len(ch)
				ch = ch[:need]
				clear(ch[old:])
			} else {
				grown := make([]byte, need, max(need, min(2*cap(ch), chunkSize)))
				copy(grown, ch)
				ch = grown
			}
		}
		copy(ch[in:], p[done:done+span])
		c.setChunk(i, ch)
		done += span
	}
	c.size = max(c.size, off+int64(len(p)))
}

// truncate sets the size; bytes past a shrunk end are dropped, so growing
// the file again exposes zeros.
func (c *content) truncate(size int64) {
	if size < c.size {
		last := (size - 1) / chunkSize // chunk holding the new last byte; -1 when empty
		if size == 0 {
			last = -1
		}
		for i := range c.rest {
			if i > last {
				delete(c.rest, i)
			}
		}
		if last < 0 {
			c.head = nil
		} else if ch := c.chunk(last); int64(len(ch)) > size-last*chunkSize {
			c.setChunk(last, ch[:size-last*chunkSize])
		}
	}
	c.size = size
}

// stored is the number of bytes held in memory, for st_blocks.
func (c *content) stored() int64 {
	n := int64(len(c.head))
	for _, ch := range c.rest {
		n += int64(len(ch))
	}
	return n
}

// bytes returns the file's content up to its last stored byte; the rest,
// up to size, is zeros.
func (c *content) bytes() []byte {
	end := int64(len(c.head))
	idx := make([]int64, 0, len(c.rest))
	for i, ch := range c.rest {
		idx = append(idx, i)
		end = max(end, i*chunkSize+int64(len(ch)))
	}
	slices.Sort(idx)
	if end == 0 {
		return nil
	}
	out := make([]byte, end)
	copy(out, c.head)
	for _, i := range idx {
		copy(out[i*chunkSize:], c.rest[i])
	}
	return out
}
