package emulate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pmem2emu/pmem2emu/pmem2"
)

// maxSpecBytes bounds what Decode reads: a spec is a hand-written document,
// and a runaway input must not exhaust memory.
const maxSpecBytes = 64 << 20

// Decode reads a JSON spec strictly and validates it (Spec.Validate):
// unknown fields, duplicate keys, null values, wrong types, trailing data
// and every broken rule are errors naming the JSON location. The error is
// a SpecErrors listing every problem found; it matches ErrInvalidSpec.
func Decode(r io.Reader) (*Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("emulate: reading spec: %w", err)
	}
	if len(data) > maxSpecBytes {
		return nil, SpecErrors{{Rule: "too-large", Msg: fmt.Sprintf("spec is larger than %d bytes", maxSpecBytes)}}
	}
	return Parse(data)
}

// Parse is Decode for a spec in memory.
func Parse(data []byte) (*Spec, error) {
	root, err := parseJSON(data)
	if err != nil {
		return nil, SpecErrors{err}
	}
	var p problems
	s := decodeSpec(&p, root)
	if len(p.list) > 0 {
		// Report the rules the well-typed fields break too, except
		// where a field that failed to decode would cause them.
		var q problems
		s.checkFields(&q)
		for _, e := range q.list {
			if !nearAny(e.Loc, p.list) {
				p.list = append(p.list, e)
			}
		}
		return nil, p.err()
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// nearAny reports whether loc is, contains or lies inside the location of
// one of the problems.
func nearAny(loc string, list SpecErrors) bool {
	for _, e := range list {
		if loc == "" || e.Loc == "" || strings.HasPrefix(e.Loc, loc) || strings.HasPrefix(loc, e.Loc) {
			return true
		}
	}
	return false
}

// LoadSpec decodes the spec in file.
func LoadSpec(file string) (*Spec, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("emulate: %w", err)
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}

// jval is a parsed JSON value that remembers object key order, so the
// decoder can report unknown and duplicate keys where encoding/json would
// silently drop or overwrite them.
type jval struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys []string
	vals []*jval
	str  string // string text or number literal
	b    bool
}

func (v *jval) kindName() string {
	switch v.kind {
	case 'o':
		return "an object"
	case 'a':
		return "an array"
	case 's':
		return "a string"
	case 'n':
		return "a number"
	case 'b':
		return "a boolean"
	}
	return "null"
}

func parseJSON(data []byte) (*jval, *SpecError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, "", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, syntaxErr("", fmt.Errorf("data after the top-level value at byte %d", dec.InputOffset()))
	}
	return v, nil
}

const maxDepth = 64

func syntaxErr(loc string, err error) *SpecError {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errors.New("unexpected end of input")
	}
	return &SpecError{Loc: loc, Rule: "json-syntax", Msg: "invalid JSON: " + err.Error()}
}

func parseValue(dec *json.Decoder, loc string, depth int) (*jval, *SpecError) {
	if depth > maxDepth {
		return nil, syntaxErr(loc, fmt.Errorf("nesting deeper than %d at byte %d", maxDepth, dec.InputOffset()))
	}
	off := dec.InputOffset()
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, syntaxErr(loc, fmt.Errorf("unexpected end of input at byte %d", off))
	}
	if err != nil {
		return nil, syntaxErr(loc, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jval{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, syntaxErr(loc, err)
				}
				k := kt.(string)
				for _, seen := range v.keys {
					if seen == k {
						return nil, &SpecError{Loc: join(loc, k), Rule: "duplicate-key", Msg: fmt.Sprintf("key %q appears twice in one object", k)}
					}
				}
				val, perr := parseValue(dec, join(loc, k), depth+1)
				if perr != nil {
					return nil, perr
				}
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, syntaxErr(loc, err)
			}
			return v, nil
		case '[':
			v := &jval{kind: 'a'}
			for dec.More() {
				val, perr := parseValue(dec, fmt.Sprintf("%s[%d]", loc, len(v.vals)), depth+1)
				if perr != nil {
					return nil, perr
				}
				v.vals = append(v.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, syntaxErr(loc, err)
			}
			return v, nil
		}
		return nil, syntaxErr(loc, fmt.Errorf("unexpected %q at byte %d", t, off))
	case string:
		return &jval{kind: 's', str: t}, nil
	case json.Number:
		return &jval{kind: 'n', str: string(t)}, nil
	case bool:
		return &jval{kind: 'b', b: t}, nil
	case nil:
		return &jval{kind: 'z'}, nil
	}
	return nil, syntaxErr(loc, fmt.Errorf("unexpected token at byte %d", off))
}

