package fusefs

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fsType is the FUSE subtype: mounts show as "fuse.pmem2emu", which is how
// Stale and Unmount recognise ours.
const fsType = "pmem2emu"

// Close waits this long for the serving goroutines after unmounting before
// it aborts the connection, and as long again after aborting. A busy mount
// is only waited for busyGrace: what holds it (a forgotten descriptor, a
// working directory) rarely lets go by itself, and a call in progress
// still gets its answer or ENOTCONN.
const (
	closeGrace = 2 * time.Second
	busyGrace  = 250 * time.Millisecond
)

// Server serves one mounted Tree.
type Server struct {
	dir  string
	opts Options

	idx      *index
	counts   counters
	neg      negatives
	rules    atomic.Pointer[ruleSet]
	anyRules atomic.Bool
	faultMu  sync.Mutex // serializes rule changes

	rootNode     *dirNode
	symlinkCache bool
	freshIno     atomic.Uint64
	kernel       kernelFeatures // what the kernel offered at INIT (cache.go)
	refreshing   sync.Map       // requests that are attribute refreshes, by cancel channel (cache.go)

	fuse      *fuse.Server
	conn      uint64        // the connection's number under /sys/fs/fuse/connections
	live      atomic.Bool   // mounted and not closing: notifications go out
	closing   chan struct{} // closed when Close starts
	served    chan struct{} // closed when the serve loop has returned
	closeOnce sync.Once
	closeErr  error
	release   func() // of the sysmon keep-alive (see sysmon.go)
}

// Mount serves tree on dir until Close. It validates the tree, checks the
// mount point (see the package documentation for what is refused), cleans
// a stale mount of ours left on dir by a killed server, mounts, and returns
// once the mount answers. A nil opts means the defaults.
func Mount(dir string, tree Tree, opts *Options) (*Server, error) {
	o := opts.withDefaults()
	keys, err := tree.validate()
	if err != nil {
		return nil, err
	}
	root := os.Geteuid() == 0
	if o.DeviceMode {
		// The allow-list first: its error names the node whoever mounts.
		if err := tree.checkDevices("mount"); err != nil {
			return nil, err
		}
		if !root {
			return nil, &fs.PathError{Op: "mount", Path: dir,
				Err: fmt.Errorf("%w: device mode mounts without nodev, which fusermount3 never does for other users", ErrNeedsRoot)}
		}
	}
	s, err := newServer(o, tree, keys)
	if err != nil {
		return nil, err
	}
	if s.dir, err = prepareMountpoint(dir, o.Force); err != nil {
		return nil, err
	}
	if err := checkFuse(root); err != nil {
		return nil, err
	}
	if !root {
		if err := checkUserMount(s.dir, o.AllowOther); err != nil {
			return nil, err
		}
	}
	if err := s.mount(root); err != nil {
		return nil, err
	}
	return s, nil
}

