package emulate

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Fixture is a mounted spec: <Root>/sys is the fake sysfs, <Root>/dev the
// device nodes, every other declared path lies below Root. Its methods are
// safe for concurrent use; Close is idempotent.
type Fixture struct {
	root string
	spec *Spec
	srv  *fusefs.Server

	closeOnce sync.Once
	closeErr  error
}

// Option adjusts how a fixture is mounted.
type Option func(*fusefs.Options)

// WithDeviceMode mounts without nodev so device nodes open the devices
// they name. fusefs allows it only for root and only when every device
// node is a harmless memory device (1:3, 1:5, 1:7, 1:8, 1:9): declare the
// Device DAX with major 1, minor 5 to have it backed by /dev/zero.
func WithDeviceMode() Option { return func(o *fusefs.Options) { o.DeviceMode = true } }

// WithFusefsOptions starts from o instead of fusefs's defaults (caching
// timeouts, AllowOther, Debug …). The spec's faults are appended to
// o.Faults; later options still apply.
func WithFusefsOptions(o fusefs.Options) Option {
	return func(dst *fusefs.Options) {
		faults := append([]fusefs.Fault(nil), o.Faults...)
		*dst = o
		dst.Faults = faults
	}
}

// Mount validates spec (nil means Default()), generates its tree and serves
// it on dir, an empty directory. Nothing is mounted when the spec is
// invalid (the error matches ErrInvalidSpec) or FUSE is unavailable (the
// error matches fusefs.ErrNoFuse).
func Mount(dir string, spec *Spec, opts ...Option) (*Fixture, error) {
	if spec == nil {
		spec = Default()
	}
	tree, err := spec.Tree()
	if err != nil {
		return nil, err
	}
	var o fusefs.Options
	for _, opt := range opts {
		opt(&o)
	}
	for i, f := range spec.Faults {
		ff, err := f.fusefs()
		if err != nil {
			return nil, fmt.Errorf("emulate: faults[%d]: %w", i, err)
		}
		o.Faults = append(o.Faults, ff)
	}
	if o.FsName == "" {
		o.FsName = "pmem2emu"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("emulate: mount %s: %w", dir, err)
	}
	srv, err := fusefs.Mount(abs, tree, &o)
	if err != nil {
		return nil, fmt.Errorf("emulate: mount %s: %w", abs, err)
	}
	return &Fixture{root: abs, spec: spec, srv: srv}, nil
}

// Start mounts spec (nil means Default()) under t.TempDir() and unmounts it
// in t.Cleanup. It fails the test at once, with the reason and the remedy,
// when the spec is invalid or FUSE is unavailable: a test that needs the
// fixture never silently skips.
func Start(t testing.TB, spec *Spec, opts ...Option) *Fixture {
	t.Helper()
	dir := t.TempDir()
	f, err := Mount(dir, spec, opts...)
	if err != nil {
		t.Fatal(startFailure(err))
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("emulate: unmounting the fixture: %v", err)
		}
	})
	return f
}

// startFailure is Start's message for a failed mount: the error, and for
// a machine without FUSE what to do about it.
func startFailure(err error) string {
	if errors.Is(err, fusefs.ErrNoFuse) {
		return fmt.Sprintf("emulate.Start: FUSE is unavailable: %v\n"+
			"\tThe fixture needs /dev/fuse (modprobe fuse; in a container run with --device /dev/fuse --cap-add SYS_ADMIN)\n"+
			"\tand, when not root, fusermount3: apt-get install -y fuse3", err)
	}
	return "emulate.Start: " + err.Error()
}

// Root is the mount point.
func (f *Fixture) Root() string { return f.root }

// Sysfs is the fake sysfs root, Root()+"/sys": pass it to
// pmem2.WithSysfsRoot.
func (f *Fixture) Sysfs() string { return f.root + "/sys" }

// Dev is the directory of device nodes, Root()+"/dev".
func (f *Fixture) Dev() string { return f.root + "/dev" }

// Path is the absolute path of rel, a path relative to the mount root
// ("dev/dax0.0", "data/file").
func (f *Fixture) Path(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }

