package nsrun_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// mountTree serves tree through a real FUSE mount until the test ends.
func mountTree(t testing.TB, tree fusefs.Tree, opts *fusefs.Options) string {
	t.Helper()
	mnt := t.TempDir()
	srv, err := fusefs.Mount(mnt, tree, opts)
	if err != nil {
		t.Fatalf("fusefs.Mount: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// TestThroughAFUSEMount runs commands on a fake sysfs and device nodes
// served by fusefs, where node semantics come from the FUSE mount's flags.
func TestThroughAFUSEMount(t *testing.T) {
	mnt := mountTree(t, fusefs.Tree{
		"sys/devices/platform/dax0.0/size":      fusefs.File(fakeSize),
		"sys/devices/platform/dax0.0/subsystem": fusefs.Symlink("../../../bus/dax"),
		"sys/bus/dax":                           fusefs.Dir(),
		"sys/dev/char/251:0":                    fusefs.Symlink("../../devices/platform/dax0.0"),
		"dev/dax0.0":                            fusefs.CharDev(251, 0),
		"dev/pmem0":                             fusefs.BlockDev(259, 0),
	}, nil)
	cfg := nsrun.Config{Sys: mnt + "/sys", Dev: mnt + "/dev"}

	t.Run("a command reads the served /sys through its symlinks", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, cfg, "sh", "-c", "cat /sys/dev/char/251:0/size; readlink -f /sys/dev/char/251:0/subsystem"))
		assert.Equal(t, fakeSize+"/sys/bus/dax\n", out, "output")
	})

	t.Run("/dev holds the basics, the links and the served nodes", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, cfg, "ls", "-A", "/dev"))
		assert.Equal(t, wantDev("dax0.0", "pmem0"), lines(out), "ls -A /dev")
	})

	t.Run("a served node keeps its number and stays unopenable under nodev", func(t *testing.T) {
		out := roleOutput(t, cfg, "stat", "/dev/dax0.0", "/dev/pmem0")
		assert.Equal(t, []string{
			"/dev/dax0.0 char 251:0 open=EACCES",
			"/dev/pmem0 block 259:0 open=EACCES",
		}, lines(out), "stat")
	})

	t.Run("a name of Zero is the host's /dev/zero: it opens read-write and maps", func(t *testing.T) {
		zcfg := cfg
		zcfg.Zero = []string{"dax0.0"}
		out := roleOutput(t, zcfg, "stat", "/dev/dax0.0", "/dev/pmem0")
		assert.Equal(t, []string{
			"/dev/dax0.0 char 1:5 open=ok",
			"/dev/pmem0 block 259:0 open=EACCES",
		}, lines(out), "stat")
		out = roleOutput(t, zcfg, "map", "/dev/dax0.0")
		assert.Equal(t, "/dev/dax0.0: mapped 8192 bytes shared, wrote and read back; a new mapping reads zeros\n", out)
	})

	t.Run("a node of a device-mode mount opens as its device", func(t *testing.T) {
		testutil.RootOnly(t, "device mode mounts without nodev")
		dev := mountTree(t, fusefs.Tree{"mem5": fusefs.CharDev(1, 5)}, &fusefs.Options{DeviceMode: true})
		out := roleOutput(t, nsrun.Config{Dev: dev}, "stat", "/dev/mem5")
		assert.Equal(t, []string{"/dev/mem5 char 1:5 open=ok"}, lines(out), "stat")
		out, _ = testutil.OutputOK(t, command(t, nsrun.Config{Dev: dev}, "sh", "-c", "head -c 4 /dev/mem5 | od -An -tx1"))
		assert.Equal(t, " 00 00 00 00\n", out, "4 bytes of /dev/mem5")
	})
}
