package emulate

import (
	"cmp"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// Fixture is a mounted spec: <Root>/sys is the fake sysfs, <Root>/dev the
// device nodes, every other declared path lies below Root. Its methods are
// safe for concurrent use; Close is idempotent. Methods taking a path
// accept it relative to the root or absolute below it (as pmem2.Error.Path
// names a file) and follow the fixture's symlinks among its parents.
type Fixture struct {
	root string
	spec *Spec
	srv  *fusefs.Server
	// hosted is the device number of the pmem device that hosts the
	// fixture's files (PmemDevice.HostsFiles), zero when none does.
	hosted DevNum

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// ErrClosed is matched (errors.Is) by every change and Command asked of a
// fixture after Close. It is fusefs.ErrClosed.
var ErrClosed = fusefs.ErrClosed

// Option adjusts how Mount mounts a fixture. Like pmem2.Option it is a
// plain value made by a With function. Each sets only its own part, so
// options combine in any order; of two of one kind the later wins.
type Option struct {
	fusefs     *fusefs.Options
	deviceMode bool
	kernelOpen bool
	busy       func(root string)
}

// WithDeviceMode mounts without nodev so device nodes open the devices
// they name. fusefs allows it only for root and only when every device
// node is a harmless memory device (1:3, 1:5, 1:7, 1:8, 1:9): declare the
// Device DAX with major 1, minor 5 to have it backed by /dev/zero.
func WithDeviceMode() Option { return Option{deviceMode: true} }

// WithFusefsOptions mounts with o (caching timeouts, AllowOther, Force,
// Debug …) instead of fusefs's defaults. The spec's faults are added to
// o.Faults; WithDeviceMode and WithBusyReport apply on top of o.
func WithFusefsOptions(o fusefs.Options) Option { return Option{fusefs: &o} }

// WithKernelOpen mounts for programs that open, read and list hundreds of
// sysfs files per call (libndctl, daxctl, ndctl, the C libpmem2): the
// kernel opens and caches files itself and the caches are filled before
// Mount returns (fusefs's KernelOpen and Prefetch), so that warm calls
// cost about what they cost on tmpfs. Opens are then not counted, the
// kernel checks permissions (root opens every file), a getattr rule also
// fails opens, and rules on open or shortening reads cannot be added at
// runtime. A spec whose faults hold such a rule is mounted as without this
// option. pmem2emu exec and mount use it.
func WithKernelOpen() Option { return Option{kernelOpen: true} }

// WithBusyReport has Close call report with the mount point when it finds
// the mount busy (see fusefs.Options.OnBusy): emutest logs it.
func WithBusyReport(report func(root string)) Option { return Option{busy: report} }

func mountOptions(spec *Spec, opts []Option) fusefs.Options {
	var o fusefs.Options
	var deviceMode, kernelOpen bool
	var busy func(string)
	for _, opt := range opts {
		if opt.fusefs != nil {
			o = *opt.fusefs
			o.Faults = slices.Clone(o.Faults)
		}
		deviceMode = deviceMode || opt.deviceMode
		kernelOpen = kernelOpen || opt.kernelOpen
		if opt.busy != nil {
			busy = opt.busy
		}
	}
	o.DeviceMode = o.DeviceMode || deviceMode
	if kernelOpen && !spec.needsServerOpens() {
		o.KernelOpen, o.Prefetch = true, true
	}
	if busy != nil {
		o.OnBusy = busy
	}
	o.FsName = cmp.Or(o.FsName, "pmem2emu")
	return o
}

// Mount validates spec (nil means Default()), generates its tree and serves
// it on dir, an empty directory, until Close. Nothing is mounted when the
// spec is invalid (the error matches ErrInvalidSpec) or FUSE is
// unavailable (the error matches fusefs.ErrNoFuse). In a test use
// emutest.Start, which closes the fixture in Cleanup: a fixture left
// mounted on t.TempDir() fails the test's cleanup ("unlinkat …: operation
// not permitted").
func Mount(dir string, spec *Spec, opts ...Option) (*Fixture, error) {
	if spec == nil {
		spec = Default()
	}
	tree, err := spec.Tree()
	if err != nil {
		return nil, err
	}
	o := mountOptions(spec, opts)
	for _, f := range spec.Faults {
		ff := fusefs.Fault(f)
		if !isGlob(f.Path) {
			ff.Path, _ = faultTarget(f.Path, treeLookup(tree))
		}
		o.Faults = append(o.Faults, ff)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("emulate: mount %s: %w", dir, err)
	}
	srv, err := fusefs.Mount(abs, tree, &o)
	if err != nil {
		return nil, fmt.Errorf("emulate: mount %s: %w", abs, err)
	}
	hosted, err := spec.hostFiles(srv, abs)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Fixture{root: abs, spec: spec, srv: srv, hosted: hosted}, nil
}

// Root is the mount point.
func (f *Fixture) Root() string { return f.root }

// Sysfs is the fake sysfs root, Root()+"/sys": pass it to
// pmem2.WithSysfsRoot.
func (f *Fixture) Sysfs() string { return f.root + "/sys" }

// Dev is the directory of device nodes, Root()+"/dev".
func (f *Fixture) Dev() string { return f.root + "/dev" }

// Path is the absolute path of p, a path relative to the mount root
// ("dev/dax0.0", "data/file"); an absolute p is returned as it is.
func (f *Fixture) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(f.root, filepath.FromSlash(p))
}

// Spec is the spec the fixture serves (as mounted: later runtime changes
// are not written back). Do not modify it.
func (f *Fixture) Spec() *Spec { return f.spec }

// Server is the fusefs server, for what the fixture does not wrap (call
// counters, raw nodes).
func (f *Fixture) Server() *fusefs.Server { return f.srv }

// PmemOptions are the pmem2 options that read the fixture's sysfs:
// pmem2.SourceFromFD(fd, f.PmemOptions()...).
func (f *Fixture) PmemOptions() []pmem2.Option { return []pmem2.Option{pmem2.WithSysfsRoot(f.Sysfs())} }

// Calls is how many op calls on the node at p reached the server (see
// fusefs.Server.Calls); 0 for a path that names nothing.
func (f *Fixture) Calls(p string, op fusefs.Op) uint64 {
	rel, err := f.rel(p, false)
	if err != nil {
		return 0
	}
	return f.srv.Calls(rel, op)
}

// AddFault adds a fault rule at runtime, validated as in a spec.
func (f *Fixture) AddFault(rule Fault) error {
	ff, err := f.fault("fault", rule)
	if err != nil {
		return err
	}
	return f.srv.AddFault(ff)
}

// SetFaults replaces every fault rule; an invalid one changes nothing.
func (f *Fixture) SetFaults(rules []Fault) error {
	out := make([]fusefs.Fault, 0, len(rules))
	for i, r := range rules {
		ff, err := f.fault(fmt.Sprintf("faults[%d]", i), r)
		if err != nil {
			return err
		}
		out = append(out, ff)
	}
	return f.srv.SetFaults(out)
}

// ClearFaults removes every fault rule.
func (f *Fixture) ClearFaults() { f.srv.ClearFaults() }

// fault checks rule as a spec's rule at loc, against the tree served now.
func (f *Fixture) fault(loc string, rule Fault) (fusefs.Fault, error) {
	if err := f.changeErr("fault"); err != nil {
		return fusefs.Fault{}, err
	}
	var p problems
	checkFault(&p, loc, &rule)
	ff := fusefs.Fault(rule)
	if len(p.list) == 0 && !isGlob(rule.Path) {
		var err error
		if ff.Path, err = faultTarget(rule.Path, f.srv.Node); err != nil {
			p.add(loc+".path", "fault-path-missing", err.Error())
		}
	}
	return ff, p.err()
}

// WriteFile sets the content of the file at p, creating it (mode 0644,
// owned as a declared node without uid and gid) when nothing is there; a
// symlink at p is followed. Anything but a file
// at p is an error (SetNode replaces nodes).
func (f *Fixture) WriteFile(p string, data []byte) error {
	rel, err := f.change("writefile", p, true)
	if err != nil {
		return err
	}
	if _, ok := f.srv.Node(rel); ok {
		return f.srv.SetData(rel, data)
	}
	return f.srv.Set(rel, owned(rel, &fusefs.Node{Type: fusefs.TypeFile, Mode: modeRW, Data: slices.Clone(data)}))
}

// SetNode adds or replaces a node at runtime, declared and validated as
// in a spec.
func (f *Fixture) SetNode(n Node) error {
	var p problems
	(&Spec{Nodes: []Node{n}}).checkNodes(&p)
	if err := p.err(); err != nil {
		return err
	}
	rel, err := f.change("setnode", n.Path, false)
	if err != nil {
		return err
	}
	return f.srv.Set(rel, n.fusefsNode())
}

// SetTarget changes the target of the symlink at p.
func (f *Fixture) SetTarget(p, target string) error {
	rel, err := f.change("settarget", p, false)
	if err != nil {
		return err
	}
	return f.srv.SetTarget(rel, target)
}

// Remove removes the node at p (and, for a directory, everything below).
func (f *Fixture) Remove(p string) error {
	rel, err := f.change("remove", p, false)
	if err != nil {
		return err
	}
	return f.srv.Remove(rel)
}

// Command prepares name to run in a private mount namespace where the
// fixture's sys is /sys and its dev entries appear in /dev (see package
// nsrun): unmodified programs that hard-code /sys and /dev, like daxctl or
// a C program linked with libpmem2, see the emulated devices, and open and
// map a Device DAX numbered 1:5 (see the package documentation, "Running
// programs").
func (f *Fixture) Command(name string, args ...string) (*exec.Cmd, error) {
	if err := f.changeErr("command"); err != nil {
		return nil, err
	}
	return CommandAt(f.root, name, args...)
}

// Close unmounts the fixture and waits for its server; later calls return
// the first result.
func (f *Fixture) Close() error {
	f.closed.Store(true)
	f.closeOnce.Do(func() {
		if err := f.srv.Close(); err != nil {
			f.closeErr = &fs.PathError{Op: "unmount", Path: f.root, Err: err}
		}
	})
	return f.closeErr
}

func (f *Fixture) changeErr(op string) error {
	if f.closed.Load() {
		return &fs.PathError{Op: op, Path: f.root, Err: ErrClosed}
	}
	return nil
}

// change is rel for a change: an error after Close.
func (f *Fixture) change(op, p string, follow bool) (string, error) {
	if err := f.changeErr(op); err != nil {
		return "", err
	}
	rel, err := f.rel(p, follow)
	if err != nil {
		return "", &fs.PathError{Op: op, Path: p, Err: err}
	}
	return rel, nil
}

// rel is the path in the tree of the node p names: p is relative to the
// root or absolute below it; symlinks among its parents (and, with
// follow, at p) are followed inside the fixture.
func (f *Fixture) rel(p string, follow bool) (string, error) {
	var pr problems
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(f.root, p)
		if err != nil || r == ".." || strings.HasPrefix(r, "../") {
			pr.add("path", "path-absolute", quote(p)+": not below the fixture root "+f.root)
			return "", pr.err()
		}
		p = filepath.ToSlash(r)
	}
	if !checkPath(&pr, "path", p, false) {
		return "", pr.err()
	}
	return resolve(p, f.srv.Node, follow)
}

// needsServerOpens reports whether a fault of the spec must see opens or
// shorten reads, which fusefs's KernelOpen cannot serve.
func (s *Spec) needsServerOpens() bool {
	return slices.ContainsFunc(s.Faults, func(f Fault) bool { return f.Op == fusefs.OpOpen || f.Op == fusefs.OpRead && f.Short > 0 })
}
