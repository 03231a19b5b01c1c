// Package nsrun runs any command — a C program, a shell, a static binary —
// in a private mount namespace where a given directory is seen as /sys and
// /dev is a private tmpfs holding given entries beside the host's harmless
// basics. Programs that hard-code /sys and /dev then see what the caller
// put there; the host's mount table, /sys and /dev are never changed.
//
//	cmd, err := nsrun.Command(nsrun.Config{Sys: mnt + "/sys", Dev: mnt + "/dev"}, "ls", "/sys")
//	if err != nil { ... }          // *UnsupportedError, or Sys/Dev not a directory
//	out, err := cmd.Output()       // an exec.Cmd like any other
//
// # What the command sees
//
// /sys is Config.Sys, bind-mounted with its submounts (recursively), so
// its symbolic links resolve inside it as they would in the real /sys. An
// empty Sys leaves /sys alone.
//
// /dev is always a fresh tmpfs (nodev, nosuid, noexec, mode 0755), so the
// command never sees the host's disks. It holds:
//   - each entry of Config.Dev, bind-mounted from there onto an empty file
//     or directory of the same name (symbolic links are copied instead);
//   - for each name of Config.Zero, the host's /dev/zero, bound the same
//     way in place of Dev's entry of that name: memory that reads zeros
//     and can be mapped shared, which the command can open and map
//     whoever it runs as (a zero-backed stand-in for a device);
//   - the host's null, zero, full, random, urandom, tty, pts and shm,
//     bind-mounted the same way, for those the host has and Dev does not
//     replace;
//   - the links fd → /proc/self/fd, stdin, stdout, stderr →
//     /proc/self/fd/0, 1, 2 and ptmx → pts/ptmx (the kernel finds the
//     devpts of a ptmx through a sibling "pts", which a bound /dev/ptmx
//     would not have), again unless Dev has the name.
//
// The runner never creates a device node. A bind mount keeps the flags of
// its source's mount: a node of a nodev mount (a FUSE file system mounted
// without device access, say) still stats with its major:minor but opening
// it fails with EACCES, while a node of a mount that allows devices opens
// as the device it names. Whatever Config.Dev holds decides what the
// command can open.
//
// The namespace lives as long as the command and its children: a
// file system bound into it stays busy until then, so wait for the
// command before unmounting what Sys and Dev point into.
//
// Everything else — the root file system, /proc, /tmp, the working
// directory — is the caller's. The command starts in the caller's (or
// Cmd.Dir's) directory, looked up again after the mounts, so a directory
// under /sys is the one of Config.Sys.
//
// # Privileges
//
// As root (effective uid 0), the command gets a new mount namespace only
// and runs as root. Any other user gets a user namespace too, in which
// only their own uid and gid are mapped, to themselves: the command runs
// as the caller, with no capabilities, and sees files of other owners as
// owned by the overflow uid (nobody). This needs a kernel that allows
// unprivileged user namespaces; Supported says whether this process can
// create the namespaces, and Command returns the same error. A FUSE mount
// the caller made without allow_other stays reachable either way: to the
// kernel, the command's uid is the caller's.
//
// # How it works, and why this way
//
// Command returns an exec.Cmd that runs this very program again
// (/proc/self/exe) with new namespaces (clone flags), with argv[0] set to a
// marker and the set-up in argv[1]. An init function of this package
// recognises the marker before main runs and, in the child:
//
//  1. checks that it is not in the caller's mount namespace (so a caller
//     who replaced Cmd.SysProcAttr cannot make it mount over the host's
//     /sys), and opens every source (O_PATH) while the host's view is
//     still visible;
//  2. makes / recursively private before any other mount, so nothing
//     propagates back to shared mounts of the host;
//  3. binds Sys over /sys, mounts the tmpfs on /dev and binds the entries
//     onto placeholders in it, through /proc/self/fd;
//  4. drops the ambient CAP_SYS_ADMIN it was given for a user namespace;
//  5. looks the command up in the PATH of its environment (Cmd.Env) and
//     replaces itself with it (execve).
//
// So the command is the child process: its pid, signals, exit status,
// standard streams, environment and ExtraFiles are exactly those of a
// plain exec.Cmd. The marker travels in argv, not in the environment: a
// caller who sets Cmd.Env cannot lose it, and the command never sees it.
// Re-executing costs one start of the Go runtime (see BenchmarkCommand).
//
// The alternative — runtime.LockOSThread, unshare(CLONE_NEWNS) on the
// locked thread, mount there, then fork the command from that thread —
// saves that start but cannot work for non-root: a multi-threaded process
// may not unshare a user namespace, so non-root would need the re-exec
// anyway. One path for everyone, in a throw-away process that cannot leave
// the caller's threads in another namespace, was preferred.
//
// The hook runs during package initialisation: packages initialised
// before this one (its dependencies, and others the Go initialisation
// order puts first) must not do real work in init. Test binaries are
// served too, with or without a TestMain: the child never reaches it.
//
// # Errors
//
// Command fails with an *UnsupportedError when the namespaces cannot be
// created (errors.Is(err, errors.ErrUnsupported) holds), or with an error
// naming the field and path when Sys or Dev is not a directory; relative
// paths are made absolute against the caller's working directory. When the
// set-up fails in the child, or the command is not found, the child prints
// "nsrun: <step> <path>: <error>" on the command's standard error and
// exits with status 127 (ExitSetup); a command that exists but cannot be
// executed exits with 126 (ExitNotExecutable), as in a shell.
package nsrun