// newServer builds the index of tree (keys sorted, parents first) with the
// rules of o in force.
func newServer(o Options, tree Tree, keys []string) (*Server, error) {
	s := &Server{opts: o, closing: make(chan struct{}), served: make(chan struct{}), symlinkCache: !o.NoCache}
	rules := make([]*rule, 0, len(o.Faults))
	for _, f := range o.Faults {
		r, err := s.ruleFor(f)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	s.opts.Faults = nil
	s.freshIno.Store(1 << 62)
	s.rules.Store(&ruleSet{rules: rules})
	s.anyRules.Store(len(rules) > 0)
	s.idx = newIndex(&s.counts, &s.rules)
	for _, k := range keys {
		if _, err := s.idx.set(k, tree[k]); err != nil {
			return nil, err
		}
	}
	s.idx.root.rules.Store(s.rules.Load().match("."))
	s.rootNode = &dirNode{nodeBase: nodeBase{srv: s, e: s.idx.root}}
	return s, nil
}

func (s *Server) fuseOptions(root bool) *gofs.Options {
	o := s.opts
	fo := &gofs.Options{
		MountOptions: fuse.MountOptions{
			Name:                 fsType,
			FsName:               o.FsName,
			AllowOther:           o.AllowOther,
			Debug:                o.Debug,
			EnableSymlinkCaching: !o.NoCache,
			// The kernel stops asking after one ENOSYS, which spares
			// ls and friends a round trip per file.
			DisableXAttrs: true,
			// Shared mappings of direct-I/O files (kernel ≥ 6.6), and
			// READDIR without OPENDIR (KernelOpen; see cache.go).
			ExtraCapabilities: fuse.CAP_DIRECT_IO_ALLOW_MMAP | fuse.CAP_NO_OPENDIR_SUPPORT,
			// Replies are small and come from memory: splicing saves
			// nothing, and go-fuse's process-wide pipe pool would keep
			// two descriptors per concurrent read after Close.
			DisableSplice: true,
		},
		// EntryTimeout and AttrTimeout stay nil: every reply sets its
		// own, so a node a rule watches can get zero (the bridge fills
		// in the options' timeouts wherever a reply has zero).
		NullPermissions: true,
		RootStableAttr:  &gofs.StableAttr{Ino: 1},
	}
	if o.KernelOpen {
		// Opens no longer reach the server's permission checks, so the
		// kernel checks the mode bits: a normal user who mounted the
		// tree must still meet EACCES on a root-only file, as on real
		// hardware.
		fo.MountOptions.Options = append(fo.MountOptions.Options, "default_permissions")
	}
	if o.NegativeTimeout > 0 {
		neg := o.NegativeTimeout
		fo.NegativeTimeout = &neg
	}
	if root {
		fo.DirectMountStrict = true
		fo.DirectMountFlags = syscall.MS_NOSUID | syscall.MS_NODEV
		if o.DeviceMode {
			fo.DirectMountFlags = syscall.MS_NOSUID
		}
	}
	return fo
}

// mount mounts on s.dir, starts serving and waits for the mount to answer.
func (s *Server) mount(root bool) error {
	fo := s.fuseOptions(root)
	raw := &rawFS{RawFileSystem: gofs.NewNodeFS(s.rootNode, fo), s: s}
	srv, err := newFuseServer(raw, s.dir, &fo.MountOptions, root)
	if err != nil {
		if !root {
			// go-fuse hands fusermount3 our standard error, where its
			// reason went.
			err = fmt.Errorf("%w (fusermount3's message, on standard error, says why)", err)
		}
		return &fs.PathError{Op: "mount", Path: s.dir, Err: err}
	}
	s.fuse = srv
	s.release = holdSysmonAwake()
	go func() {
		srv.Serve()
		close(s.served)
	}()
	if err := srv.WaitMount(); err != nil {
		return errors.Join(&fs.PathError{Op: "mount", Path: s.dir, Err: err}, s.Close())
	}
	if m, ok := findMount(s.dir); ok {
		s.conn = m.conn
	}
	reaperTrack(s.conn, s.dir)
	s.live.Store(true)
	if s.opts.Prefetch {
		s.prefetch()
	}
	return nil
}

// newFuseServer mounts. For a direct mount go-fuse opens /dev/fuse without
// O_CLOEXEC; a child started meanwhile would inherit the descriptor and keep
// the connection alive after this process dies, turning the clean ENOTCONN
// of a stale mount into a hang. Holding ForkLock keeps children out until
// the descriptor is marked close-on-exec.
func newFuseServer(raw fuse.RawFileSystem, mnt string, mo *fuse.MountOptions, root bool) (*fuse.Server, error) {
	if !root {
		return fuse.NewServer(raw, mnt, mo)
	}
	syscall.ForkLock.Lock()
	defer syscall.ForkLock.Unlock()
	srv, err := fuse.NewServer(raw, mnt, mo)
	if ents, rerr := os.ReadDir("/proc/self/fd"); rerr == nil {
		for _, d := range ents {
			if t, _ := os.Readlink("/proc/self/fd/" + d.Name()); t == "/dev/fuse" {
				var fd int
				if _, serr := fmt.Sscan(d.Name(), &fd); serr == nil {
					syscall.CloseOnExec(fd)
				}
			}
		}
	}
	return srv, err
}

// Dir is the mount point, absolute and with symlinks resolved.
func (s *Server) Dir() string { return s.dir }

// Close unmounts and waits for the serving goroutines. It is idempotent
// and never hangs: a busy mount (an open descriptor, a working directory)
// is reported to Options.OnBusy and detached lazily, and if the connection
// still lives after a quarter of a second (two seconds for a mount that
// was not busy) it is aborted, so remaining descriptors fail with
// ENOTCONN.
//
// Aborting takes root, or, for the user who mounted, the fuse control
// file system mounted on /sys/fs/fuse/connections (systemd mounts it;
// containers often do not). Where a user cannot abort, Close returns
// once the busy mount is detached: whoever holds it keeps being served
// until the last descriptor closes, then the kernel ends the connection
// and the serving goroutines stop by themselves.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Server) shutdown() error {
	s.live.Store(false)
	close(s.closing)
	if s.fuse == nil {
		return nil
	}
	var errs []error
	busy, err := unmount(s.dir)
	if err != nil {
		errs = append(errs, &fs.PathError{Op: "unmount", Path: s.dir, Err: err})
	}
	grace := closeGrace
	if busy {
		grace = busyGrace
		if s.opts.OnBusy != nil {
			s.opts.OnBusy(s.dir)
		}
	}
	if !waitClosed(s.served, grace) {
		err := abortConnection(s.conn)
		if busy && errors.Is(err, errCannotAbort) && len(errs) == 0 {
			// Detached, and served until its holders let go.
			go func() {
				<-s.served
				s.release()
				reaperForget(s.conn)
			}()
			return nil
		}
		if err != nil {
			errs = append(errs, &fs.PathError{Op: "abort", Path: s.dir, Err: err})
		}
		if !waitClosed(s.served, closeGrace) {
			errs = append(errs, &fs.PathError{Op: "close", Path: s.dir, Err: errors.New("serving goroutines did not stop")})
		}
	}
	s.release()
	if len(errs) == 0 {
		reaperForget(s.conn)
	}
	return errors.Join(errs...)
}

func waitClosed(c <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
		return true
	case <-t.C:
		return false
	}
}

func (s *Server) logf(format string, args ...any) {
	log.Printf("fusefs %s: %s", s.dir, fmt.Sprintf(format, args...))
}
