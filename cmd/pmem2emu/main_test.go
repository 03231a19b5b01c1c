package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// TestMain removes the pmem2emu binary cliProcess built, when the tests
// end.
func TestMain(m *testing.M) {
	testutil.Main(m, nil)
}

// cli runs the CLI in-process and returns its exit status and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// cliProcess prepares the pmem2emu binary, built from source the one way
// tests build it (testutil.CLI), as a child process: for tests that need
// one (signals).
func cliProcess(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(testutil.CLI(t), args...)
	cmd.Env = os.Environ()
	return cmd
}

// ourMounts lists fusefs's mounts, one line each.
func ourMounts(t *testing.T) []string { return testutil.Lines(testutil.OurMounts(t)) }

func mountedAt(t *testing.T, dir string) bool {
	m := testutil.MountAt(t, dir)
	return m != nil && m.FSType == testutil.FSType
}

func TestCheck(t *testing.T) {
	t.Run("the default spec passes and the fixture is gone afterwards", func(t *testing.T) {
		code, out, errOut := cli(t, "check")
		assert.Equal(t, exitOK, code, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		assert.Regexp(t, `^\d+ passed, 0 failed$`, lines[len(lines)-1])
		assert.Contains(t, out, "NODE")
		assert.Contains(t, out, "dev/dax0.0")
		assert.NotContains(t, out, "FAIL")
		assert.NotContains(t, strings.Join(ourMounts(t), "\n"), "pmem2emu-check-")
	})

	t.Run("a wrong expectation fails with exit status 1 and names the node", func(t *testing.T) {
		spec := `{"dax_devices": [{"name": "dax0.0", "size": 1073741824, "align": 2097152,
			"expect": {"path": {"from_fd": 0, "size": 4096}}}]}`
		file := filepath.Join(t.TempDir(), "wrong.json")
		require.NoError(t, os.WriteFile(file, []byte(spec), 0o644))
		code, out, _ := cli(t, "check", "--spec", file)
		assert.Equal(t, exitFail, code)
		assert.Contains(t, out, "FAIL dev/dax0.0 (path, from dax_devices[0])")
		assert.Contains(t, out, "0 passed, 1 failed")
	})

	t.Run("--json reports every result and the totals", func(t *testing.T) {
		code, out, errOut := cli(t, "check", "--json")
		require.Equal(t, exitOK, code, errOut)
		var rep struct {
			Results []struct {
				Node, Mode string
				Pass       bool
				Got        map[string]any
			}
			Passed, Failed int
		}
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		assert.Equal(t, len(emulate.Default().Checks()), rep.Passed)
		assert.Zero(t, rep.Failed)
		require.Len(t, rep.Results, rep.Passed)
		assert.Equal(t, map[string]any{"path": rep.Results[0].Got["path"], "mode": "r", "open_errno": float64(13)}, rep.Results[0].Got,
			"got is probe's JSON object")
	})

	t.Run("an invalid spec is refused before anything is mounted", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "bad.json")
		require.NoError(t, os.WriteFile(file, []byte(`{"nodes": [{"path": "../x", "type": "file"}]}`), 0o644))
		before := ourMounts(t)
		code, _, errOut := cli(t, "check", "--spec", file)
		assert.Equal(t, exitFail, code)
		assert.Contains(t, errOut, "nodes[0].path")
		assert.Equal(t, before, ourMounts(t))
	})

	t.Run("Ctrl-C unmounts and exits 130", func(t *testing.T) {
		// A 2 s delay on every lookup keeps check busy long enough to interrupt.
		spec := `{"nodes": [{"path": "data/f", "type": "file", "expect": {"all": {"from_fd": 0}}}],
			"faults": [{"path": "data/f", "op": "getattr", "delay": "2s"}]}`
		file := filepath.Join(t.TempDir(), "slow.json")
		require.NoError(t, os.WriteFile(file, []byte(spec), 0o644))
		cmd := cliProcess(t, "check", "--spec", file)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		time.Sleep(700 * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		err := cmd.Wait()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, stderr.String())
		assert.Equal(t, 130, ee.ExitCode(), stderr.String())
		assert.Contains(t, stderr.String(), "interrupted")
		assert.NotContains(t, strings.Join(ourMounts(t), "\n"), "pmem2emu-check-")
	})
}

