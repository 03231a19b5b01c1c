package emulate

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/pmem2emu/pmem2emu/pmem2"
)

// encode writes v, a spec value, as compact JSON that Decode reads back:
// what encoding/json writes for the struct tags, but the textTypes as
// their strings and codes other than 0 by name.
func encode(v reflect.Value) ([]byte, error) {
	var b encoder
	b.value(v)
	return b.Bytes(), b.err
}

type encoder struct {
	bytes.Buffer
	err error // the first value JSON cannot hold (a NaN)
}

func (b *encoder) value(v reflect.Value) {
	t := v.Type()
	if tt, ok := textTypes[t]; ok {
		b.json(tt.format(v.Interface()))
		return
	}
	switch {
	case t == codeType && v.Int() != 0:
		b.json(pmem2.Code(v.Int()).Name())
		return
	case t.Kind() == reflect.Pointer && !v.IsNil():
		b.value(v.Elem())
		return
	case t.Kind() == reflect.Struct:
		b.WriteByte('{')
		for _, f := range fieldsOf(t) {
			fv := v.Field(f.index)
			if !f.required && empty(fv) {
				continue
			}
			if b.Bytes()[b.Len()-1] != '{' {
				b.WriteByte(',')
			}
			b.json(f.name)
			b.WriteByte(':')
			b.value(fv)
		}
		b.WriteByte('}')
		return
	case t.Kind() == reflect.Slice && t != bytesType:
		// A nil list reached here was given ("badblocks": [] expects
		// none): it is written as the empty list, never as null.
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.value(v.Index(i))
		}
		b.WriteByte(']')
		return
	}
	b.json(v.Interface())
}

// empty is encoding/json's test for omitempty on the kinds a spec holds.
func empty(v reflect.Value) bool {
	return v.Kind() != reflect.Struct && (v.IsZero() || v.Kind() == reflect.Slice && v.Len() == 0)
}

// json writes a basic value (string, number, bool, []byte, nil) as
// encoding/json does.
func (b *encoder) json(x any) {
	out, err := json.Marshal(x)
	if err != nil && b.err == nil {
		b.err = err
	}
	b.Write(out)
}
