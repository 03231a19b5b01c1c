package fusefs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A process that serves a mount and also uses it can fail to die. When it
// is killed (SIGKILL, a `go test -timeout`, os.Exit) while one of its
// threads waits for an answer that its own server had already read, the
// kernel waits that request out uninterruptibly; the descriptor of
// /dev/fuse, whose release would abort the connection, goes only when every
// thread is gone. The process hangs half dead, and its mount is neither live
// nor stale. A mount whose server simply exited without Close stays behind
// as a stale mount.
//
// So the first Mount of a process starts a reaper: a copy of the program
// that learns each mount's connection on a pipe and watches the process.
// Once the process is dying or gone, the reaper aborts the connections
// still registered (which wakes a stuck thread with ENOTCONN) and detaches
// their mounts. It lives in its own process group, so a Ctrl-C to the
// terminal does not take it along, and it holds nothing of the process but
// the pipe.
//
// PMEM2EMU_REAPER=off in the environment of the process keeps the reaper
// from starting (tests of stale-mount recovery need the stale mount).

const (
	reaperArg0 = "fusefs:reaper"
	reaperOff  = "PMEM2EMU_REAPER"
	reaperPoll = 100 * time.Millisecond
)

// init is the hook that makes a program its own reaper. startReaper runs
// /proc/self/exe with argv[0] set to reaperArg0; this init recognises it
// and runs reap instead of the program, and exits. It runs during package
// initialisation, before main and before a test binary's TestMain, so
// every program that imports fusefs can be its own reaper with nothing to
// wire up — users' test binaries without a TestMain included. What runs
// before it in the reaper are only the init functions of the packages
// initialised earlier (fusefs's imports, and others the initialisation
// order puts first); those must not do real work. The marker travels in
// argv[0], not in the environment, so that no command the program starts
// inherits it.
func init() {
	if len(os.Args) == 2 && os.Args[0] == reaperArg0 {
		ppid, err := strconv.Atoi(os.Args[1])
		if err != nil {
			os.Exit(2)
		}
		reap(ppid, os.Stdin)
		os.Exit(0)
	}
}

var reaperPipe struct {
	mu      sync.Mutex
	started bool
	w       *os.File // nil when the reaper is off or could not start
}

// reaperTrack tells the reaper about a mount; reaperForget, that it has
// been unmounted by Close.
func reaperTrack(conn uint64, dir string) {
	if conn != 0 {
		reaperSay(fmt.Sprintf("+%d %s\n", conn, strconv.Quote(dir)))
	}
}

func reaperForget(conn uint64) {
	if conn != 0 {
		reaperSay(fmt.Sprintf("-%d\n", conn))
	}
}

func reaperSay(line string) {
	r := &reaperPipe
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		r.started = true
		r.w = startReaper()
	}
	if r.w == nil {
		return
	}
	if _, err := r.w.WriteString(line); err != nil {
		r.w.Close()
		r.w = nil
	}
}

// startReaper starts the reaper and returns the write end of its pipe, or
// nil. The reaper is never waited for: it outlives this process by design.
func startReaper() *os.File {
	if os.Getenv(reaperOff) == "off" {
		return nil
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil
	}
	defer rd.Close()
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{reaperArg0, strconv.Itoa(os.Getpid())},
		Stdin:       rd,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		wr.Close()
		return nil
	}
	cmd.Process.Release()
	return wr
}

// reap is the reaper's main loop: it keeps the registered mounts of process
// ppid and releases them when the pipe ends (the process is gone) or the
// process is seen dying.
func reap(ppid int, in *os.File) {
	held := make(map[uint64]string)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	tick := time.NewTicker(reaperPoll)
	defer tick.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				release(held)
				return
			}
			registerLine(held, l)
		case <-tick.C:
			if dying(ppid) {
				// Take what is still in the pipe before acting.
				for drained := false; !drained; {
					select {
					case l, ok := <-lines:
						if !ok {
							drained = true
						} else {
							registerLine(held, l)
						}
					case <-time.After(reaperPoll):
						drained = true
					}
				}
				release(held)
				return
			}
		}
	}
}

func registerLine(held map[uint64]string, l string) {
	if rest, ok := strings.CutPrefix(l, "+"); ok {
		num, dir, _ := strings.Cut(rest, " ")
		conn, err1 := strconv.ParseUint(num, 10, 64)
		d, err2 := strconv.Unquote(dir)
		if err1 == nil && err2 == nil {
			held[conn] = d
		}
		return
	}
	if conn, err := strconv.ParseUint(strings.TrimPrefix(l, "-"), 10, 64); err == nil {
		delete(held, conn)
	}
}

// release aborts and detaches every mount in held that is still the one
// registered (the same connection on the same directory).
func release(held map[uint64]string) {
	for conn, dir := range held {
		if m, ok := findMount(dir); !ok || m.conn != conn {
			continue
		}
		abortConnection(conn)
		lazyUnmount(dir)
	}
}

// pfExiting is PF_EXITING of the task flags in /proc/PID/stat.
const pfExiting = 0x4

// dying reports whether process pid is gone, a zombie, exiting, or has a
// SIGKILL pending — which a group being killed has on every thread, also
// on one stuck in an uninterruptible wait.
func dying(pid int) bool {
	p := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(p + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return true
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 7 || f[0] == "Z" || f[0] == "X" {
		return true
	}
	if flags, err := strconv.ParseUint(f[6], 10, 64); err == nil && flags&pfExiting != 0 {
		return true
	}
	status, err := os.ReadFile(p + "/status")
	if err != nil {
		return true
	}
	for _, l := range strings.Split(string(status), "\n") {
		name, val, ok := strings.Cut(l, ":")
		if !ok || (name != "SigPnd" && name != "ShdPnd") {
			continue
		}
		if set, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64); err == nil && set&(1<<(syscall.SIGKILL-1)) != 0 {
			return true
		}
	}
	return false
}
