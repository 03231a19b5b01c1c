package nsrun_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func command(t testing.TB, cfg nsrun.Config, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, err := nsrun.Command(cfg, name, args...)
	if err != nil {
		t.Fatalf("Command(%+v, %q): %v", cfg, name, err)
	}
	return cmd
}

// Supported holds for root, and for any user where the kernel allows
// user namespaces.
func TestSupported(t *testing.T) {
	if os.Geteuid() != 0 && userNSForbidden() != "" {
		t.Skipf("this machine forbids unprivileged user namespaces (%s): TestSupportedWhereUserNamespacesAreForbidden checks what Supported says then", userNSForbidden())
	}
	require.NoError(t, nsrun.Supported())
}

func TestWhatTheCommandSees(t *testing.T) {
	tr := newTree(t)
	cfg := nsrun.Config{Sys: tr.sys, Dev: tr.dev}

	t.Run("a command reads the fake /sys through its symlinks", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, cfg, "cat", "/sys/dev/char/251:0/size",
			"/sys/bus/dax/devices/dax0.0/subsystem/../../"+fakeMarker))
		assert.Equal(t, fakeSize+"fake\n", out, "output")
	})

	t.Run("readlink -f of a link resolves inside the fake /sys", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, cfg, "readlink", "-f", "/sys/dev/char/251:0/subsystem"))
		assert.Equal(t, "/sys/bus/dax\n", out, "output")
	})

	t.Run("/dev holds exactly the basics, the links and the given entries", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, cfg, "ls", "-A", "/dev"))
		assert.Equal(t, wantDev(devEntries...), lines(out), "ls -A /dev")
	})

	t.Run("without Dev, /dev holds only the basics and the links", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, nsrun.Config{Sys: tr.sys}, "ls", "-A", "/dev"))
		assert.Equal(t, wantDev(), lines(out), "ls -A /dev")
	})

	t.Run("without Sys, /sys is the host's", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, nsrun.Config{Dev: tr.dev}, "ls", "/sys"))
		if l := lines(out); slices.Contains(l, fakeMarker) || !slices.Contains(l, "kernel") {
			t.Errorf("ls /sys = %q, want the host's", l)
		}
	})

	t.Run("/dev/null, /dev/zero, /dev/stderr and the links work", func(t *testing.T) {
		out, errOut := testutil.OutputOK(t, command(t, cfg, "sh", "-c",
			"echo lost > /dev/null && head -c 4 /dev/zero | od -An -tx1 && echo to-stderr > /dev/stderr && readlink /dev/fd /dev/ptmx"))
		assert.Equal(t, " 00 00 00 00\n/proc/self/fd\npts/ptmx\n", out, "stdout")
		assert.Equal(t, "to-stderr\n", errOut, "stderr")
	})

	t.Run("the entries keep their kinds and a device of a dev mount opens", func(t *testing.T) {
		out := roleOutput(t, cfg, "stat", "/dev/data", "/dev/fifo0", "/dev/link", "/dev/mynull",
			"/dev/sub", "/dev/sub/inner", "/dev/null", "/dev/pts", "/dev/shm")
		assert.Equal(t, []string{
			"/dev/data file 0:0 open=ok",
			"/dev/fifo0 fifo 0:0 open=ok",
			"/dev/link symlink 0:0 open=ok",
			"/dev/mynull char 1:3 open=ok",
			"/dev/sub dir 0:0 open=ok",
			"/dev/sub/inner file 0:0 open=ok",
			"/dev/null char 1:3 open=ok",
			"/dev/pts dir 0:0 open=ok",
			"/dev/shm dir 0:0 open=ok",
		}, lines(out), "stat")
	})

	t.Run("the entries are the directory's own files, not copies", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, cfg, "sh", "-c",
			"cat /dev/link /dev/sub/inner && echo written > /dev/sub/new && echo to-null > /dev/mynull"))
		assert.Equal(t, "hello\ninner\n", out, "output")
		b, err := os.ReadFile(filepath.Join(tr.dev, "sub/new"))
		require.NoError(t, err)
		assert.Equal(t, "written\n", string(b), "sub/new")
		st, err := os.Stat(filepath.Join(tr.dev, "mynull"))
		require.NoError(t, err)
		assert.Equal(t, fs.ModeDevice|fs.ModeCharDevice, st.Mode().Type(), "mynull's type after a write")
	})

	t.Run("an entry of Dev replaces the basic or link of the same name", func(t *testing.T) {
		dev := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dev, "null"), []byte("not the null device\n"), 0o644))
		require.NoError(t, os.Symlink("/proc/self/fd/1", filepath.Join(dev, "ptmx")))
		out, _ := testutil.OutputOK(t, command(t, nsrun.Config{Dev: dev}, "sh", "-c", "cat /dev/null; readlink /dev/ptmx; ls -A /dev"))
		l := lines(out)
		if len(l) < 2 {
			t.Fatalf("output %q", out)
		}
		assert.Equal(t, []string{"not the null device", "/proc/self/fd/1"}, l[:2], "cat and readlink")
		assert.Equal(t, wantDev(), l[2:], "ls -A /dev")
	})

	t.Run("a command started in a directory under /sys starts in the fake one", func(t *testing.T) {
		cmd := command(t, cfg, "sh", "-c", "pwd; ls")
		cmd.Dir = "/sys/dev/char"
		out, _ := testutil.OutputOK(t, cmd)
		assert.Equal(t, "/sys/dev/char\n251:0\n", out, "output")
	})

	t.Run("relative Sys and Dev are taken from the caller's directory", func(t *testing.T) {
		t.Chdir(tr.root)
		out, _ := testutil.OutputOK(t, command(t, nsrun.Config{Sys: "sys", Dev: "./dev"}, "cat", "/sys/"+fakeMarker, "/dev/data"))
		assert.Equal(t, "fake\nhello\n", out, "output")
	})
}

