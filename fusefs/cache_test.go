package fusefs_test

import (
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// The invariants of the kernel caches (package documentation, Kernel
// caching), proven at each cache layer — file pages, listings, entries and
// attributes, link targets — in each way a mount can serve them, from this
// process, through descriptors opened before the change, and from another
// process.

// cacheModes are the ways of serving under test.
var cacheModes = []struct {
	name string
	opts fusefs.Options
}{
	{"default", fusefs.Options{}},
	{"kernel-open", fusefs.Options{KernelOpen: true}},
}

func cacheTree() fusefs.Tree {
	return mine(fusefs.Tree{
		"d/f":     fusefs.File("old\n"),
		"d/g":     fusefs.File("other\n"),
		"d/link":  fusefs.Symlink("f"),
		"d/sub/x": fusefs.File("x"),
		"empty":   fusefs.File(""),
	})
}

// warmUp fills every cache the kernel keeps of dir's tree, twice over, the
// way clients do: stat, open and read, list, readlink, walk through links.
func warmUp(t *testing.T, dir string) {
	t.Helper()
	for range 2 {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if _, err := os.Lstat(p); err != nil {
				return err
			}
			switch {
			case d.IsDir():
				_, err = os.ReadDir(p)
			case d.Type().IsRegular():
				_, err = os.ReadFile(p)
			case d.Type()&os.ModeSymlink != 0:
				if _, err = os.Readlink(p); err == nil {
					_, err = os.Stat(p)
				}
			}
			return err
		})
		if err != nil {
			t.Fatalf("warming the caches: %v", err)
		}
	}
}

// openOld opens p for reading before a change: its reads go through the
// page cache unless the file is kept out of it.
func openOld(t *testing.T, p string, flags int) int {
	t.Helper()
	fd, err := unix.Open(p, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// pread reads what one read(2) of up to 4096 bytes at offset 0 gives, as
// sysfs clients read an attribute.
func pread(fd int) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// listAgain rewinds an open directory and lists it again, "." and ".."
// left out.
func listAgain(fd int) ([]string, error) {
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return nil, err
	}
	ents, err := getdents(fd)
	var names []string
	for _, e := range ents {
		if e.name != "." && e.name != ".." {
			names = append(names, e.name)
		}
	}
	return names, err
}

// tool runs a command in another process and returns its standard output,
// or an error holding its standard error.
func tool(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), errors.New(strings.TrimSpace(string(ee.Stderr)))
	}
	return string(out), err
}

// readers are the ways a file's content is read after a change: a fresh
// open in this process, a descriptor opened before the change, cat and a
// single 4096-byte read(2) by dd in another process.
func readers(t *testing.T, p string, old int) map[string]func() (string, error) {
	return map[string]func() (string, error){
		"ReadFile":               func() (string, error) { b, err := os.ReadFile(p); return string(b), err },
		"an old file descriptor": func() (string, error) { return pread(old) },
		"cat":                    func() (string, error) { return tool("cat", p) },
		"dd bs=4096 count=1": func() (string, error) {
			return tool("dd", "if="+p, "bs=4096", "count=1", "status=none")
		},
	}
}

// cacheEnv is a mount with warm caches and descriptors opened before a
// change: d/f for reading, d as a directory.
type cacheEnv struct {
	dir           string
	srv           *fusefs.Server
	oldFile, oldD int
}

