package nsrun

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The parent runs selfExe with one of these as argv[0]; the hook in init
// recognises it. An argument, unlike an environment variable, survives a
// caller who replaces Cmd.Env, and never reaches the command.
const (
	selfExe   = "/proc/self/exe"
	childArg0 = "nsrun:child" // argv: childArg0, wire JSON, command argv...
	probeArg0 = "nsrun:probe" // argv: probeArg0, wire JSON
)

// wire is the set-up handed from Command to the child.
type wire struct {
	Sys    string   `json:"sys,omitempty"`
	Dev    string   `json:"dev,omitempty"`
	Zero   []string `json:"zero,omitempty"`
	UserNS bool     `json:"userns,omitempty"`
	// ParentNS identifies the caller's mount namespace. The child refuses
	// to mount anything when it is still in it: a caller who replaced
	// SysProcAttr would otherwise have the child mount over the host's
	// /sys and /dev.
	ParentNS nsID `json:"parent_ns"`
}

// nsID is a namespace's identity: the device and inode of its nsfs file.
type nsID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

func mountNS() (nsID, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &st); err != nil {
		return nsID{}, &fs.PathError{Op: "stat", Path: "/proc/self/ns/mnt", Err: err}
	}
	return nsID{Dev: st.Dev, Ino: st.Ino}, nil
}

// init is the hook the package doc describes (How it works): it takes
// over a process started by Command or by the probe of Supported, before
// main or TestMain, so that the child only sets up the namespace and
// executes the command. It ends with syscall.Exit, not os.Exit: there is
// nothing to flush, and a race-enabled binary would sleep a second in
// os.Exit.
func init() {
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[0] {
	case childArg0:
		if len(os.Args) < 3 {
			syscall.Exit(fail(errors.New("no command given")))
		}
		syscall.Exit(child(os.Args[1], os.Args[2:]))
	case probeArg0:
		syscall.Exit(child(os.Args[1], nil))
	}
}

// child sets up the namespace described by msg and executes argv in it;
// with no argv it only sets up and returns 0. It returns only on failure.
func child(msg string, argv []string) int {
	// Capabilities are per thread, and so is the execve that must run
	// with the ones dropAmbient leaves: stay on one thread. (init runs
	// on the main thread anyway.)
	runtime.LockOSThread()
	var w wire
	if err := json.Unmarshal([]byte(msg), &w); err != nil {
		return fail(fmt.Errorf("decode set-up %q: %w", msg, err))
	}
	if err := enter(w); err != nil {
		return fail(err)
	}
	if argv == nil {
		return 0
	}
	return execute(argv)
}

// enter builds the namespace's mounts. Sources are opened before the first
// mount, so a Dev or Sys under /dev or /sys is read from the host's view.
func enter(w wire) error {
	cur, err := mountNS()
	if err != nil {
		return err
	}
	if cur == w.ParentNS {
		return errors.New("still in the caller's mount namespace (was Cmd.SysProcAttr replaced?); refusing to mount")
	}
	cwd, err := unix.Getwd()
	if err != nil {
		cwd = ""
	}
	sys := -1
	if w.Sys != "" {
		if sys, err = openPath(w.Sys, unix.O_DIRECTORY); err != nil {
			return err
		}
		defer unix.Close(sys)
	}
	dev, err := planDev(w.Dev, w.Zero)
	if err != nil {
		return err
	}
	defer dev.close()

	// First of all: without this, mounts below would propagate to every
	// peer of a shared mount, that is, into the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if sys >= 0 {
		if err := bind(sys, "/sys"); err != nil {
			return fmt.Errorf("bind %s over /sys: %w", w.Sys, err)
		}
	}
	if err := dev.build(); err != nil {
		return err
	}
	// A command started in a directory under /sys or /dev starts in the
	// one of the new mounts. (Elsewhere nothing changed, and looking the
	// path up again might need search permissions the caller lacks.)
	if under(cwd, "/sys") || under(cwd, "/dev") {
		if err := os.Chdir(cwd); err != nil {
			return err
		}
	}
	if w.UserNS {
		if err := dropAmbient(); err != nil {
			return fmt.Errorf("drop capabilities: %w", err)
		}
	}
	return nil
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// openPath opens p as an O_PATH handle: no device is opened, no FIFO
// blocks, and permission on p itself is not needed.
func openPath(p string, flags int) (int, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return fd, nil
}

// bind mounts src (an O_PATH handle) on dst, with its submounts. A bind
// mount keeps the source mount's flags: a node of a nodev mount stays
// unopenable.
func bind(src int, dst string) error {
	return unix.Mount(fmt.Sprintf("/proc/self/fd/%d", src), dst, "", unix.MS_BIND|unix.MS_REC, "")
}

// dropAmbient takes back the CAP_SYS_ADMIN that the set-up of a user
// namespace received, so that the command, run as the caller's own uid,
// starts with no capabilities at all.
func dropAmbient() error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	return unix.Capset(&hdr, &data[0])
}

// execute replaces the process with argv, looked up in this environment's
// PATH. It returns only on failure, with a shell's exit status.
func execute(argv []string) int {
	path, err := exec.LookPath(argv[0])
	if err != nil && !errors.Is(err, exec.ErrDot) {
		var e *exec.Error
		if errors.As(err, &e) {
			err = fmt.Errorf("%s: %w", e.Name, e.Err)
		}
		fmt.Fprintf(os.Stderr, "nsrun: %v\n", err)
		if errors.Is(err, fs.ErrPermission) {
			return ExitNotExecutable
		}
		return ExitSetup
	}
	err = syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "nsrun: %v\n", &fs.PathError{Op: "exec", Path: path, Err: err})
	if errors.Is(err, syscall.ENOENT) {
		return ExitSetup
	}
	return ExitNotExecutable
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "nsrun: %v\n", err)
	return ExitSetup
}