func TestTheCommandIsAnOrdinaryProcess(t *testing.T) {
	tr := newTree(t)
	cfg := nsrun.Config{Sys: tr.sys, Dev: tr.dev}

	t.Run("its exit status is the command's", func(t *testing.T) {
		_, _, code := testutil.Output(t, command(t, cfg, "sh", "-c", "exit 3"))
		assert.Equal(t, 3, code, "exit status")
	})

	t.Run("a command that kills itself is reported killed by that signal", func(t *testing.T) {
		cmd := command(t, cfg, "sh", "-c", "kill -TERM $$")
		_, _, code := testutil.Output(t, cmd)
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		assert.Equal(t, -1, code, "exit code")
		assert.Equal(t, syscall.SIGTERM, ws.Signal(), "signal")
	})

	t.Run("the process is the command and a signal to it reaches the command", func(t *testing.T) {
		cmd := command(t, cfg, "sh", "-c", "echo ready; exec sleep 60")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		defer cmd.Process.Kill()
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			t.Fatalf("read %q, %v; want ready", line, err)
		}
		// sh has executed sleep by the time sleep can be seen there.
		deadline := time.Now().Add(10 * time.Second)
		comm := ""
		for comm != "sleep\n" && time.Now().Before(deadline) {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/comm")
			comm = string(b)
			time.Sleep(time.Millisecond)
		}
		assert.Equal(t, "sleep\n", comm, "the process's comm")
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		cmd.Wait()
		assert.Equal(t, syscall.SIGTERM, cmd.ProcessState.Sys().(syscall.WaitStatus).Signal(), "signal")
	})

	t.Run("stdin and stdout pass through", func(t *testing.T) {
		cmd := command(t, cfg, "cat")
		cmd.Stdin = strings.NewReader("through the namespace\n")
		out, _ := testutil.OutputOK(t, cmd)
		assert.Equal(t, "through the namespace\n", out, "output")
	})

	t.Run("extra files pass through", func(t *testing.T) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer r.Close()
		cmd := command(t, cfg, "sh", "-c", "echo on-fd-3 >&3")
		cmd.ExtraFiles = []*os.File{w}
		testutil.OutputOK(t, cmd)
		w.Close()
		got := make([]byte, 64)
		n, _ := r.Read(got)
		assert.Equal(t, "on-fd-3\n", string(got[:n]), "fd 3")
	})

	t.Run("the environment is exactly Env and its PATH finds the command", func(t *testing.T) {
		bin := t.TempDir()
		env, err := exec.LookPath("env")
		require.NoError(t, err)
		require.NoError(t, os.Symlink(env, filepath.Join(bin, "mytool")))
		cmd := command(t, cfg, "mytool")
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "ONLY=this"}
		out, _ := testutil.OutputOK(t, cmd)
		assert.Equal(t, cmd.Env, lines(out), "env")
	})

	t.Run("root's command runs as root with root's capabilities", func(t *testing.T) {
		out, _ := testutil.OutputOK(t, command(t, cfg, "sh", "-c", "id -u; grep CapEff /proc/self/status"))
		assert.Equal(t, "0\n"+statusLine(t, "CapEff")+"\n", out, "output")
	})

	t.Run("a context's end kills the command", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		cmd, err := nsrun.CommandContext(ctx, cfg, "sleep", "60")
		require.NoError(t, err)
		start := time.Now()
		if err := cmd.Run(); err == nil {
			t.Fatal("Run returned nil for a killed command")
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("Run took %v", d)
		}
		assert.Equal(t, syscall.SIGKILL, cmd.ProcessState.Sys().(syscall.WaitStatus).Signal(), "signal")
	})
}

// statusLine is this process's line of /proc/self/status starting with key.
func statusLine(t testing.TB, key string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, l := range lines(string(b)) {
		if strings.HasPrefix(l, key+":") {
			return l
		}
	}
	t.Fatalf("no %s in /proc/self/status", key)
	return ""
}