func TestChangesShowThroughEveryCacheLayer(t *testing.T) {
	type env = cacheEnv
	tests := []struct {
		name   string
		change func(e env) error
		check  func(t *testing.T, e env)
	}{
		{"longer data is read whole, however it is read",
			func(e env) error { return e.srv.SetData("d/f", []byte("a longer line\n")) },
			func(t *testing.T, e env) { wantContent(t, e, "a longer line\n") }},
		{"shorter data is read without the old tail",
			func(e env) error { return e.srv.SetData("d/f", []byte("x\n")) },
			func(t *testing.T, e env) { wantContent(t, e, "x\n") }},
		{"data of the same size is read new",
			func(e env) error { return e.srv.SetData("d/f", []byte("new\n")) },
			func(t *testing.T, e env) { wantContent(t, e, "new\n") }},
		{"a file set in place is read new",
			func(e env) error { return e.srv.Set("d/f", fusefs.File("set in place\n")) },
			func(t *testing.T, e env) { wantContent(t, e, "set in place\n") }},
		{"a file written through the mount is read new",
			func(e env) error {
				return os.WriteFile(filepath.Join(e.dir, "d/f"), []byte("written\n"), 0)
			},
			func(t *testing.T, e env) { wantContent(t, e, "written\n") }},
		{"a file overwritten in place through another descriptor is read new",
			func(e env) error {
				f, err := os.OpenFile(filepath.Join(e.dir, "d/f"), os.O_WRONLY, 0)
				if err != nil {
					return err
				}
				_, err = f.WriteAt([]byte("NEW"), 0)
				return errors.Join(err, f.Close())
			},
			func(t *testing.T, e env) { wantContent(t, e, "NEW\n") }},
		{"a new file shows in every listing",
			func(e env) error { return e.srv.Set("d/h", fusefs.File("")) },
			func(t *testing.T, e env) { wantListing(t, e.dir, e.oldD, "f", "g", "h", "link", "sub") }},
		{"a removed file is gone from every listing",
			func(e env) error { return e.srv.Remove("d/g") },
			func(t *testing.T, e env) { wantListing(t, e.dir, e.oldD, "f", "link", "sub") }},
		{"a node replaced by one of another type is listed as such",
			func(e env) error { return e.srv.Set("d/g", fusefs.Dir()) },
			func(t *testing.T, e env) {
				if fi, err := os.Lstat(filepath.Join(e.dir, "d/g")); err != nil || !fi.IsDir() {
					t.Errorf("d/g: %v, %v; want a directory", fi, err)
				}
				wantListing(t, e.dir, e.oldD, "f", "g", "link", "sub")
			}},
		{"a new target shows on readlink and in path walks",
			func(e env) error { return e.srv.SetTarget("d/link", "g") },
			func(t *testing.T, e env) {
				p := filepath.Join(e.dir, "d/link")
				if got, err := os.Readlink(p); got != "g" || err != nil {
					t.Errorf("Readlink: %q, %v", got, err)
				}
				if got, err := tool("readlink", p); got != "g\n" || err != nil {
					t.Errorf("readlink: %q, %v", got, err)
				}
				if got, err := tool("cat", p); got != "other\n" || err != nil {
					t.Errorf("cat through the link: %q, %v", got, err)
				}
			}},
	}
	for _, mode := range cacheModes {
		t.Run(mode.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					srv, dir := mount(t, cacheTree(), &mode.opts)
					warmUp(t, dir)
					e := env{dir: dir, srv: srv,
						oldFile: openOld(t, filepath.Join(dir, "d/f"), unix.O_RDONLY),
						oldD:    openOld(t, filepath.Join(dir, "d"), unix.O_RDONLY|unix.O_DIRECTORY)}
					if got, err := pread(e.oldFile); got != "old\n" || err != nil {
						t.Fatalf("the old descriptor reads %q, %v before the change", got, err)
					}
					listAgain(e.oldD)
					if err := tt.change(e); err != nil {
						t.Fatal(err)
					}
					tt.check(t, e)
				})
			}
		})
	}
}

// wantContent checks every reader of d/f, and its size.
func wantContent(t *testing.T, e cacheEnv, want string) {
	t.Helper()
	p := filepath.Join(e.dir, "d/f")
	for name, read := range readers(t, p, e.oldFile) {
		if got, err := read(); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if st := lstat(t, p); st.Size != int64(len(want)) {
		t.Errorf("st_size %d, want %d", st.Size, len(want))
	}
	if got, err := tool("stat", "-c", "%s", p); err != nil || strings.TrimSpace(got) != strconv.Itoa(len(want)) {
		t.Errorf("stat -c %%s in another process: %q, %v; want %d", got, err, len(want))
	}
}

// wantListing checks every lister of d: a fresh listing in this process,
// a rewind of a directory opened before the change, ls in another process.
func wantListing(t *testing.T, dir string, oldD int, want ...string) {
	t.Helper()
	d := filepath.Join(dir, "d")
	var fresh []string
	ents, err := os.ReadDir(d)
	for _, e := range ents {
		fresh = append(fresh, e.Name())
	}
	if !slices.Equal(fresh, want) || err != nil {
		t.Errorf("ReadDir: %q, %v; want %q", fresh, err, want)
	}
	again, err := listAgain(oldD)
	slices.Sort(again)
	if !slices.Equal(again, want) || err != nil {
		t.Errorf("the old descriptor, rewound: %q, %v; want %q", again, err, want)
	}
	out, err := tool("ls", "-1", d)
	if got := strings.Fields(out); !slices.Equal(got, want) || err != nil {
		t.Errorf("ls: %q, %v; want %q", got, err, want)
	}
}

// ruleErrno is what the rules below fail with: rare enough that a failure
// with it can only come from the rule.
const ruleErrno = syscall.EREMOTEIO

// failsWithRule reports whether err is ruleErrno, from this process (an
// errno) or from another (the tool's message).
func failsWithRule(err error) bool {
	return errors.Is(err, ruleErrno) ||
		err != nil && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(ruleErrno.Error()))
}

// ruleCall is one way of making calls of a rule's operation.
type ruleCall struct {
	do func(e cacheEnv) error
	// calls is how many calls of the operation do makes when the rule
	// lets them pass (ReadFile and cat read the data, then the end of the
	// file); a failed call ends do, so with a failing rule it makes one.
	calls uint64
}