func TestProbe(t *testing.T) {
	f := emutest.Start(t, nil)

	t.Run("--json output parses and matches the library", func(t *testing.T) {
		paths := []string{f.Path("dev/dax0.0"), f.Path("data/small"), f.Path("data/dir"), f.Path("dev/experimental")}
		code, out, errOut := cli(t, append([]string{"probe", "--sysfs", f.Sysfs(), "--mode", "path", "--json"}, paths...)...)
		require.Equal(t, exitOK, code, errOut)
		sc := bufio.NewScanner(strings.NewReader(out))
		for _, p := range paths {
			require.True(t, sc.Scan(), "one line per path")
			var got map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &got))
			assert.Equal(t, p, got["path"])
			assert.Equal(t, "path", got["mode"])

			fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
			require.NoError(t, err)
			src, err := pmem2.SourceFromFD(fd, pmem2.WithSysfsRoot(f.Sysfs()))
			assert.EqualValues(t, pmem2.CodeOf(err), got["from_fd"], p)
			if err != nil {
				assert.Equal(t, "", got["type"])
				assert.NotContains(t, got, "size_rc")
			} else {
				assert.Equal(t, src.Type().String(), got["type"])
				size, err := src.Size()
				assert.EqualValues(t, pmem2.CodeOf(err), got["size_rc"])
				if err == nil {
					assert.EqualValues(t, size, got["size"])
				} else {
					assert.NotContains(t, got, "size")
				}
				align, err := src.Alignment()
				assert.EqualValues(t, pmem2.CodeOf(err), got["alignment_rc"])
				if err == nil {
					assert.EqualValues(t, align, got["alignment"])
				}
				src.Delete()
			}
			syscall.Close(fd)
		}
		assert.False(t, sc.Scan(), "no extra lines")
	})

	t.Run("a failing open reports only the errno", func(t *testing.T) {
		code, out, _ := cli(t, "probe", "--json", "--mode", "r", f.Path("dev/dax0.0"))
		require.Equal(t, exitOK, code)
		assert.JSONEq(t, `{"path": "`+f.Path("dev/dax0.0")+`", "mode": "r", "open_errno": 13}`, out)
	})

	t.Run("the default mode is r and the text form names the codes", func(t *testing.T) {
		code, out, _ := cli(t, "probe", "--sysfs", f.Sysfs(), f.Path("data/dir"))
		require.Equal(t, exitOK, code)
		assert.Equal(t, f.Path("data/dir")+" (r): from_fd PMEM2_E_INVALID_FILE_TYPE\n", out)
	})
}

func TestMount(t *testing.T) {
	t.Run("SIGTERM unmounts and exits 0", func(t *testing.T) {
		dir := t.TempDir()
		cmd := cliProcess(t, "mount", dir)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			cmd.Wait() // stderr is complete only then
			t.Fatalf("no announcement: %v; stderr: %s", err, stderr.String())
		}
		assert.Equal(t, "mounted "+dir+"\n", line)
		assert.True(t, mountedAt(t, dir))
		_, err = os.Stat(filepath.Join(dir, "sys/bus/dax/devices/dax0.0/size"))
		assert.NoError(t, err, "the mount is usable once announced")

		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		assert.NoError(t, cmd.Wait(), stderr.String())
		assert.False(t, mountedAt(t, dir))
	})

	t.Run("device mode is refused for the default fixture, naming the node", func(t *testing.T) {
		code, _, errOut := cli(t, "mount", "--device-mode", t.TempDir())
		assert.Equal(t, exitFail, code)
		assert.Contains(t, errOut, "dev/")
	})
}

