package emulate_test

import (
	"reflect"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
)

// FuzzParse: the decoder never panics, and a spec it accepts generates a
// tree and survives a round trip through its own encoding.
func FuzzParse(f *testing.F) {
	def, err := emulate.Default().Indent()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		issueExample, string(def), `{}`, `{"nodes": [{"path": "a/../b", "type": "file"}]}`,
		`{"dax_devices": [{"name": "dax0.0", "size_raw": "\u0000", "nd_bus": false, "dax_region": true}]}`,
		`{"nodes": [{"path": "sys", "type": "dir"}, {"path": "sys/dev/char/1:5", "type": "symlink", "target": "x"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := emulate.Parse(data)
		if err != nil {
			return
		}
		if _, err := s.Tree(); err != nil {
			t.Fatalf("Parse accepted a spec Tree rejects: %v", err)
		}
		_ = s.Checks()
		text, err := s.Indent()
		if err != nil {
			t.Fatal(err)
		}
		back, err := emulate.Parse(text)
		if err != nil {
			t.Fatalf("the encoding of an accepted spec is rejected: %v\n%s", err, text)
		}
		if !reflect.DeepEqual(s, back) {
			t.Fatalf("round trip changed the spec:\n%s", text)
		}
	})
}
