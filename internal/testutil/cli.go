package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The one way tests get the pmem2emu command: built from this module's
// source with `go build`, once per test binary, so that they run the
// binary a user runs (its main, its signal handling, its init hooks) and
// not an in-process call or a stand-in.
var cli struct {
	sync.Mutex
	dir, bin string
	err      error
}

// CLI returns the path of the pmem2emu command built from source, building
// it on the first call; Run (and so Main) removes it when the tests end.
// A build failure fails every test that asks.
func CLI(t testing.TB) string {
	t.Helper()
	cli.Lock()
	defer cli.Unlock()
	if cli.bin == "" && cli.err == nil {
		cli.bin, cli.err = buildCLI()
	}
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.bin
}

func buildCLI() (string, error) {
	dir, err := os.MkdirTemp("", "pmem2emu-cli-")
	if err != nil {
		return "", err
	}
	cli.dir = dir
	// go test puts its own GOROOT/bin first in the tests' PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building the pmem2emu command: %w", err)
	}
	bin := filepath.Join(dir, "pmem2emu")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/pmem2emu/pmem2emu/cmd/pmem2emu")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/pmem2emu: %v\n%s", err, out)
	}
	return bin, nil
}

func removeCLI() {
	cli.Lock()
	defer cli.Unlock()
	if cli.dir != "" {
		os.RemoveAll(cli.dir)
	}
}

// A MountProcess is a running `pmem2emu mount`.
type MountProcess struct {
	Cmd *exec.Cmd
	Dir string // the mount point
	// Stderr is what the process wrote on its standard error; read it
	// once the process has ended.
	Stderr bytes.Buffer
	done   chan error
	err    error
	ended  bool
}

// StartMount runs `pmem2emu mount args…` (the mount point last) with env
// added to this process's environment, and returns once it said "mounted
// DIR": the mount is served. A process still running when the test ends
// gets SIGTERM, and must then unmount and exit 0 within 20 s.
func StartMount(t testing.TB, env []string, args ...string) *MountProcess {
	t.Helper()
	p := &MountProcess{Dir: args[len(args)-1], done: make(chan error, 1)}
	p.Cmd = exec.Command(CLI(t), append([]string{"mount"}, args...)...)
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stderr = &p.Stderr
	out, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
		io.Copy(io.Discard, out)
		p.done <- p.Cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.ended {
			return
		}
		p.Cmd.Process.Signal(syscall.SIGTERM)
		if !p.wait(20 * time.Second) {
			p.Cmd.Process.Kill()
			p.wait(time.Minute)
			t.Errorf("pmem2emu mount %s did not stop within 20s of SIGTERM; killed", p.Dir)
		} else if p.err != nil {
			t.Errorf("pmem2emu mount %s after SIGTERM: %v\n%s", p.Dir, p.err, &p.Stderr)
		}
	})
	select {
	case l := <-line:
		if want := "mounted " + p.Dir + "\n"; l != want {
			p.Cmd.Process.Kill() // harmless when it has exited already
			p.wait(time.Minute)
			t.Fatalf("pmem2emu mount %s printed %q, want %q; stderr:\n%s", p.Dir, l, want, &p.Stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("pmem2emu mount %s did not say it mounted within 20s", p.Dir)
	}
	return p
}

// Signal sends sig and waits for the process to end; it returns how it
// ended, as exec.Cmd.Wait does (nil for exit status 0).
func (p *MountProcess) Signal(t testing.TB, sig os.Signal) error {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if !p.wait(20 * time.Second) {
		t.Fatalf("pmem2emu mount %s did not end within 20s of %v", p.Dir, sig)
	}
	return p.err
}

func (p *MountProcess) wait(d time.Duration) bool {
	if p.ended {
		return true
	}
	select {
	case p.err = <-p.done:
		p.ended = true
	case <-time.After(d):
	}
	return p.ended
}