func TestFailures(t *testing.T) {
	tr := newTree(t)
	cfg := nsrun.Config{Sys: tr.sys, Dev: tr.dev}
	file := filepath.Join(tr.dev, "data")

	t.Run("a missing command exits 127 and says so", func(t *testing.T) {
		out, errOut, code := testutil.Output(t, command(t, cfg, "no-such-command-nsrun"))
		assert.Equal(t, nsrun.ExitSetup, code, "exit status")
		assert.Equal(t, "", out, "stdout")
		assert.Equal(t, "nsrun: no-such-command-nsrun: executable file not found in $PATH\n", errOut, "stderr")
	})

	t.Run("a command that is not executable exits 126", func(t *testing.T) {
		_, errOut, code := testutil.Output(t, command(t, cfg, file))
		assert.Equal(t, nsrun.ExitNotExecutable, code, "exit status")
		assert.Equal(t, "nsrun: "+file+": permission denied\n", errOut, "stderr")
	})

	// A directory given to Command that changes before the start fails
	// the set-up in the child, naming the step and the path.
	for _, c := range []struct {
		name   string
		cfg    func(dir string) nsrun.Config
		change func(dir string) error
		want   string // %s: the directory
	}{
		{"a Sys removed before the start fails the set-up naming the step and path",
			func(d string) nsrun.Config { return nsrun.Config{Sys: d} }, os.Remove,
			"nsrun: open %s: no such file or directory\n"},
		{"a Dev turned into a file before the start fails the set-up naming the path",
			func(d string) nsrun.Config { return nsrun.Config{Dev: d} },
			func(d string) error { return errors.Join(os.Remove(d), os.WriteFile(d, nil, 0o644)) },
			"nsrun: readdirent %s: not a directory\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dir")
			require.NoError(t, os.Mkdir(dir, 0o755))
			cmd := command(t, c.cfg(dir), "true")
			require.NoError(t, c.change(dir))
			_, errOut, code := testutil.Output(t, cmd)
			assert.Equal(t, nsrun.ExitSetup, code, "exit status")
			assert.Equal(t, fmt.Sprintf(c.want, dir), errOut, "stderr")
		})
	}

	for _, c := range []struct {
		name string
		cfg  nsrun.Config
		cmd  string
		want string
		is   error
	}{
		{"a missing Sys is refused by Command", nsrun.Config{Sys: tr.root + "/missing"}, "true",
			"nsrun: Config.Sys: stat " + tr.root + "/missing: no such file or directory", fs.ErrNotExist},
		{"a Sys that is a file is refused by Command", nsrun.Config{Sys: file}, "true",
			"nsrun: Config.Sys: stat " + file + ": not a directory", syscall.ENOTDIR},
		{"a Dev that is a file is refused by Command", nsrun.Config{Dev: file}, "true",
			"nsrun: Config.Dev: stat " + file + ": not a directory", syscall.ENOTDIR},
		{"an empty command name is refused by Command", cfg, "", "nsrun: empty command name", nil},
		{"a Zero name with a slash is refused by Command", nsrun.Config{Zero: []string{"sub/dax0.0"}}, "true",
			`nsrun: Config.Zero: "sub/dax0.0" is not a plain file name`, nil},
		{"a Zero name .. is refused by Command", nsrun.Config{Zero: []string{".."}}, "true",
			`nsrun: Config.Zero: ".." is not a plain file name`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := nsrun.Command(c.cfg, c.cmd)
			if cmd != nil || err == nil {
				t.Fatalf("Command = %v, %v; want an error", cmd, err)
			}
			assert.Equal(t, c.want, err.Error(), "error")
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, c.is)
			}
		})
	}
}

func TestSupportedWithoutCapSysAdmin(t *testing.T) {
	testutil.RootOnly(t, "it drops CAP_SYS_ADMIN, which only root has, to see root's namespaces fail")
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("%v (install it: apt-get install util-linux)", err)
	}
	cmd := exec.Command(setpriv, "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--", testExe(t))
	cmd.Env = append(os.Environ(), testutil.Env("supported")...)
	out, _ := testutil.OutputOK(t, cmd)
	assert.Equal(t, "nsrun: cannot create a mount namespace: starting a process in new namespaces: "+
		"fork/exec /proc/self/exe: operation not permitted; "+
		"run as root with CAP_SYS_ADMIN (in a container: allow the mount and unshare system calls)\n", out, "Supported()")
}

func TestUnsupportedErrorIsErrUnsupported(t *testing.T) {
	err := error(&nsrun.UnsupportedError{Reason: "r", Hint: "h", Err: syscall.EPERM})
	if !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, syscall.EPERM) {
		t.Errorf("%v is not both ErrUnsupported and EPERM", err)
	}
	assert.Equal(t, "nsrun: cannot create a mount namespace: r; h", err.Error(), "Error()")
}
