package nsrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Config says what the private mount namespace looks like.
type Config struct {
	// Sys is a directory bind-mounted, with its submounts, over /sys.
	// "" leaves /sys alone.
	Sys string
	// Dev is a directory whose entries appear in the private /dev beside
	// the host's harmless basics; an entry with a basic's name replaces
	// it. "" gives only the basics. The private /dev is made in either
	// case: a command run here never sees the host's disks.
	Dev string
	// Zero names entries of the private /dev that are the host's
	// /dev/zero, bound in place of Dev's entry of that name (or beside
	// Dev's entries): plain names such as "dax0.0". The command may open
	// and map them whoever it runs as, while a node of a nodev mount in
	// Dev opens for nobody.
	Zero []string
}

// basics are the names the private /dev takes from the host's /dev by
// bind mounts, when the host has them.
var basics = []string{"null", "zero", "full", "random", "urandom", "tty", "pts", "shm"}

// links are the symbolic links every private /dev holds.
var links = []struct{ name, target string }{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
}

// Exit statuses of a command that could not be started, as a shell uses
// them.
const (
	// ExitSetup is the status when the namespace cannot be set up or the
	// command is not found.
	ExitSetup = 127
	// ExitNotExecutable is the status when the command exists but cannot
	// be executed.
	ExitNotExecutable = 126
)

// Command returns a Cmd that runs name with args in a new mount namespace
// laid out by cfg. Set Stdin, Stdout, Stderr, Env, Dir, ExtraFiles as
// usual and add to SysProcAttr, but do not replace Path, Args or
// SysProcAttr's namespace fields: they carry the set-up. Name is looked up
// in the PATH of the command's environment, inside the namespace.
//
// The error is an *UnsupportedError when Supported fails, or names the
// field and path when Sys or Dev is not a directory.
func Command(cfg Config, name string, args ...string) (*exec.Cmd, error) {
	return build(nil, cfg, name, args)
}

// CommandContext is Command with a context that kills the command, like
// exec.CommandContext.
func CommandContext(ctx context.Context, cfg Config, name string, args ...string) (*exec.Cmd, error) {
	if ctx == nil {
		return nil, errors.New("nsrun: nil Context")
	}
	return build(ctx, cfg, name, args)
}

func build(ctx context.Context, cfg Config, name string, args []string) (*exec.Cmd, error) {
	if name == "" {
		return nil, errors.New("nsrun: empty command name")
	}
	if err := Supported(); err != nil {
		return nil, err
	}
	w, err := newWire()
	if err != nil {
		return nil, err
	}
	if w.Sys, err = absDir("Sys", cfg.Sys); err != nil {
		return nil, err
	}
	if w.Dev, err = absDir("Dev", cfg.Dev); err != nil {
		return nil, err
	}
	for _, name := range cfg.Zero {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			return nil, fmt.Errorf("nsrun: Config.Zero: %q is not a plain file name", name)
		}
	}
	w.Zero = cfg.Zero
	return newCmd(ctx, childArg0, w, append([]string{name}, args...))
}

func newWire() (wire, error) {
	ns, err := mountNS()
	if err != nil {
		return wire{}, fmt.Errorf("nsrun: %w", err)
	}
	return wire{UserNS: os.Geteuid() != 0, ParentNS: ns}, nil
}

// newCmd runs this very program again as arg0 with the set-up w, in new
// namespaces.
func newCmd(ctx context.Context, arg0 string, w wire, argv []string) (*exec.Cmd, error) {
	msg, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("nsrun: encode set-up: %w", err)
	}
	var cmd *exec.Cmd
	if ctx != nil {
		cmd = exec.CommandContext(ctx, selfExe)
	} else {
		cmd = exec.Command(selfExe)
	}
	cmd.Args = append([]string{arg0, string(msg)}, argv...)
	cmd.SysProcAttr = sysProcAttr(w.UserNS)
	return cmd, nil
}

