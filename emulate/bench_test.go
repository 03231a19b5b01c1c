package emulate_test

import (
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
)

// The cost of the pieces a test pays for: generating the default tree,
// decoding the default spec, and a whole mount + unmount of it.

func BenchmarkTreeDefault(b *testing.B) {
	s := emulate.Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Tree(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDefault(b *testing.B) {
	text, err := emulate.Default().Indent()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := emulate.Parse(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMountDefault(b *testing.B) { benchMount(b, emulate.Default()) }

func BenchmarkMountOneDevice(b *testing.B) {
	benchMount(b, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30}}})
}

// benchMount times a mount and an unmount of s.
func benchMount(b *testing.B, s *emulate.Spec) {
	b.ReportAllocs()
	for b.Loop() {
		f, err := emulate.Mount(b.TempDir(), s)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
