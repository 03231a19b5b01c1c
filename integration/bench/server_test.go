package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// A FUSE server in the process that also makes the timed system calls
// competes with them for the Go runtime's Ps: a Go loop of short blocking
// calls waits, at every call, for the runtime to hand the blocked P over
// to the server, while C's loop (one long cgo call) pays that once. Where
// requests reach the server on every call (kernel caches off), the
// fixture is therefore served by a separate process — this test binary
// run again, as a real FUSE daemon would be. With warm caches no request
// reaches the server and the in-process fixture is used.

// TestMain runs the role "serve DIR" (see serve) for startNoCacheServer,
// or the benchmarks.
func TestMain(m *testing.M) {
	testutil.Main(m, testutil.Roles{"serve": func(args []string) int { return serve(args[0]) }})
}

// counter is where a benchmark reads how many FUSE requests its loop made.
type counter interface {
	resetCalls() error
	calls() (uint64, error)
}

// inProcess counts on a fixture served by this process.
type inProcess struct{ f *emulate.Fixture }

func (c inProcess) resetCalls() error { c.f.Server().ResetCalls(); return nil }

func (c inProcess) calls() (uint64, error) { return totalCalls(c.f.Server()), nil }

func totalCalls(s *fusefs.Server) uint64 {
	var n uint64
	for _, ops := range s.CallCounts() {
		for _, c := range ops {
			n += c
		}
	}
	return n
}

// serve mounts the default fixture with every kernel cache off on dir and
// answers commands on standard input, one per line: "reset" sets the call
// counters to zero, "calls" prints their total. End of input unmounts.
func serve(dir string) int {
	f, err := emulate.Mount(dir, nil, emulate.WithFusefsOptions(fusefs.Options{NoCache: true}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "reset":
			f.Server().ResetCalls()
			fmt.Println("ok")
		case "calls":
			fmt.Println(totalCalls(f.Server()))
		default:
			fmt.Println("unknown command")
		}
	}
	return 0
}

// child is a fixture served by a child process.
type child struct {
	dir string
	in  io.WriteCloser
	out *bufio.Reader
}

func (c *child) Path(rel string) string { return filepath.Join(c.dir, rel) }

func (c *child) ask(cmd string) (string, error) {
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		return "", err
	}
	line, err := c.out.ReadString('\n')
	return strings.TrimSpace(line), err
}

func (c *child) resetCalls() error {
	if r, err := c.ask("reset"); err != nil || r != "ok" {
		return fmt.Errorf("fixture server: reset: %q, %v", r, err)
	}
	return nil
}

func (c *child) calls() (uint64, error) {
	r, err := c.ask("calls")
	if err != nil {
		return 0, fmt.Errorf("fixture server: calls: %v", err)
	}
	return strconv.ParseUint(r, 10, 64)
}

// startNoCacheServer serves the default fixture, kernel caches off, from a
// child process until b's cleanup.
func startNoCacheServer(b *testing.B) *child {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "nocache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	cmd := testutil.Command("serve", dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting the fixture server: %v", err)
	}
	c := &child{dir: dir, in: in, out: bufio.NewReader(out)}
	b.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				b.Errorf("fixture server: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			b.Errorf("fixture server did not exit; killed")
		}
		// A killed server leaves a stale mount; Unmount detaches it.
		if err := fusefs.Unmount(dir); err == nil {
			b.Errorf("fixture server left its mount on %s; unmounted", dir)
		}
	})
	if line, err := c.out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("fixture server: %q, %v", line, err)
	}
	return c
}