// absDir makes p absolute and checks that it names a directory.
func absDir(field, p string) (string, error) {
	if p == "" {
		return "", nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("nsrun: Config.%s: %w", field, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("nsrun: Config.%s: %w", field, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("nsrun: Config.%s: %w",
			field, &fs.PathError{Op: "stat", Path: abs, Err: syscall.ENOTDIR})
	}
	return abs, nil
}

// sysProcAttr asks for the namespaces. Root gets only a mount namespace.
// Anyone else gets a user namespace too, where their own uid and gid map
// to themselves, and CAP_SYS_ADMIN as an ambient capability so that the
// re-executed set-up step can mount; the set-up drops it before the
// command runs.
func sysProcAttr(userNS bool) *syscall.SysProcAttr {
	if !userNS {
		return &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	}
	uid, gid := os.Getuid(), os.Getgid()
	return &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}},
		AmbientCaps: []uintptr{unix.CAP_SYS_ADMIN},
	}
}

// Supported reports whether this process can create the namespaces: nil,
// or an *UnsupportedError saying why not and what to do. It checks the
// kernel's switches for unprivileged user namespaces and then really sets
// up a namespace with a private /dev once, in a throw-away child; the
// answer is kept for the life of the process.
func Supported() error { return supported() }

var supported = sync.OnceValue(probe)

// UnsupportedError is returned by Supported and Command when this process
// cannot create the namespaces. errors.Is(err, errors.ErrUnsupported)
// holds for it.
type UnsupportedError struct {
	Reason string // what failed
	Hint   string // what to do about it
	Err    error  // the underlying error, if any
}

func (e *UnsupportedError) Error() string {
	return "nsrun: cannot create a mount namespace: " + e.Reason + "; " + e.Hint
}

func (e *UnsupportedError) Unwrap() error { return e.Err }

// Is makes an UnsupportedError match errors.ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

const (
	hintRoot = "run as root with CAP_SYS_ADMIN (in a container: allow the mount and unshare system calls)"
	hintUser = "run as root, or allow unprivileged user namespaces"
)

func probe() error {
	userNS := os.Geteuid() != 0
	if userNS {
		if err := userNSAllowed(); err != nil {
			return err
		}
	}
	w, err := newWire()
	if err != nil {
		return &UnsupportedError{Reason: err.Error(), Hint: "mount /proc", Err: err}
	}
	cmd, err := newCmd(nil, probeArg0, w, nil)
	if err != nil {
		return err
	}
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if err == nil {
		return nil
	}
	hint := hintRoot
	if userNS {
		hint = hintUser
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && stderr.Len() > 0 {
		return &UnsupportedError{Reason: strings.TrimSpace(stderr.String()), Hint: hint, Err: err}
	}
	return &UnsupportedError{Reason: "starting a process in new namespaces: " + err.Error(), Hint: hint, Err: err}
}

// userNSAllowed reads the switches that forbid unprivileged user
// namespaces. Files that do not exist or cannot be read say nothing; the
// probe decides then.
func userNSAllowed() error {
	for _, sw := range []struct{ file, bad, hint string }{
		{"/proc/sys/kernel/unprivileged_userns_clone", "0",
			"run as root, or enable them: sysctl -w kernel.unprivileged_userns_clone=1"},
		{"/proc/sys/user/max_user_namespaces", "0",
			"run as root, or allow some: sysctl -w user.max_user_namespaces=15000"},
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
			"run as root, or lift AppArmor's restriction: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
	} {
		b, err := os.ReadFile(sw.file)
		if err != nil || strings.TrimSpace(string(b)) != sw.bad {
			continue
		}
		return &UnsupportedError{
			Reason: fmt.Sprintf("unprivileged user namespaces are not allowed (%s is %s)", sw.file, sw.bad),
			Hint:   sw.hint,
		}
	}
	return nil
}