func TestExec(t *testing.T) {
	t.Run("the command sees the fixture's sysfs and its exit status comes back", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"exec", "--", "sh", "-c", "cat /sys/dev/char/252:0/size; exit 3"}, &stdout, &stderr)
		assert.Equal(t, 3, code, stderr.String())
		assert.Equal(t, "1073741824\n", stdout.String())
	})

	t.Run("--mount uses a fixture that is already mounted", func(t *testing.T) {
		f := emutest.Start(t, nil)
		code, out, errOut := cli(t, "exec", "--mount", f.Root(), "--", "ls", "/dev/dax0.0")
		assert.Equal(t, exitOK, code, errOut)
		assert.Equal(t, "/dev/dax0.0\n", out)
	})

	t.Run("a missing command exits 127", func(t *testing.T) {
		code, _, errOut := cli(t, "exec", "--", "no-such-command-pmem2emu")
		assert.Equal(t, 127, code)
		assert.Contains(t, errOut, "no-such-command-pmem2emu")
	})
}

func TestSpec(t *testing.T) {
	t.Run("--default prints a spec that decodes back to the default", func(t *testing.T) {
		code, out, _ := cli(t, "spec", "--default")
		require.Equal(t, exitOK, code)
		got, err := emulate.Parse([]byte(out))
		require.NoError(t, err)
		assert.Equal(t, emulate.Default(), got)
	})

	t.Run("--validate names every broken rule by its JSON location", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "bad.json")
		require.NoError(t, os.WriteFile(file, []byte(`{"dax_devices": [{"name": "dax0"}], "bogus": 1}`), 0o644))
		code, _, errOut := cli(t, "spec", "--validate", file)
		assert.Equal(t, exitFail, code)
		assert.Contains(t, errOut, "dax_devices[0].name")
		assert.Contains(t, errOut, "bogus")
	})
}

func TestUmount(t *testing.T) {
	t.Run("it unmounts a live fixture by its mount point", func(t *testing.T) {
		dir := t.TempDir()
		f, err := emulate.Mount(dir, nil)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		code, out, errOut := cli(t, "umount", dir)
		assert.Equal(t, exitOK, code, errOut)
		assert.Equal(t, "unmounted "+dir+"\n", out)
		assert.False(t, mountedAt(t, dir))
	})

	t.Run("--stale recovers a mount whose server was killed", func(t *testing.T) {
		dir := t.TempDir()
		cmd := cliProcess(t, "mount", dir)
		cmd.Env = append(cmd.Env, "PMEM2EMU_REAPER=off") // else the reaper cleans up first
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		_, err = bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		require.NoError(t, cmd.Process.Kill())
		cmd.Wait()
		// statfs always reaches the server; a stat may be answered from
		// what the kernel cached while the server lived.
		var st unix.Statfs_t
		require.ErrorIs(t, unix.Statfs(dir, &st), syscall.ENOTCONN)

		code, out, errOut := cli(t, "umount", "--stale")
		assert.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "unmounted stale "+dir)
		assert.False(t, mountedAt(t, dir))
	})
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command at all is a usage error", nil, "commands:"},
		{"an unknown command is a usage error", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"an unknown flag is a usage error", []string{"check", "--bogus"}, "flag provided but not defined: -bogus"},
		{"probe without a path is a usage error", []string{"probe"}, "no PATH given"},
		{"probe with a bad mode is a usage error", []string{"probe", "--mode", "x", "/"}, `--mode "x": want r, w, rw or path`},
		{"mount without a mount point is a usage error", []string{"mount"}, "want exactly one MOUNTPOINT"},
		{"exec without a command is a usage error", []string{"exec"}, "no COMMAND given"},
		{"exec with both --spec and --mount is a usage error", []string{"exec", "--spec", "a", "--mount", "b", "--", "true"}, "exclude each other"},
		{"umount with nothing to unmount is a usage error", []string{"umount"}, "give a MOUNTPOINT or --stale"},
		{"spec without a flag is a usage error", []string{"spec"}, "give --default, --healthy or --validate FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, errOut, tt.want)
			if len(tt.args) > 0 {
				assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			}
		})
	}

	t.Run("every command's -h shows its usage and an example and exits 0", func(t *testing.T) {
		for _, c := range commands {
			code, out, _ := cli(t, c.name, "-h")
			assert.Equal(t, exitOK, code, c.name)
			assert.Contains(t, out, "usage: pmem2emu "+c.name, c.name)
			assert.Contains(t, out, "example:", c.name)
		}
	})
}