// A rule added to a node whose every cache is warm bites on the very next
// call of its operation, whoever makes it and through whatever descriptor,
// and each such call is counted once; a rule that lets calls pass counts
// them all the same.
func TestARuleOnACachedNodeSeesEveryCall(t *testing.T) {
	in := func(name string, args ...string) func(rel string) ruleCall {
		return func(rel string) ruleCall {
			return ruleCall{do: func(e cacheEnv) error {
				_, err := tool(name, append(args, filepath.Join(e.dir, rel))...)
				return err
			}, calls: 1}
		}
	}
	stat := func(rel string) ruleCall {
		return ruleCall{do: func(e cacheEnv) error { _, err := os.Lstat(filepath.Join(e.dir, rel)); return err }, calls: 1}
	}
	readFile := func(rel string, calls uint64) ruleCall {
		return ruleCall{do: func(e cacheEnv) error { _, err := os.ReadFile(filepath.Join(e.dir, rel)); return err }, calls: calls}
	}
	cat := func(rel string, calls uint64) ruleCall {
		c := in("cat")(rel)
		c.calls = calls
		return c
	}
	dd := func(rel string) ruleCall {
		return ruleCall{do: func(e cacheEnv) error {
			_, err := tool("dd", "if="+filepath.Join(e.dir, rel), "of=/dev/null", "bs=4096", "count=1", "status=none")
			return err
		}, calls: 1}
	}
	cases := []struct {
		op         fusefs.Op
		path       string
		calls      map[string]ruleCall
		kernelOpen bool // the case applies with KernelOpen too
	}{
		{fusefs.OpLookup, "d/g", map[string]ruleCall{
			"Lstat": stat("d/g"),
			"stat":  in("stat")("d/g"),
		}, true},
		{fusefs.OpGetattr, "d/f", map[string]ruleCall{
			"Lstat": stat("d/f"),
			"Fstat on an old descriptor": {do: func(e cacheEnv) error {
				var st unix.Stat_t
				return unix.Fstat(e.oldFile, &st)
			}, calls: 1},
			"stat": in("stat")("d/f"),
		}, true},
		{fusefs.OpOpen, "d/f", map[string]ruleCall{
			"Open": {do: func(e cacheEnv) error { _, err := osOpen(filepath.Join(e.dir, "d/f")); return err }, calls: 1},
			"cat":  in("cat")("d/f"),
		}, false},
		{fusefs.OpRead, "d/f", map[string]ruleCall{
			"ReadFile":                   readFile("d/f", 2),
			"pread on an old descriptor": {do: func(e cacheEnv) error { _, err := pread(e.oldFile); return err }, calls: 1},
			"cat":                        cat("d/f", 2),
			"dd bs=4096 count=1":         dd("d/f"),
		}, true},
		// The end of the file, at once.
		{fusefs.OpRead, "empty", map[string]ruleCall{
			"ReadFile":           readFile("empty", 1),
			"cat":                cat("empty", 1),
			"dd bs=4096 count=1": dd("empty"),
		}, true},
		{fusefs.OpReaddir, "d", map[string]ruleCall{
			"ReadDir":                     {do: func(e cacheEnv) error { _, err := os.ReadDir(filepath.Join(e.dir, "d")); return err }, calls: 1},
			"rewinding an old descriptor": {do: func(e cacheEnv) error { _, err := listAgain(e.oldD); return err }, calls: 1},
			"ls":                          in("ls", "-1")("d"),
		}, true},
		{fusefs.OpReadlink, "d/link", map[string]ruleCall{
			"Readlink":                {do: func(e cacheEnv) error { _, err := os.Readlink(filepath.Join(e.dir, "d/link")); return err }, calls: 1},
			"a walk through the link": {do: func(e cacheEnv) error { _, err := os.Stat(filepath.Join(e.dir, "d/link")); return err }, calls: 1},
			"readlink":                in("readlink", "-v")("d/link"),
		}, true},
	}
	for _, mode := range cacheModes {
		t.Run(mode.name, func(t *testing.T) {
			for _, c := range cases {
				if mode.opts.KernelOpen && !c.kernelOpen {
					continue
				}
				for _, fire := range []bool{true, false} {
					name := c.op.String() + " rule on " + c.path + " fails"
					rule := fusefs.Fault{Path: c.path, Op: c.op, Errno: ruleErrno}
					if !fire {
						name = c.op.String() + " rule on " + c.path + " lets pass"
						rule.After = 1 << 30
					}
					t.Run(name, func(t *testing.T) {
						srv, dir := mount(t, cacheTree(), &mode.opts)
						warmUp(t, dir)
						e := cacheEnv{dir: dir, srv: srv,
							oldFile: openOld(t, filepath.Join(dir, "d/f"), unix.O_RDONLY),
							oldD:    openOld(t, filepath.Join(dir, "d"), unix.O_RDONLY|unix.O_DIRECTORY)}
						pread(e.oldFile)
						listAgain(e.oldD)
						if err := srv.AddFault(rule); err != nil {
							t.Fatal(err)
						}
						for _, how := range slices.Sorted(maps.Keys(c.calls)) {
							call := c.calls[how]
							before := srv.Calls(c.path, c.op)
							err := call.do(e)
							n := srv.Calls(c.path, c.op) - before
							want := call.calls
							if fire {
								want = 1
							}
							switch {
							case fire && !failsWithRule(err):
								t.Errorf("%s: %v, want %v", how, err, ruleErrno)
							case !fire && err != nil:
								t.Errorf("%s: %v", how, err)
							case n != want:
								t.Errorf("%s: counted %d %v calls, want %d", how, n, c.op, want)
							}
						}
					})
				}
			}
		})
	}
}
