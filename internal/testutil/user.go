package testutil

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A User is someone other than root, as a root test presents that user's
// machine: a command runs with the user's uid and gid (no supplementary
// groups) and, when FuseMode is set, in a private mount namespace where
// /dev/fuse shows that mode — 0666 as on a typical desktop, 0600 as on
// hosts that keep FUSE to root. So one root CI run tries the real path of
// a developer who is not root, fusermount3 and all, with either device.
//
//	for _, u := range testutil.Users() {
//		t.Run(u.String(), func(t *testing.T) {
//			stdout, stderr, code := testutil.Output(t, u.Command(t, cli, "check"))
//			…
//		})
//	}
//
// Making the user needs root (setuid, a mount namespace, a device node on
// a private tmpfs); the host's /dev/fuse and mount table are not changed.
type User struct {
	UID, GID uint32
	// FuseMode is the mode /dev/fuse has for the command (owner root,
	// device 10:229); 0 leaves the host's device as it is.
	FuseMode fs.FileMode
}

// Nobody is uid and gid 65534, the usual unprivileged user.
var Nobody = User{UID: 65534, GID: 65534}

// FuseModes are the modes of /dev/fuse a user's machine may have.
var FuseModes = []fs.FileMode{0o666, 0o600}

// Users are Nobody with /dev/fuse in each of FuseModes: the runs of a test
// that must hold for a normal user.
func Users() []User {
	out := make([]User, len(FuseModes))
	for i, m := range FuseModes {
		out[i] = Nobody
		out[i].FuseMode = m
	}
	return out
}

// String names the user for a subtest: "uid 65534, fuse 0666".
func (u User) String() string {
	s := fmt.Sprintf("uid %d", u.UID)
	if u.FuseMode != 0 {
		s += fmt.Sprintf(", fuse %04o", u.FuseMode.Perm())
	}
	return s
}

// FuseOpen reports whether the user can open /dev/fuse as the command will
// see it: with FuseMode, whether it grants others read and write; without,
// whether the host's device does (by its other bits, as the user is in
// none of its groups). Only then can the user mount FUSE at all:
// fusermount3 opens the device with the user's permissions.
func (u User) FuseOpen(t testing.TB) bool {
	t.Helper()
	mode := u.FuseMode
	if mode == 0 {
		var st unix.Stat_t
		if err := unix.Stat("/dev/fuse", &st); err != nil {
			t.Fatalf("stat /dev/fuse: %v", err)
		}
		mode = fs.FileMode(st.Mode)
	}
	return mode&0o006 == 0o006
}

