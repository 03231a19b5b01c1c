package emulate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

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
	d := &decoder{dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()
	s := &Spec{}
	if tok, ok := d.next(""); ok {
		d.value("", tok, reflect.ValueOf(s).Elem())
	}
	if _, err := d.dec.Token(); d.syntax == nil && err != io.EOF {
		d.syntax = &SpecError{Rule: "json-syntax", Msg: fmt.Sprintf("invalid JSON: data after the top-level value at byte %d", d.dec.InputOffset())}
	}
	if d.syntax != nil {
		return nil, SpecErrors{d.syntax}
	}
	if p := d.p; len(p.list) > 0 {
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

// The decoder reads the JSON token by token into the Go types of the spec:
// an object's keys are its struct's json tags (a key without omitempty is
// required), so the struct is the schema and a new field needs no decoder
// code. A value that does not fit is a problem at its location and is
// skipped, so one pass reports every problem; a syntax error ends it.
type decoder struct {
	dec    *json.Decoder
	p      problems
	syntax *SpecError
}

var (
	codeType  = reflect.TypeFor[pmem2.Code]()
	bytesType = reflect.TypeFor[[]byte]()
)

// field is one JSON key of a spec struct.
type field struct {
	name     string
	index    int
	required bool
}

var fieldCache sync.Map // reflect.Type → []field

func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var out []field
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && t.Field(i).IsExported() {
			out = append(out, field{name, i, opts != "omitempty"})
		}
	}
	fieldCache.Store(t, out)
	return out
}

// next reads a token; after a syntax error, nothing.
func (d *decoder) next(loc string) (json.Token, bool) {
	if d.syntax != nil {
		return nil, false
	}
	off := d.dec.InputOffset()
	tok, err := d.dec.Token()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("unexpected end of input at byte %d", off)
	}
	if err != nil {
		d.syntax = &SpecError{Loc: loc, Rule: "json-syntax", Msg: "invalid JSON: " + err.Error()}
		return nil, false
	}
	return tok, true
}

// more reports whether the object or array being read has more elements.
func (d *decoder) more() bool { return d.syntax == nil && d.dec.More() }

// skip reads the rest of the value tok starts.
func (d *decoder) skip(tok json.Token) {
	for depth, ok := 0, true; ok; tok, ok = d.next("") {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return
		}
	}
}

func kindOf(tok json.Token) string {
	switch tok.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	if tok == json.Delim('{') {
		return "an object"
	}
	return "an array"
}