func TestFlagsMayFollowArguments(t *testing.T) {
	f := emutest.Start(t, nil)
	dax := f.Path("dev/dax0.0")
	badSpec := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(badSpec, []byte(`{"nodes": [{"path": "../x", "type": "file"}]}`), 0o644))
	script := `printf '%s\n' "$@"`

	tests := []struct {
		name             string
		args             []string
		code             int
		stdout, stderr   string // stdout is matched whole, stderr by substring
		sameStdoutAsArgs []string
	}{
		{name: "probe reads its flags after the paths as before them",
			args:             []string{"probe", dax, "--sysfs", f.Sysfs(), "--json", "--mode", "path"},
			sameStdoutAsArgs: []string{"probe", "--sysfs", f.Sysfs(), "--json", "--mode", "path", dax}},
		{name: "probe reads flags between the paths",
			args:             []string{"probe", dax, "--mode", "path", dax},
			sameStdoutAsArgs: []string{"probe", "--mode", "path", dax, dax}},
		{name: "after -- a flag is a path",
			args: []string{"probe", "--json", "--", "--force"}, stdout: `{"path":"--force","mode":"r","open_errno":2}` + "\n"},
		{name: "mount reads --device-mode after the mount point",
			args: []string{"mount", t.TempDir(), "--device-mode"}, code: exitFail, stderr: "dev/"},
		{name: "mount reads --spec after the mount point",
			args: []string{"mount", t.TempDir(), "--force", "--spec", badSpec}, code: exitFail, stderr: "nodes[0].path"},
		{name: "mount with two mount points is still a usage error",
			args: []string{"mount", t.TempDir(), t.TempDir(), "--force"}, code: exitUsage, stderr: "got 2 arguments"},
		{name: "an unknown flag after the arguments is a usage error",
			args: []string{"probe", dax, "--bogus"}, code: exitUsage, stderr: "flag provided but not defined: -bogus"},
		{name: "-h after an argument shows the usage",
			args: []string{"mount", t.TempDir(), "-h"}, stdout: "usage: pmem2emu mount"},
		{name: "exec leaves the flags after -- to the command",
			args: []string{"exec", "--", "sh", "-c", script, "sh", "-l", "--spec", "x"}, stdout: "-l\n--spec\nx\n"},
		{name: "exec reads its own flags before -- and leaves the rest to the command",
			args: []string{"exec", "--mount", f.Root(), "--", "sh", "-c", script, "sh", "--json"}, stdout: "--json\n"},
		{name: "exec without -- leaves everything after the command's name to the command",
			args: []string{"exec", "--mount", f.Root(), "sh", "-c", script, "sh", "--mount", "y"}, stdout: "--mount\ny\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.stderr)
			switch {
			case tt.sameStdoutAsArgs != nil:
				wantCode, want, _ := cli(t, tt.sameStdoutAsArgs...)
				require.Equal(t, exitOK, wantCode)
				assert.Equal(t, want, out)
			case strings.HasPrefix(tt.stdout, "usage:"):
				assert.True(t, strings.HasPrefix(out, tt.stdout), out)
			default:
				assert.Equal(t, tt.stdout, out)
			}
		})
	}
}

func TestHelpCommandIsTheCommandsUsage(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			code, help, _ := cli(t, "help", c.name)
			require.Equal(t, exitOK, code)
			_, usage, _ := cli(t, c.name, "-h")
			assert.Equal(t, usage, help)
			assert.Contains(t, help, "\nflags:\n  -", "the flags are listed")
		})
	}
}