// field decoders: each reads one JSON value at loc into a Go field and
// reports a "wrong-type" problem when the value does not fit.

type fieldFunc func(p *problems, loc string, v *jval)

func decodeObject(p *problems, loc string, v *jval, fields map[string]fieldFunc, required ...string) {
	if v.kind != 'o' {
		p.add(loc, "wrong-type", "want an object, got "+v.kindName())
		return
	}
	for i, k := range v.keys {
		f, ok := fields[k]
		if !ok {
			p.add(join(loc, k), "unknown-field", fmt.Sprintf("unknown field %q (known: %s)", k, knownFields(fields)))
			continue
		}
		if v.vals[i].kind == 'z' {
			p.add(join(loc, k), "wrong-type", "null is not allowed; leave the field out instead")
			continue
		}
		f(p, join(loc, k), v.vals[i])
	}
	for _, r := range required {
		found := false
		for _, k := range v.keys {
			found = found || k == r
		}
		if !found {
			p.add(join(loc, r), "missing-field", fmt.Sprintf("field %q is required", r))
		}
	}
}

func join(loc, key string) string {
	if loc == "" {
		return key
	}
	return loc + "." + key
}

func knownFields(fields map[string]fieldFunc) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func decodeArray(p *problems, loc string, v *jval, each func(loc string, v *jval)) {
	if v.kind != 'a' {
		p.add(loc, "wrong-type", "want an array, got "+v.kindName())
		return
	}
	for i, e := range v.vals {
		each(fmt.Sprintf("%s[%d]", loc, i), e)
	}
}

func str(dst *string) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if v.kind != 's' {
			p.add(loc, "wrong-type", "want a string, got "+v.kindName())
			return
		}
		*dst = v.str
	}
}

func strPtr(dst **string) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		var s string
		str(&s)(p, loc, v)
		if v.kind == 's' {
			*dst = &s
		}
	}
}

func boolPtr(dst **bool) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if v.kind != 'b' {
			p.add(loc, "wrong-type", "want true or false, got "+v.kindName())
			return
		}
		*dst = new(v.b)
	}
}

// integer reads a JSON integer within [lo, hi]; fractions and exponents are
// type errors, out-of-range values range errors.
func integer(p *problems, loc string, v *jval, lo, hi int64) (int64, bool) {
	if v.kind != 'n' {
		p.add(loc, "wrong-type", "want an integer, got "+v.kindName())
		return 0, false
	}
	n, err := strconv.ParseInt(v.str, 10, 64)
	if err != nil {
		if strings.ContainsAny(v.str, ".eE") {
			p.add(loc, "wrong-type", "want an integer, got "+v.str)
		} else {
			p.add(loc, "out-of-range", fmt.Sprintf("%s is out of range [%d, %d]", v.str, lo, hi))
		}
		return 0, false
	}
	if n < lo || n > hi {
		p.add(loc, "out-of-range", fmt.Sprintf("%d is out of range [%d, %d]", n, lo, hi))
		return 0, false
	}
	return n, true
}

