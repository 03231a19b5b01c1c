package pmem2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// sysfsTree is a fake sysfs of real files, symbolic links and directories
// in a temporary directory, laid out as /work/shared/reference/sysfs-dax.md
// describes, with the device nodes beside it: <base>/sys is the root to
// give WithSysfsRoot, <base>/dev is where libdaxctl's /dev/<name> then
// is. Device nodes are symbolic links to the host's harmless memory
// devices (/dev/zero is 1:5), so building a tree needs no privilege and
// stat(2) through them sees the device numbers.
type sysfsTree struct {
	t    testing.TB
	base string
	root string // <base>/sys
}

func newSysfs(t testing.TB) *sysfsTree {
	t.Helper()
	base := t.TempDir()
	s := &sysfsTree{t: t, base: base, root: filepath.Join(base, "sys")}
	s.dir(".")
	s.devDir()
	return s
}

func (s *sysfsTree) path(rel string) string { return filepath.Join(s.root, rel) }

// devPath is <base>/dev/name.
func (s *sysfsTree) devPath(name string) string { return filepath.Join(s.base, "dev", name) }

func (s *sysfsTree) devDir() {
	s.t.Helper()
	if err := os.MkdirAll(s.devPath(""), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sysfsTree) dir(rel string) {
	s.t.Helper()
	if err := os.MkdirAll(s.path(rel), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// file writes an attribute, mode 0444 like most of sysfs.
func (s *sysfsTree) file(rel, content string) { s.t.Helper(); s.fileMode(rel, content, 0o444) }

func (s *sysfsTree) fileMode(rel, content string, mode os.FileMode) {
	s.t.Helper()
	s.dir(filepath.Dir(rel))
	s.remove(rel)
	if err := os.WriteFile(s.path(rel), []byte(content), mode); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Chmod(s.path(rel), mode); err != nil { // past the umask
		s.t.Fatal(err)
	}
}

func (s *sysfsTree) chmod(rel string, mode os.FileMode) {
	s.t.Helper()
	if err := os.Chmod(s.path(rel), mode); err != nil {
		s.t.Fatal(err)
	}
}

// link makes rel a symlink to target, replacing whatever rel was.
func (s *sysfsTree) link(rel, target string) {
	s.t.Helper()
	s.dir(filepath.Dir(rel))
	s.remove(rel)
	if err := os.Symlink(target, s.path(rel)); err != nil {
		s.t.Fatal(err)
	}
}

// linkTo makes rel a relative symlink to the tree path to, as sysfs links.
func (s *sysfsTree) linkTo(rel, to string) {
	s.t.Helper()
	target, err := filepath.Rel(filepath.Dir(s.path(rel)), s.path(to))
	if err != nil {
		s.t.Fatal(err)
	}
	s.link(rel, target)
}

func (s *sysfsTree) remove(rel string) {
	s.t.Helper()
	if err := os.RemoveAll(s.path(rel)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sysfsTree) fifo(rel string) {
	s.t.Helper()
	s.remove(rel)
	if err := unix.Mkfifo(s.path(rel), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// devNode makes <base>/dev/name stand for a device node: a symbolic link
// to target (a host node such as "/dev/zero", or any path), "" removes it.
func (s *sysfsTree) devNode(name, target string) {
	s.t.Helper()
	p := s.devPath(name)
	if err := os.RemoveAll(p); err != nil {
		s.t.Fatal(err)
	}
	if target != "" {
		if err := os.Symlink(target, p); err != nil {
			s.t.Fatal(err)
		}
	}
}

// hostNode is the host's harmless memory device with number rdev, which
// nsrun also puts in the private /dev of the C probe.
func hostNode(rdev string) string {
	node, ok := map[string]string{"1:3": "/dev/null", "1:5": "/dev/zero", "1:7": "/dev/full", "1:8": "/dev/random", "1:9": "/dev/urandom"}[rdev]
	if !ok {
		panic("no host node for " + rdev)
	}
	return node
}

// The layout of the default Device DAX, dax0.0 (1:5): bus ndbus0, region0,
// namespace0.0 claimed by the nd_dax dax0.1, which holds dax0.0.
const (
	ndBusDir     = "devices/platform/e820_pmem/ndbus0"
	region0      = ndBusDir + "/region0"
	ns0          = region0 + "/namespace0.0"
	ndDax0       = region0 + "/dax0.1"
	busDevDir    = ndDax0 + "/dax0.0"
	classDevDir  = ndDax0 + "/dax/dax0.0"
	daxRegionDir = ndDax0 + "/dax_region"
	memDevDir    = "devices/virtual/mem/zero"
	testDAXSize  = 2 << 20
)

// ndBus adds the NVDIMM bus ndbus<id> as the e820 driver makes it, with
// its control device ndctl<id> (250:<id>), /sys/class/nd/ndctl<id> and
// the attributes libndctl's add_bus reads. It returns the bus directory.
func (s *sysfsTree) ndBus(id int) string {
	s.t.Helper()
	bus := fmt.Sprintf("devices/platform/e820_pmem/ndbus%d", id)
	ctl := fmt.Sprintf("%s/ndctl%d", bus, id)
	s.file(bus+"/provider", "e820\n")
	s.file(bus+"/commands", "\n")
	s.file(bus+"/wait_probe", "1\n")
	s.file(ctl+"/dev", fmt.Sprintf("250:%d\n", id))
	s.linkTo(ctl+"/device", bus)
	s.linkTo(fmt.Sprintf("class/nd/ndctl%d", id), ctl)
	s.linkTo(fmt.Sprintf("dev/char/250:%d", id), ctl)
	return bus
}

// ndRegion adds region<id> below bus with what add_region reads. It
// returns the region directory.
func (s *sysfsTree) ndRegion(bus string, id int) string {
	s.t.Helper()
	r := fmt.Sprintf("%s/region%d", bus, id)
	for name, v := range map[string]string{
		"size": "1073741824\n", "mappings": "0\n", "read_only": "0\n", "modalias": "nd:t2\n",
		"nstype": "4\n", "numa_node": "0\n", "align": "16777216\n", "persistence_domain": "memory_controller\n",
		"devtype": "nd_pmem\n",
	} {
		s.file(r+"/"+name, v)
	}
	s.fileMode(r+"/resource", "0x240000000\n", 0o400)
	return r
}

// daxDev is one Device DAX of an NVDIMM region: namespace ns claimed by
// the nd_dax ndDax, which holds the device name (in its dax/ directory for
// the class model) with device number rdev and /dev/<name>.
type daxDev struct {
	region string // the region directory
	ns     string // "namespace0.0"
	ndDax  string // "dax0.1"
	name   string // "dax0.0"
	rdev   string // "1:5"
	class  bool
	// size and align are the nd_dax's, what libpmem2 returns, and also the
	// device's own size and align and its dax_region's (as the kernel keeps
	// them) unless a test changes those.
	size, align uint64
}

// ndDAX adds d and returns the device's directory.
func (s *sysfsTree) ndDAX(d daxDev) string {
	s.t.Helper()
	ns, nd := d.region+"/"+d.ns, d.region+"/"+d.ndDax
	for name, v := range map[string]string{
		"nstype": "4\n", "size": fmt.Sprintf("%d\n", d.size), "mode": "dax\n", "holder": d.ndDax + "\n",
		"holder_class": "dax\n", "force_raw": "0\n", "modalias": "nd:t4\n", "devtype": "nd_namespace_io\n",
		"numa_node": "0\n",
	} {
		s.file(ns+"/"+name, v)
	}
	s.fileMode(ns+"/resource", "0x240000000\n", 0o400)
	for name, v := range map[string]string{
		"modalias": "nd:t7\n", "devtype": "nd_dax\n", "mode": "pmem\n", "namespace": d.ns + "\n",
		"uuid": "706d656d-0000-4000-8000-000000000000\n", "align": fmt.Sprintf("%d\n", d.align),
		"size": fmt.Sprintf("%d\n", d.size), "supported_alignments": "4096 2097152 1073741824 \n",
		"numa_node": "0\n",
	} {
		s.file(nd+"/"+name, v)
	}
	s.fileMode(nd+"/resource", "0x240000000\n", 0o400)
	s.file(nd+"/dax_region/id", "0\n")
	s.file(nd+"/dax_region/size", fmt.Sprintf("%d\n", d.size))
	s.fileMode(nd+"/dax_region/align", fmt.Sprintf("%d\n", d.align), 0o400)
	return s.daxDevice(nd, d.name, d.rdev, d.class, d.size, d.align)
}

// daxDevice adds the dax device name (device number rdev) to the nd_dax
// nd, in nd/dax/ for the class model, with /dev/<name>. It returns the
// device's directory.
func (s *sysfsTree) daxDevice(nd, name, rdev string, class bool, size, align uint64) string {
	s.t.Helper()
	dev := nd + "/" + name
	subsystem := "bus/dax"
	if class {
		dev = nd + "/dax/" + name
		subsystem = "class/dax"
		s.linkTo(dev+"/device", nd)
		s.linkTo("class/dax/"+name, dev)
	} else {
		s.linkTo("bus/dax/devices/"+name, dev)
		s.linkTo(dev+"/driver", "bus/dax/drivers/device_dax")
	}
	s.dir("bus/dax/drivers/device_dax")
	s.dir("class/dax")
	s.linkTo(dev+"/subsystem", subsystem)
	s.file(dev+"/dev", rdev+"\n")
	s.file(dev+"/size", fmt.Sprintf("%d\n", size))
	s.file(dev+"/align", fmt.Sprintf("%d\n", align))
	s.file(dev+"/modalias", "dax:t0\n")
	s.file(dev+"/numa_node", "0\n")
	s.fileMode(dev+"/resource", "0x240000000\n", 0o400)
	s.fileMode(dev+"/mapping0/start", "0x240000000\n", 0o400)
	s.linkTo("dev/char/"+rdev, dev)
	s.devNode(name, hostNode(rdev))
	return dev
}

// busDAX lays out a healthy Device DAX dax0.0 with device number rdev
// ("1:5") on the modern dax bus: 2 MiB in size and 2 MiB aligned, in
// namespace0.0 of region0 of ndbus0, claimed by the nd_dax dax0.1.
func (s *sysfsTree) busDAX(rdev string) {
	s.t.Helper()
	s.defaultDAX(rdev, false)
}

// classDAX is busDAX in the old class model (dax_pmem_compat).
func (s *sysfsTree) classDAX(rdev string) {
	s.t.Helper()
	s.defaultDAX(rdev, true)
}

func (s *sysfsTree) defaultDAX(rdev string, class bool) {
	s.t.Helper()
	s.ndRegion(s.ndBus(0), 0)
	s.ndDAX(daxDev{region: region0, ns: "namespace0.0", ndDax: "dax0.1", name: "dax0.0", rdev: rdev, class: class,
		size: testDAXSize, align: testDAXSize})
}

// mem lays out a memory character device such as /dev/zero.
func (s *sysfsTree) mem(rdev string) {
	s.t.Helper()
	s.file(memDevDir+"/dev", rdev+"\n")
	s.link(memDevDir+"/subsystem", "../../../../class/mem")
	s.dir("class/mem")
	s.link("dev/char/"+rdev, "../../"+memDevDir)
}

// tempFile is a regular file holding content.
func tempFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// wantCode fails the test unless err carries exactly code (0: no error).
func wantCode(t testing.TB, err error, code Code) {
	t.Helper()
	if got := CodeOf(err); got != int(code) {
		t.Fatalf("got code %d (%s), error %v; want %d (%s)", got, Code(got).Name(), err, int(code), code.Name())
	}
	if code == 0 {
		return
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *pmem2.Error", err, err)
	}
	if !errors.Is(err, code) {
		t.Fatalf("errors.Is(%v, %s) is false", err, code.Name())
	}
	if code < 0 && code > -4096 && !errors.Is(err, syscall.Errno(-code)) {
		t.Fatalf("errors.Is(%v, %v) is false", err, syscall.Errno(-code))
	}
	if pe.Func == "" || !strings.Contains(err.Error(), pe.Func) {
		t.Fatalf("error %q does not name the libpmem2 function", err)
	}
}

func errnoCode(e syscall.Errno) Code { return Code(-int(e)) }

// onOwnThread runs f on an OS thread of its own after prepare changed that
// thread's credentials. Credentials belong to the thread at the kernel's
// level: the rest of the test binary keeps its own, and the thread dies
// with the goroutine (it is never unlocked).
func onOwnThread(t testing.TB, prepare func() error, f func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := prepare(); err != nil {
			done <- err
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("changing the thread's credentials: %v", err)
	}
}

// withoutDACOverride runs f on a thread that lacks CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH, so that file permissions apply even to root.
func withoutDACOverride(t testing.TB, f func()) {
	t.Helper()
	onOwnThread(t, func() error {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return err
		}
		data[0].Effective &^= uint32(1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH)
		return unix.Capset(&hdr, &data[0])
	}, f)
}

// nobody is the unprivileged user the tests run as.
const nobody = 65534

// asUser runs f on a thread whose user, group and supplementary groups
// are uid alone, with no capabilities: a real unprivileged caller. The
// thread-local system calls bypass Go's all-threads setuid. Only root may
// change its uid: for anyone else the test is skipped, saying so.
func asUser(t testing.TB, uid int, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("running as uid %d needs root: the kernel lets only root change its uid (this test runs as uid %d)",
			uid, os.Geteuid())
	}
	onOwnThread(t, func() error {
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			return e
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
			return e
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
			return e
		}
		return nil
	}, f)
}

// asRootAndNobody runs check as root (root set) and, in the subtest "as
// uid 65534", on a thread of that user (see asUser).
func asRootAndNobody(t *testing.T, check func(t *testing.T, root bool)) {
	t.Helper()
	check(t, true)
	t.Run("as uid 65534", func(t *testing.T) { asUser(t, nobody, func() { check(t, false) }) })
}

// openTree is a tree made by build, whose directory every user can reach:
// the tests read it as uid 65534 too.
func openTree(t testing.TB, build func(*sysfsTree)) *sysfsTree {
	s := newSysfs(t)
	build(s)
	s.openToAll()
	return s
}

// openToAll makes the tree's directory reachable by any user (t.TempDir is
// 0700): the tests read it as uid 65534 too.
func (s *sysfsTree) openToAll() {
	s.t.Helper()
	for _, d := range []string{filepath.Dir(s.base), s.base} {
		if err := os.Chmod(d, 0o755); err != nil {
			s.t.Fatal(err)
		}
	}
}

// daxSource is /dev/zero (1:5) opened with flags as a Device DAX of the
// fake sysfs s.
func daxSource(t *testing.T, s *sysfsTree, flags int) *Source {
	t.Helper()
	src, err := SourceFromFD(testutil.OpenFD(t, "/dev/zero", flags), WithSysfsRoot(s.root))
	wantCode(t, err, 0)
	if src.Type() != FileTypeDevDAX {
		t.Fatalf("type %v", src.Type())
	}
	return src
}
