package emulate

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
)

// CommandAt is Fixture.Command for the fixture mounted on root, by this
// process or another (`pmem2emu mount`): name runs in a private mount
// namespace where root/sys is /sys and the entries of root/dev appear in
// /dev, each Device DAX numbered 1:5 as the host's /dev/zero (see the
// package documentation, "Running programs").
func CommandAt(root, name string, args ...string) (*exec.Cmd, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("emulate: %w", err)
	}
	dev := filepath.Join(abs, "dev")
	zero, err := zeroBacked(dev)
	if err != nil {
		return nil, err
	}
	return nsrun.Command(nsrun.Config{Sys: filepath.Join(abs, "sys"), Dev: dev, Zero: zero}, name, args...)
}

// zeroBacked lists the Device DAX nodes of the directory dev that the
// namespace runner backs by the host's /dev/zero: character devices 1:5
// named daxR.N. The directory listing says which entries are character
// devices; only those are looked at further.
func zeroBacked(dev string) ([]string, error) {
	ents, err := os.ReadDir(dev)
	if err != nil {
		return nil, fmt.Errorf("emulate: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.Type()&fs.ModeCharDevice == 0 || !daxNameRE.MatchString(e.Name()) {
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dev, e.Name()), &st); err != nil {
			return nil, fmt.Errorf("emulate: %w", &fs.PathError{Op: "lstat", Path: filepath.Join(dev, e.Name()), Err: err})
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 5 {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