// value reads the value tok starts at loc into dst.
func (d *decoder) value(loc string, tok json.Token, dst reflect.Value) {
	t := dst.Type()
	wrong := func(want string) {
		d.p.add(loc, "wrong-type", "want "+want+", got "+kindOf(tok))
		d.skip(tok)
	}
	s, isString := tok.(string)
	num, isNumber := tok.(json.Number)
	if tt, ok := textTypes[t]; ok {
		if x, ok := tt.parse(s); !isString {
			wrong("a string")
		} else if ok {
			dst.Set(reflect.ValueOf(x))
		} else {
			d.p.add(loc, tt.rule, fmt.Sprintf(tt.want, s))
		}
		return
	}
	switch {
	case t == codeType && isString:
		if c, err := pmem2.ParseCode(s); err != nil {
			d.p.add(loc, "unknown-code", fmt.Sprintf("%q is not a libpmem2 code (want a number, a PMEM2_E_* name, -EXXX or 0)", s))
		} else {
			dst.SetInt(int64(c))
		}
	case t == codeType && !isNumber:
		wrong("a code (number or name)")
	case t == bytesType:
		b, err := base64.StdEncoding.DecodeString(s)
		switch {
		case !isString:
			wrong("a base64 string")
		case err != nil:
			d.p.add(loc, "bad-base64", "not standard base64: "+err.Error())
		default:
			dst.SetBytes(b)
		}
	case t.Kind() == reflect.Pointer:
		e := reflect.New(t.Elem())
		before := len(d.p.list)
		d.value(loc, tok, e.Elem())
		// A struct is kept with its bad fields left out, so the rules of
		// its good ones still apply.
		if len(d.p.list) == before || t.Elem().Kind() == reflect.Struct {
			dst.Set(e)
		}
	case t.Kind() == reflect.Struct:
		if tok != json.Delim('{') {
			wrong("an object")
			return
		}
		d.object(loc, dst)
	case t.Kind() == reflect.Slice:
		if tok != json.Delim('[') {
			wrong("an array")
			return
		}
		for i := 0; d.more(); i++ {
			at := fmt.Sprintf("%s[%d]", loc, i)
			if tok, ok := d.next(at); ok {
				dst.Set(reflect.Append(dst, reflect.New(t.Elem()).Elem()))
				d.value(at, tok, dst.Index(i))
			}
		}
		d.next(loc)
	case t.Kind() == reflect.String:
		if !isString {
			wrong("a string")
			return
		}
		dst.SetString(s)
	case t.Kind() == reflect.Bool:
		b, ok := tok.(bool)
		if !ok {
			wrong("true or false")
			return
		}
		dst.SetBool(b)
	case t.Kind() == reflect.Float64:
		f, err := num.Float64()
		switch {
		case !isNumber:
			wrong("a number")
		case err != nil:
			d.p.add(loc, "out-of-range", string(num)+" is not a finite number")
		default:
			dst.SetFloat(f)
		}
	case !isNumber:
		wrong(map[bool]string{true: "an integer", false: "a non-negative integer"}[dst.CanInt() || t == codeType])
	case dst.CanInt():
		bits := t.Bits()
		if t == codeType {
			bits = 32
		}
		lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
		n, err := strconv.ParseInt(string(num), 10, 64)
		if err == nil && (n < lo || n > hi) {
			err = strconv.ErrRange
		}
		if d.number(loc, num, err, "an integer", fmt.Sprintf("[%d, %d]", lo, hi)) {
			dst.SetInt(n)
		}
	default:
		hi := uint64(math.MaxUint64) >> (64 - t.Bits())
		n, err := strconv.ParseUint(string(num), 10, 64)
		if err == nil && n > hi {
			err = strconv.ErrRange
		}
		if d.number(loc, num, err, "a non-negative integer", fmt.Sprintf("[0, %d]", hi)) {
			dst.SetUint(n)
		}
	}
}

// number reports a failure to parse num as a type error (a fraction or an
// exponent) or a range error.
func (d *decoder) number(loc string, num json.Number, err error, want, bounds string) bool {
	switch {
	case err == nil:
		return true
	case strings.ContainsAny(string(num), ".eE"):
		d.p.add(loc, "wrong-type", "want "+want+", got "+string(num))
	default:
		d.p.add(loc, "out-of-range", string(num)+" is out of range "+bounds)
	}
	return false
}

// object reads the members of an object into dst, a struct.
func (d *decoder) object(loc string, dst reflect.Value) {
	fields := fieldsOf(dst.Type())
	var seen []string
	for d.more() {
		key, ok := d.next(loc)
		if !ok {
			return
		}
		k := key.(string)
		at := join(loc, k)
		tok, ok := d.next(at)
		if !ok {
			return
		}
		j := slices.IndexFunc(fields, func(f field) bool { return f.name == k })
		switch {
		case slices.Contains(seen, k):
			d.p.add(at, "duplicate-key", fmt.Sprintf("key %q appears twice in one object", k))
			d.skip(tok)
		case j < 0:
			names := make([]string, len(fields))
			for n, f := range fields {
				names[n] = f.name
			}
			slices.Sort(names)
			d.p.add(at, "unknown-field", fmt.Sprintf("unknown field %q (known: %s)", k, strings.Join(names, ", ")))
			d.skip(tok)
		case tok == nil:
			d.p.add(at, "wrong-type", "null is not allowed; leave the field out instead")
		default:
			d.value(at, tok, dst.Field(fields[j].index))
		}
		seen = append(seen, k)
	}
	d.next(loc)
	for _, f := range fields {
		if f.required && !slices.Contains(seen, f.name) {
			d.p.add(join(loc, f.name), "missing-field", fmt.Sprintf("field %q is required", f.name))
		}
	}
}

func join(loc, key string) string {
	if loc == "" {
		return key
	}
	return loc + "." + key
}