// Spec is the spec the fixture serves (as mounted: later runtime changes
// are not written back). Do not modify it.
func (f *Fixture) Spec() *Spec { return f.spec }

// Server is the fusefs server, for what the fixture does not wrap (call
// counters, raw nodes).
func (f *Fixture) Server() *fusefs.Server { return f.srv }

// AddFault adds a fault rule at runtime.
func (f *Fixture) AddFault(rule Fault) error {
	ff, err := f.checkedFault(rule)
	if err != nil {
		return err
	}
	return f.srv.AddFault(ff)
}

// SetFaults replaces every fault rule.
func (f *Fixture) SetFaults(rules []Fault) error {
	out := make([]fusefs.Fault, 0, len(rules))
	for _, r := range rules {
		ff, err := f.checkedFault(r)
		if err != nil {
			return err
		}
		out = append(out, ff)
	}
	return f.srv.SetFaults(out)
}

// ClearFaults removes every fault rule.
func (f *Fixture) ClearFaults() { f.srv.ClearFaults() }

func (f *Fixture) checkedFault(rule Fault) (fusefs.Fault, error) {
	var p problems
	checkFault(&p, "fault", &rule)
	if err := p.err(); err != nil {
		return fusefs.Fault{}, err
	}
	return rule.fusefs()
}

// WriteFile sets the content of the file at rel (relative to the root),
// creating it (mode 0644) when it does not exist; the next read sees it.
func (f *Fixture) WriteFile(rel string, data []byte) error {
	if n, ok := f.srv.Node(rel); ok && n.Type == fusefs.TypeFile {
		return f.srv.SetData(rel, data)
	}
	return f.srv.Set(rel, &fusefs.Node{Type: fusefs.TypeFile, Mode: modeRW, Data: append([]byte(nil), data...)})
}

// SetNode adds or replaces a node at runtime, declared as in a spec.
func (f *Fixture) SetNode(n Node) error {
	var p problems
	(&Spec{Nodes: []Node{n}}).checkNodes(&p)
	if err := p.err(); err != nil {
		return err
	}
	return f.srv.Set(n.Path, n.fusefsNode())
}

// SetTarget changes the target of the symlink at rel.
func (f *Fixture) SetTarget(rel, target string) error { return f.srv.SetTarget(rel, target) }

// Remove removes the node at rel (and, for a directory, everything below).
func (f *Fixture) Remove(rel string) error { return f.srv.Remove(rel) }

// Command prepares name to run in a private mount namespace where the
// fixture's sys is /sys and its dev entries appear in /dev (see package
// nsrun): unmodified programs that hard-code /sys and /dev, like daxctl or
// a C program linked with libpmem2, see the emulated devices.
func (f *Fixture) Command(name string, args ...string) (*exec.Cmd, error) {
	return nsrun.Command(nsrun.Config{Sys: f.Sysfs(), Dev: f.Dev()}, name, args...)
}

// Close unmounts the fixture and waits for its server; later calls return
// the first result.
func (f *Fixture) Close() error {
	f.closeOnce.Do(func() {
		if err := f.srv.Close(); err != nil {
			f.closeErr = &fs.PathError{Op: "unmount", Path: f.root, Err: err}
		}
	})
	return f.closeErr
}

// fusefs converts a validated spec fault.
func (f Fault) fusefs() (fusefs.Fault, error) {
	op, err := fusefs.ParseOp(f.Op)
	if err != nil {
		return fusefs.Fault{}, err
	}
	out := fusefs.Fault{Path: f.Path, Op: op, Short: f.Short, After: f.After, Times: f.Times,
		Probability: f.Probability, Seed: f.Seed}
	if f.Errno != "" {
		e, ok := parseErrno(f.Errno)
		if !ok {
			return fusefs.Fault{}, fmt.Errorf("unknown errno %q", f.Errno)
		}
		out.Errno = e
	}
	if f.Delay != "" {
		d, err := time.ParseDuration(f.Delay)
		if err != nil {
			return fusefs.Fault{}, err
		}
		out.Delay = d
	}
	return out, nil
}
