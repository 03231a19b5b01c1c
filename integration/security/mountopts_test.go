package security_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// nobody is the user other than the mounting one (root) the tests try
// the mounts as.
const nobody = 65534

// asNobody runs a command as uid and gid 65534, with no supplementary
// groups, and returns its exit status and combined output.
func asNobody(t *testing.T, name string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	out, errOut, code := testutil.Output(t, cmd)
	return code, out + errOut
}

// denied checks that uid 65534 can reach the directory holding the mount
// point (so any refusal comes from the mount) and is refused the mount
// itself with EACCES.
func denied(t *testing.T, root string, paths ...string) {
	t.Helper()
	if code, out := asNobody(t, "stat", "-c", "%n", filepath.Dir(root)); code != 0 {
		t.Fatalf("control: uid %d cannot even stat %s: %s", nobody, filepath.Dir(root), out)
	}
	for _, p := range append([]string{root}, paths...) {
		// A format that needs the attributes: stat(1) asks statx for
		// only what it prints, and FUSE answers an empty request mask
		// even to other users.
		code, out := asNobody(t, "stat", "-c", "%n %F %s", p)
		if code == 0 || !strings.Contains(out, "Permission denied") {
			t.Errorf("uid %d stat %s: exit %d, %q; want Permission denied (EACCES)", nobody, p, code, out)
		}
	}
}

// allowed checks that uid 65534 can stat root and read each file.
func allowed(t *testing.T, root string, files ...string) {
	t.Helper()
	if code, out := asNobody(t, "stat", "-c", "%n %F %s", root); code != 0 {
		t.Errorf("uid %d stat %s: %s", nobody, root, out)
	}
	for _, f := range files {
		if code, out := asNobody(t, "cat", f); code != 0 {
			t.Errorf("uid %d cat %s: %s", nobody, f, out)
		}
	}
}

func wantPrivateOptions(t *testing.T, root string) {
	t.Helper()
	mnt, super := mountOptions(t, root)
	if !mnt["nodev"] || !mnt["nosuid"] {
		t.Errorf("mount options of %s lack nodev or nosuid: %v", root, mnt)
	}
	if super["allow_other"] {
		t.Errorf("the mount of %s allows other users: %v", root, super)
	}
}

// TestMountsAreNodevNosuidAndPrivate: a fixture mounted with the defaults
// (emutest.Start, emulate.Mount, `pmem2emu mount`) is nodev, nosuid and
// closed to every user but the one who mounted it; allow_other comes only
// from an explicit option or flag, and even then the files' modes hold.
func TestMountsAreNodevNosuidAndPrivate(t *testing.T) {
	sizeFile := "sys/bus/dax/devices/dax0.0/size"

	t.Run("emulate.Mount mounts nodev,nosuid and other users get EACCES", func(t *testing.T) {
		dir := filepath.Join(testutil.PublicDir(t), "mnt")
		require.NoError(t, mkdir(dir))
		f, err := emulate.Mount(dir, nil)
		require.NoError(t, err)
		defer f.Close()
		wantPrivateOptions(t, f.Root())
		denied(t, f.Root(), f.Path(sizeFile), f.Path("dev/dax0.0"))
		if code, out := asNobody(t, "ls", f.Root()); code == 0 || !strings.Contains(out, "Permission denied") {
			t.Errorf("uid %d listed the mount: exit %d, %q", nobody, code, out)
		}
	})

	t.Run("emutest.Start mounts nodev,nosuid without allow_other", func(t *testing.T) {
		f := emutest.Start(t, nil)
		wantPrivateOptions(t, f.Root())
	})

	t.Run("pmem2emu mount mounts nodev,nosuid and other users get EACCES", func(t *testing.T) {
		dir := filepath.Join(testutil.PublicDir(t), "mnt")
		require.NoError(t, mkdir(dir))
		testutil.StartMount(t, nil, dir)
		wantPrivateOptions(t, dir)
		denied(t, dir, filepath.Join(dir, sizeFile))
	})

	t.Run("with AllowOther another user gets in, and the files' modes still hold", func(t *testing.T) {
		dir := filepath.Join(testutil.PublicDir(t), "mnt")
		require.NoError(t, mkdir(dir))
		spec := emulate.Default() // its data/secret is root's, mode 0600
		spec.Nodes = append(spec.Nodes,
			emulate.Node{Path: "data/public", Type: fusefs.TypeFile, Mode: 0o644, Content: "everyone\n"},
			emulate.Node{Path: "dev/null0", Type: fusefs.TypeCharDev, Major: 1, Minor: 3, Mode: 0o666})
		f, err := emulate.Mount(dir, spec, emulate.WithFusefsOptions(fusefs.Options{AllowOther: true}))
		require.NoError(t, err)
		defer f.Close()
		mnt, super := mountOptions(t, f.Root())
		if !super["allow_other"] || !mnt["nodev"] || !mnt["nosuid"] {
			t.Errorf("options %v / %v: want allow_other, nodev, nosuid", mnt, super)
		}
		allowed(t, f.Root(), f.Path(sizeFile), f.Path("data/public"))
		if code, out := asNobody(t, "cat", f.Path("data/secret")); code == 0 || !strings.Contains(out, "Permission denied") {
			t.Errorf("uid %d read a 0600 file of root's: exit %d, %q", nobody, code, out)
		}
		// nodev holds for everyone: a device node open to all by its
		// mode does not open.
		if code, out := asNobody(t, "head", "-c1", f.Path("dev/null0")); code == 0 || !strings.Contains(out, "Permission denied") {
			t.Errorf("uid %d opened a 0666 device node on a nodev mount: exit %d, %q", nobody, code, out)
		}
	})

	t.Run("pmem2emu mount --allow-other lets another user in", func(t *testing.T) {
		dir := filepath.Join(testutil.PublicDir(t), "mnt")
		require.NoError(t, mkdir(dir))
		testutil.StartMount(t, nil, "--allow-other", dir)
		if _, super := mountOptions(t, dir); !super["allow_other"] {
			t.Errorf("pmem2emu mount --allow-other: %v", super)
		}
		allowed(t, dir, filepath.Join(dir, sizeFile))
	})
}