// Command returns a command that runs name (looked up in PATH now; the
// user must be able to execute it and reach its directory, see PublicDir
// and PublicCopy) with args as u. Its environment is this process's with
// HOME and TMPDIR set to a fresh directory the user owns, removed when the
// test ends; Env, Dir, Stdin and the rest may be changed as for any
// exec.Cmd, but not SysProcAttr, Path or Args, which carry the set-up.
func (u User) Command(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	home := filepath.Join(PublicDir(t), "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, int(u.UID), int(u.GID)); err != nil {
		t.Fatal(err)
	}
	setup, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = append([]string{asUserArg0, string(setup), path}, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if u.FuseMode != 0 {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNS
	}
	return cmd
}

// Role returns a command that starts this test binary in role with args
// as u: a copy of it the user can execute.
func (u User) Role(t testing.TB, role string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := u.Command(t, testBinary(t), args...)
	cmd.Env = append(cmd.Env, Env(role)...)
	return cmd
}

// Tests returns a command that runs this test binary's tests as u, with
// args (-test.run, -test.v …): a copy of it the user can execute. A suite
// that should also pass for a normal user runs itself this way.
func (u User) Tests(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	return u.Command(t, testBinary(t), args...)
}

// PublicCopy copies the executable file at path into a PublicDir, so that
// any user can run it, and returns the copy's path.
func PublicCopy(t testing.TB, path string) string {
	t.Helper()
	to := filepath.Join(PublicDir(t), filepath.Base(path))
	copyFile(t, path, to)
	return to
}

// testBinary is a copy of this test binary, under its own name, that any
// user can run.
func testBinary(t testing.TB) string {
	t.Helper()
	to := filepath.Join(PublicDir(t), filepath.Base(os.Args[0]))
	copyFile(t, "/proc/self/exe", to)
	return to
}

// The command of a User is this very binary, started with asUserArg0 as
// argv[0] and the User as JSON in argv[1]; the hook in init recognises it
// before any test (or TestMain) runs, presents /dev/fuse, becomes the user
// and executes the real command, argv[2:], in its place. The marker
// travels in argv, like nsrun's and fusefs's, so that a caller who replaces
// Cmd.Env cannot lose it and the command never sees it.
const asUserArg0 = "testutil:as-user"

func init() {
	if len(os.Args) < 3 || os.Args[0] != asUserArg0 {
		return
	}
	var u User
	if err := json.Unmarshal([]byte(os.Args[1]), &u); err != nil {
		asUserFail("decode the user", err)
	}
	if u.FuseMode != 0 {
		if err := presentFuse(u.FuseMode); err != nil {
			asUserFail("present /dev/fuse", err)
		}
	}
	// Go changes the ids of every thread of the process.
	if err := syscall.Setgroups(nil); err != nil {
		asUserFail("drop the groups", err)
	}
	if err := syscall.Setgid(int(u.GID)); err != nil {
		asUserFail("become the group", err)
	}
	if err := syscall.Setuid(int(u.UID)); err != nil {
		asUserFail("become the user", err)
	}
	err := syscall.Exec(os.Args[2], os.Args[2:], os.Environ())
	asUserFail("exec "+os.Args[2], err)
}

func asUserFail(step string, err error) {
	fmt.Fprintf(os.Stderr, "testutil: as another user: %s: %v\n", step, err)
	syscall.Exit(127)
}

// presentFuse binds, over /dev/fuse of this process's own mount namespace
// (Command made one), a node of the FUSE device with mode: made on a
// private tmpfs, whose mount is then detached, so nothing is left on the
// host but the empty directory, which is removed.
func presentFuse(mode fs.FileMode) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	dir, err := os.MkdirTemp("", "testutil-fuse-")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("mount a tmpfs on %s: %w", dir, err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	node := filepath.Join(dir, "fuse")
	if err := unix.Mknod(node, unix.S_IFCHR|uint32(mode.Perm()), int(unix.Mkdev(10, 229))); err != nil {
		return fmt.Errorf("mknod %s: %w", node, err)
	}
	if err := unix.Chmod(node, uint32(mode.Perm())); err != nil { // past the umask
		return err
	}
	if err := unix.Mount(node, "/dev/fuse", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s over /dev/fuse: %w", node, err)
	}
	return nil
}

// RootOnlyLog names the environment variable that, when set, is the file
// where RootOnly lists the tests it skipped: `make test` sets it for a
// normal user and names what the file holds in its last line.
const RootOnlyLog = "PMEM2EMU_ROOT_ONLY_LOG"

// RootOnly skips t, saying why, unless this process is root: for a test
// that does what the kernel lets only root do (switch users, mount a
// tmpfs, mount without nodev, abort a FUSE connection where fusectl is not
// mounted). The skip is never silent: it is logged, and listed in the file
// RootOnlyLog names. Everything else runs as any user.
func RootOnly(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	line := fmt.Sprintf("%s %s: needs root: %s", strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"), t.Name(), why)
	if log := os.Getenv(RootOnlyLog); log != "" {
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatalf("%s: %v", RootOnlyLog, err)
		}
		fmt.Fprintln(f, line)
		f.Close()
	}
	t.Skip(line)
}