func uint64Field(dst *uint64) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if v.kind != 'n' {
			p.add(loc, "wrong-type", "want a non-negative integer, got "+v.kindName())
			return
		}
		n, err := strconv.ParseUint(v.str, 10, 64)
		if err != nil {
			if strings.ContainsAny(v.str, ".eE") {
				p.add(loc, "wrong-type", "want a non-negative integer, got "+v.str)
			} else {
				p.add(loc, "out-of-range", fmt.Sprintf("%s is out of range [0, %d]", v.str, uint64(math.MaxUint64)))
			}
			return
		}
		*dst = n
	}
}

func uint64Ptr(dst **uint64) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		var n uint64
		before := len(p.list)
		uint64Field(&n)(p, loc, v)
		if len(p.list) == before {
			*dst = &n
		}
	}
}

func uint32Field(dst *uint32) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if n, ok := integer(p, loc, v, 0, math.MaxUint32); ok {
			*dst = uint32(n)
		}
	}
}

func intField(dst *int, lo, hi int64) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if n, ok := integer(p, loc, v, lo, hi); ok {
			*dst = int(n)
		}
	}
}

func intPtr(dst **int, lo, hi int64) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if n, ok := integer(p, loc, v, lo, hi); ok {
			*dst = new(int(n))
		}
	}
}

func int64Field(dst *int64, lo, hi int64) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if n, ok := integer(p, loc, v, lo, hi); ok {
			*dst = n
		}
	}
}

func float64Field(dst *float64) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if v.kind != 'n' {
			p.add(loc, "wrong-type", "want a number, got "+v.kindName())
			return
		}
		f, err := strconv.ParseFloat(v.str, 64)
		if err != nil {
			p.add(loc, "out-of-range", v.str+" is not a finite number")
			return
		}
		*dst = f
	}
}

func base64Field(dst *[]byte) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		if v.kind != 's' {
			p.add(loc, "wrong-type", "want a base64 string, got "+v.kindName())
			return
		}
		b, err := base64.StdEncoding.DecodeString(v.str)
		if err != nil {
			p.add(loc, "bad-base64", "not standard base64: "+err.Error())
			return
		}
		*dst = b
	}
}

// codeField reads a libpmem2 code written as a number or as pmem2.Code.Name
// writes it.
func codeField(dst **pmem2.Code) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		switch v.kind {
		case 'n':
			if n, ok := integer(p, loc, v, math.MinInt32, math.MaxInt32); ok {
				*dst = new(pmem2.Code(n))
			}
		case 's':
			c, err := pmem2.ParseCode(v.str)
			if err != nil {
				p.add(loc, "unknown-code", fmt.Sprintf("%q is not a libpmem2 code (want a number, a PMEM2_E_* name, -EXXX or 0)", v.str))
				return
			}
			*dst = new(c)
		default:
			p.add(loc, "wrong-type", "want a code (number or name), got "+v.kindName())
		}
	}
}

const maxInt = int64(math.MaxInt)

func decodeSpec(p *problems, v *jval) *Spec {
	s := &Spec{}
	decodeObject(p, "", v, map[string]fieldFunc{
		"dax_subsystem": str(&s.DAXSubsystem),
		"dax_devices": func(p *problems, loc string, v *jval) {
			decodeArray(p, loc, v, func(loc string, v *jval) {
				s.DAXDevices = append(s.DAXDevices, decodeDAX(p, loc, v))
			})
		},
		"pmem_devices": func(p *problems, loc string, v *jval) {
			decodeArray(p, loc, v, func(loc string, v *jval) {
				s.PmemDevices = append(s.PmemDevices, decodePmem(p, loc, v))
			})
		},
		"nodes": func(p *problems, loc string, v *jval) {
			decodeArray(p, loc, v, func(loc string, v *jval) {
				s.Nodes = append(s.Nodes, decodeNode(p, loc, v))
			})
		},
		"faults": func(p *problems, loc string, v *jval) {
			decodeArray(p, loc, v, func(loc string, v *jval) {
				s.Faults = append(s.Faults, decodeFault(p, loc, v))
			})
		},
	})
	return s
}

