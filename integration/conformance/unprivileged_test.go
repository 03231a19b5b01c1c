package conformance

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/probe"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// The unprivileged run. As root, TestConformance runs this test binary
// again as unprivilegedUID: the fixtures are then mounted by that user
// through fusermount3, the C probe runs under the namespace runner in a
// user namespace, and so does the Go side (goSideRole, on /sys as a user's
// program sees it), so both read the fake sysfs with that user's rights —
// the files the kernel makes 0400 are closed to them.
//
// fusermount3 (fuse 3.14) opens /dev/fuse with the caller's rights, so a
// /dev/fuse of mode 0600, as on this project's CI machines, keeps every
// other user from mounting. The run therefore goes through asUserRole: a
// root process in a mount namespace of its own, where /dev/fuse is a node
// of mode 0666 bound over the host's (which keeps its mode), starts the
// binary as the user with SysProcAttr.Credential.

// unprivilegedUID is the user (and group) of the unprivileged run: nobody.
const unprivilegedUID = 65534

// The roles of this test binary (testutil.Roles).
const (
	roleAsUser = "as-user" // UID DIR TEST-FLAGS...: see asUserRole
	roleGoSide = "go-side" // PATH MODE: see goSideRole
)

// asUnprivileged runs TestConformance as uid, shows its table and records
// its summary line; its failures fail t.
func asUnprivileged(t *testing.T, uid uint32) {
	args := []string{strconv.Itoa(int(uid)), t.TempDir(), "-test.run=^TestConformance$", "-test.count=1", "-test.v"}
	// A copy of the binary uid can execute; the Credential is applied by
	// the role, once /dev/fuse is open to uid.
	cmd := testutil.CommandAs(t, uid, uid, roleAsUser, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	stdout, stderr, code := testutil.Output(t, cmd)
	var shown []string
	line := ""
	for _, l := range strings.Split(stdout, "\n") {
		switch {
		case strings.HasPrefix(l, "=== "): // RUN, PAUSE, CONT: noise in a log
		case strings.HasPrefix(l, fmt.Sprintf("as uid %d: ", uid)):
			line = l
		default:
			shown = append(shown, l)
		}
	}
	t.Log("\n" + strings.Join(shown, "\n"))
	if stderr != "" {
		t.Log("stderr:\n" + stderr)
	}
	switch {
	case line == "":
		t.Errorf("the run as uid %d printed no summary line (exit status %d)", uid, code)
	case code != 0:
		t.Errorf("the run as uid %d failed (exit status %d): %s", uid, code, line)
	}
	if line != "" {
		summaries = append(summaries, line)
	}
}

// asUserRole UID DIR ARGS... runs as root in a mount namespace of its own
// (its starter's CLONE_NEWNS): it makes every mount private, mounts a tmpfs
// on DIR, makes there a FUSE device node (10:229) of mode 0666 and binds it
// over /dev/fuse, then runs this binary with ARGS as user and group UID,
// passing its output through.
func asUserRole(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: "+roleAsUser+" UID DIR TEST-FLAGS...")
		return 2
	}
	uid, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil {
		fmt.Fprintln(os.Stderr, roleAsUser+":", err)
		return 2
	}
	if err := fuseOpenToAll(args[1]); err != nil {
		fmt.Fprintln(os.Stderr, roleAsUser+":", err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, roleAsUser+":", err)
		return 1
	}
	cmd := exec.Command(exe, args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{}}}
	var exit *exec.ExitError
	switch err := cmd.Run(); {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		fmt.Fprintln(os.Stderr, roleAsUser+":", err)
		return 1
	}
}

// fuseOpenToAll presents /dev/fuse as mode 0666 in this process's mount
// namespace, which must be its own: nothing of it reaches the host.
func fuseOpenToAll(dir string) error {
	var self, parent unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &self); err != nil {
		return err
	}
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid()), &parent); err != nil {
		return err
	}
	if self.Ino == parent.Ino {
		return errors.New("refusing to change /dev/fuse in the mount namespace of the caller (start the role with CLONE_NEWNS)")
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
	}
	node := dir + "/fuse"
	if err := unix.Mknod(node, unix.S_IFCHR|0o666, int(unix.Mkdev(10, 229))); err != nil {
		return fmt.Errorf("mknod %s: %w", node, err)
	}
	if err := unix.Chmod(node, 0o666); err != nil { // past the umask
		return err
	}
	if err := unix.Mount(node, "/dev/fuse", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding %s over /dev/fuse: %w", node, err)
	}
	return nil
}

// goSideInRunner runs the port as a user's program would: this binary in
// goSideRole, under the fixture's namespace runner (a user namespace for
// an unprivileged caller), on path in mode with the default sysfs root.
func goSideInRunner(t *testing.T, f *emulate.Fixture, path string, mode emulate.OpenMode) observed {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := f.Command(exe, path, string(mode))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), testutil.Env(roleGoSide)...)
	stdout, stderr := testutil.OutputOK(t, cmd)
	var o observed
	var fromFD, sizeRC, alignRC int
	var errno uint64
	var size, align uint64
	if _, err := fmt.Sscan(stdout, &errno, &fromFD, &size, &sizeRC, &align, &alignRC); err != nil {
		t.Fatalf("Go side on %s (%s): %q: %v\nstderr: %s", path, mode, stdout, err, stderr)
	}
	if errno != 0 {
		return observed{open: syscall.Errno(errno)}
	}
	o.fromFD = call{ran: true, rc: pmem2.Code(fromFD)}
	if fromFD == 0 {
		o.size = goCall(size, codeErr(sizeRC))
		o.align = goCall(align, codeErr(alignRC))
	}
	return o
}

// codeErr is the error of a code, nil for 0, so goCall reads it back.
func codeErr(c int) error {
	if c == 0 {
		return nil
	}
	return pmem2.Code(c)
}

// goSideRole PATH MODE opens PATH in MODE and runs the port with the
// default sysfs root, as `pmem2emu probe` does, and prints the open errno,
// then the codes and values of SourceFromFD, Size and Alignment.
func goSideRole(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: "+roleGoSide+" PATH MODE")
		return 2
	}
	r, err := probe.Run(args[0], emulate.OpenMode(args[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, roleGoSide+":", err)
		return 2
	}
	fmt.Println(uint64(r.OpenErrno), int(r.FromFD), r.Size, int(r.SizeRC), r.Alignment, int(r.AlignmentRC))
	return 0
}
