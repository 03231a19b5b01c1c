package nsrun_test

import (
	"os/exec"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
)

// BenchmarkCommand measures what the runner adds to starting a command:
// /bin/true run plainly and run in a namespace, side by side. The runner's
// extra cost is one start of this (test) binary's Go runtime plus the
// mounts.
func BenchmarkCommand(b *testing.B) {
	tr := newTree(b)
	b.Run("plain exec", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		cfg  nsrun.Config
	}{
		{"nsrun with only the basics", nsrun.Config{}},
		{"nsrun with Sys and 5 Dev entries", nsrun.Config{Sys: tr.sys, Dev: tr.dev}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				cmd, err := nsrun.Command(c.cfg, "/bin/true")
				if err != nil {
					b.Fatal(err)
				}
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