func decodeDAX(p *problems, loc string, v *jval) DAXDevice {
	var d DAXDevice
	decodeObject(p, loc, v, map[string]fieldFunc{
		"name":        str(&d.Name),
		"major":       uint32Field(&d.Major),
		"minor":       uint32Field(&d.Minor),
		"size":        uint64Field(&d.Size),
		"align":       uint64Field(&d.Align),
		"numa_node":   intField(&d.NUMANode, math.MinInt32, math.MaxInt32),
		"target_node": intPtr(&d.TargetNode, math.MinInt32, math.MaxInt32),
		"size_raw":    strPtr(&d.SizeRaw),
		"align_raw":   strPtr(&d.AlignRaw),
		"nd_bus":      boolPtr(&d.NDBus),
		"dax_region":  boolPtr(&d.DAXRegion),
		"subsystem":   str(&d.Subsystem),
		"expect":      expectField(&d.Expect),
	}, "name")
	return d
}

func decodePmem(p *problems, loc string, v *jval) PmemDevice {
	var d PmemDevice
	decodeObject(p, loc, v, map[string]fieldFunc{
		"name":      str(&d.Name),
		"major":     uint32Field(&d.Major),
		"minor":     uint32Field(&d.Minor),
		"size":      uint64Field(&d.Size),
		"numa_node": intField(&d.NUMANode, math.MinInt32, math.MaxInt32),
		"expect":    expectField(&d.Expect),
	}, "name")
	return d
}

func decodeNode(p *problems, loc string, v *jval) Node {
	var n Node
	decodeObject(p, loc, v, map[string]fieldFunc{
		"path":           str(&n.Path),
		"type":           str(&n.Type),
		"mode":           str(&n.Mode),
		"uid":            uint32Field(&n.UID),
		"gid":            uint32Field(&n.GID),
		"content":        str(&n.Content),
		"content_base64": base64Field(&n.ContentBase64),
		"size":           int64Field(&n.Size, 0, math.MaxInt64),
		"major":          uint32Field(&n.Major),
		"minor":          uint32Field(&n.Minor),
		"subsystem":      str(&n.Subsystem),
		"target":         str(&n.Target),
		"expect":         expectField(&n.Expect),
	}, "path", "type")
	return n
}

func decodeFault(p *problems, loc string, v *jval) Fault {
	var f Fault
	decodeObject(p, loc, v, map[string]fieldFunc{
		"path":        str(&f.Path),
		"op":          str(&f.Op),
		"errno":       str(&f.Errno),
		"after":       intField(&f.After, 0, maxInt),
		"times":       intField(&f.Times, 0, maxInt),
		"delay":       str(&f.Delay),
		"probability": float64Field(&f.Probability),
		"seed":        int64Field(&f.Seed, math.MinInt64, math.MaxInt64),
		"short":       intField(&f.Short, 0, maxInt),
	}, "path", "op")
	return f
}

func expectField(dst **Expect) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		e := &Expect{}
		decodeObject(p, loc, v, map[string]fieldFunc{
			"r":    outcomeField(&e.R),
			"w":    outcomeField(&e.W),
			"rw":   outcomeField(&e.RW),
			"path": outcomeField(&e.Path),
			"all":  outcomeField(&e.All),
		})
		*dst = e
	}
}

func outcomeField(dst **Outcome) fieldFunc {
	return func(p *problems, loc string, v *jval) {
		o := &Outcome{}
		decodeObject(p, loc, v, map[string]fieldFunc{
			"open_errno":   str(&o.OpenErrno),
			"from_fd":      codeField(&o.FromFD),
			"size":         uint64Ptr(&o.Size),
			"size_rc":      codeField(&o.SizeRC),
			"alignment":    uint64Ptr(&o.Alignment),
			"alignment_rc": codeField(&o.AlignmentRC),
		})
		*dst = o
	}
}
