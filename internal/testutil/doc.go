// Package testutil holds what this module's tests share: waiting for a
// condition or a call (wait.go), reading the mount table (mounts.go),
// opening and listing files (fd.go), starting the test binary again in a
// named role (roles.go), the pmem2emu command built from source (cli.go),
// and privilege (user.go): running a command, a role or the tests as a
// normal user with /dev/fuse in a chosen mode (User), and skipping,
// listed, what only root can run (RootOnly).
//
// It is a test-support package, in the manner of net/http/httptest: it
// imports testing, so nothing a shipped binary links may import it. It
// imports no package of this module either, so that the tests of every
// package, pmem2's and fusefs's internal tests included, can use it
// without an import cycle.
//
// # Roles
//
// A test that needs another process — a server to kill, a caller of
// another uid, code that runs in a namespace of its own — starts the test
// binary again in a role. The package's TestMain hands its roles to Main
// (or RunRole); Command starts the binary in one:
//
//	func TestMain(m *testing.M) {
//		testutil.Main(m, testutil.Roles{"serve": serve})
//	}
//
//	cmd := testutil.Command("serve", dir) // runs serve([]string{dir})
//
// The role travels in the environment variable RoleEnv, not in argv[0]
// as the library hooks of fusefs (its reaper) and nsrun (its child) carry
// theirs: a role must survive being started through a PATH lookup
// (nsrun.Command runs its command that way) and through a copy of the
// binary, and a role process must see its arguments unchanged. Those
// library hooks run during package initialisation, before TestMain, so a
// role never meets a reaper or namespace child of its own making.
package testutil
