package unprivileged_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// A Go test built on emutest passes for a normal user as it does for root:
// TestAUsersFixtureTest is run as each user.
func TestAFixtureTestAsAUser(t *testing.T) {
	testutil.RootOnly(t, asRoot)
	for _, u := range testutil.Users() {
		t.Run(u.String(), func(t *testing.T) {
			stdout, _, code := shell(t, u, nil, testutil.PublicCopy(t, testBinary(t))+" -test.run '^TestAUsersFixtureTest$' -test.v 2>&1")
			if !u.FuseOpen(t) {
				assert.Equal(t, 1, code, "exit status")
				assert.Contains(t, stdout, "--- FAIL: TestAUsersFixtureTest")
				wantFuseClosed(t, u, stdout)
				return
			}
			assert.Equal(t, 0, code, "exit status; output:\n%s", stdout)
			assert.Contains(t, stdout, "--- PASS: TestAUsersFixtureTest")
		})
	}
}

// TestAUsersFixtureTest is what a developer writes: a fixture per test,
// sources on its nodes. It holds as root and as any user, each meeting the
// permissions a real machine gives them.
func TestAUsersFixtureTest(t *testing.T) {
	asUser := emulate.CurrentCaller() == emulate.CallerUser
	f := emutest.Start(t, &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", Size: 1 << 30, Align: 2 << 20}},
		Nodes: []emulate.Node{
			{Path: "data/mine", Type: fusefs.TypeFile, Content: "hello"},
			{Path: "data/roots", Type: fusefs.TypeFile, Mode: 0o600, UID: new(uint32(0)), GID: new(uint32(0)), Content: "secret"},
		},
	})

	t.Run("the data files are the user's: written and sourced read-write", func(t *testing.T) {
		var st unix.Stat_t
		require.NoError(t, unix.Stat(f.Path("data/mine"), &st))
		assert.Equal(t, [2]uint32{uint32(os.Geteuid()), uint32(os.Getegid())}, [2]uint32{st.Uid, st.Gid}, "owner")
		require.NoError(t, os.WriteFile(f.Path("data/mine"), []byte("hello, pmem"), 0))
		size, err := f.Source("data/mine", unix.O_RDWR).Size()
		require.NoError(t, err)
		assert.Equal(t, uint64(11), size)
	})

	t.Run("root's 0600 file opens for root only, and with O_PATH for anyone", func(t *testing.T) {
		file, err := os.Open(f.Path("data/roots"))
		if err == nil {
			file.Close()
		}
		if asUser {
			assert.ErrorIs(t, err, syscall.EACCES)
		} else {
			assert.NoError(t, err)
		}
		size, err := f.Source("data/roots", unix.O_PATH).Size()
		require.NoError(t, err)
		assert.Equal(t, uint64(6), size)
	})

	t.Run("sysfs is root's with the kernel's modes: dax_region/align is 0400", func(t *testing.T) {
		dax, ok := f.DAX("dax0.0")
		require.True(t, ok)
		align := f.Path(dax.Dir + "/../dax_region/align")
		var st unix.Stat_t
		require.NoError(t, unix.Stat(align, &st))
		assert.Equal(t, [2]uint32{0, 0o400}, [2]uint32{st.Uid, st.Mode & 0o7777}, "owner and mode")
		_, err := os.ReadFile(align)
		if asUser {
			assert.True(t, errors.Is(err, syscall.EACCES), "read as a user: %v", err)
		} else {
			assert.NoError(t, err)
		}
	})

	t.Run("the Device DAX is classified, sized and aligned", func(t *testing.T) {
		src := f.Source("dev/dax0.0", unix.O_PATH)
		assert.Equal(t, pmem2.FileTypeDevDAX, src.Type())
		size, err := src.Size()
		require.NoError(t, err)
		align, err := src.Alignment()
		require.NoError(t, err)
		assert.Equal(t, [2]uint64{1 << 30, 2 << 20}, [2]uint64{size, align})
		fd, err := unix.Open(f.Path("dev/dax0.0"), unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		assert.ErrorIs(t, err, syscall.EACCES, "the node of a nodev mount does not open")
	})
}
