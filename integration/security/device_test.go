package security_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// TestDeviceModeRefusesRealDevices: device mode drops nodev, so a device
// node of the fixture opens the device it names. Only harmless memory
// devices may be served then; a disk (block 8:0, sda) or a control device
// (char 10:237, loop-control) is refused before anything is mounted, at
// runtime and through the CLI, with an error naming the node.
func TestDeviceModeRefusesRealDevices(t *testing.T) {
	for _, c := range []struct {
		name string
		spec *emulate.Spec
		node string // named in the error
		dev  string // "block 8:0"
	}{
		{"a block device 8:0 is refused, naming the node",
			&emulate.Spec{Nodes: []emulate.Node{{Path: "dev/sda", Type: fusefs.TypeBlockDev, Major: 8, Minor: 0}}}, "dev/sda", "block device 8:0"},
		{"a char device 10:237 is refused, naming the node",
			&emulate.Spec{Nodes: []emulate.Node{{Path: "dev/loop-control", Type: fusefs.TypeCharDev, Major: 10, Minor: 237}}}, "dev/loop-control", "char device 10:237"},
		{"a Device DAX declared as char 8:0 is refused, naming its node",
			&emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 8, Minor: 0, Size: 1 << 30}}}, "dev/dax0.0", "char device 8:0"},
		{"a disk beside an allowed memory device is refused all the same",
			&emulate.Spec{
				DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30}},
				Nodes:      []emulate.Node{{Path: "dev/sda", Type: fusefs.TypeBlockDev, Major: 8, Minor: 0}},
			}, "dev/sda", "block device 8:0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := emulate.Mount(dir, c.spec, emulate.WithDeviceMode())
			if err == nil {
				f.Close()
				t.Fatal("mounted in device mode")
			}
			if !errors.Is(err, fusefs.ErrDeviceNotAllowed) || !strings.Contains(err.Error(), c.node) || !strings.Contains(err.Error(), c.dev) {
				t.Errorf("error %q: want ErrDeviceNotAllowed naming %s and %s", err, c.node, c.dev)
			}
			testutil.NothingMountedBelow(t, dir)

			t.Run("the CLI refuses it too", func(t *testing.T) {
				specFile := filepath.Join(t.TempDir(), "spec.json")
				text, err := c.spec.Indent()
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(specFile, text, 0o644))
				mnt := t.TempDir()
				code, _, errOut := cli(t, "mount", "--device-mode", "--spec", specFile, mnt)
				if code != 1 || !strings.Contains(errOut, c.node) || !strings.Contains(errOut, c.dev) {
					t.Errorf("pmem2emu mount --device-mode: exit %d, stderr %q; want 1 naming %s and %s", code, errOut, c.node, c.dev)
				}
				testutil.NothingMountedBelow(t, mnt)
				code, _, errOut = cli(t, "exec", "--device-mode", "--spec", specFile, "--", "true")
				if code != 1 || !strings.Contains(errOut, c.node) {
					t.Errorf("pmem2emu exec --device-mode: exit %d, stderr %q; want 1 naming %s", code, errOut, c.node)
				}
			})
		})
	}

	t.Run("a device-mode fixture refuses a disk added at runtime and keeps serving without it", func(t *testing.T) {
		f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30}}},
			emulate.WithDeviceMode())
		for _, n := range []emulate.Node{
			{Path: "dev/sda", Type: fusefs.TypeBlockDev, Major: 8, Minor: 0},
			{Path: "dev/loop-control", Type: fusefs.TypeCharDev, Major: 10, Minor: 237},
			{Path: "dev/dax0.0", Type: fusefs.TypeCharDev, Major: 8, Minor: 0}, // replacing an allowed node
		} {
			err := f.SetNode(n)
			if !errors.Is(err, fusefs.ErrDeviceNotAllowed) || !strings.Contains(err.Error(), n.Path) {
				t.Errorf("SetNode(%s %s %d:%d): %v; want ErrDeviceNotAllowed naming the node", n.Path, n.Type, n.Major, n.Minor, err)
			}
		}
		if _, err := os.Lstat(f.Path("dev/sda")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("dev/sda after the refused SetNode: %v", err)
		}
		fi, err := os.Lstat(f.Path("dev/dax0.0"))
		require.NoError(t, err)
		if fi.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("dev/dax0.0 is no longer the char device: %v", fi.Mode())
		}
		if rdev := fi.Sys().(*syscall.Stat_t).Rdev; rdev != unix.Mkdev(1, 5) {
			t.Errorf("dev/dax0.0 is %#x after a refused replacement, want 1:5", rdev)
		}
	})

	t.Run("a device-mode mount drops nodev and nothing else: it stays nosuid and private", func(t *testing.T) {
		f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Major: 1, Minor: 5, Size: 1 << 30}}},
			emulate.WithDeviceMode())
		mnt, super := mountOptions(t, f.Root())
		if mnt["nodev"] || !mnt["nosuid"] || super["allow_other"] {
			t.Errorf("device mode mount options %v / %v: want nosuid, no nodev, no allow_other", mnt, super)
		}
	})
}
