package emulate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/internal/cref"
)

// The bar for realism is the real tools: run under the namespace runner
// (the fixture's sys over /sys, its nodes in a private /dev), Debian's
// daxctl and ndctl list every emulated device with its declared size,
// alignment and NUMA node, and the C libpmem2 returns the declared size
// and alignment. A missing tool fails the test with the command that
// installs it.

// need finds a program or fails with the install hint.
func need(t *testing.T, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Fatalf("%s is not installed (%v): apt-get install -y %s", prog, err, pkg)
	}
	return p
}

// runIn runs a command under the fixture's namespace runner and returns its
// standard output.
func runIn(t *testing.T, f *emutest.Fixture, name string, args ...string) []byte {
	t.Helper()
	cmd, err := f.Command(name, args...)
	if err != nil {
		t.Fatalf("namespace runner: %v", err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// jsonList decodes the JSON the tools print: an array, or a lone object
// when there is one entry.
func jsonList(t *testing.T, what string, out []byte) []map[string]any {
	t.Helper()
	out = bytes.TrimSpace(out)
	if len(out) > 0 && out[0] == '{' {
		out = append(append([]byte{'['}, out...), ']')
	}
	var list []map[string]any
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("%s printed no JSON list: %v\n%s", what, err, out)
	}
	return list
}

// byKey indexes the objects of list by their string member key.
func byKey(list []map[string]any, key string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range list {
		if k, ok := m[key].(string); ok {
			out[k] = m
		}
	}
	return out
}

func num(v any) int64 {
	f, ok := v.(float64)
	if !ok {
		return -1 << 62
	}
	return int64(f)
}

func TestDaxctlListsEveryDeviceAsDeclared(t *testing.T) {
	daxctl := need(t, "daxctl", "daxctl")
	f := emutest.Start(t, healthy())
	list := jsonList(t, "daxctl list", runIn(t, f, daxctl, "list"))
	byName := byKey(list, "chardev")
	for _, d := range f.Spec().DAXDevices {
		got, ok := byName[d.Name]
		if !ok {
			t.Errorf("daxctl list does not show %s: %v", d.Name, list)
			continue
		}
		if num(got["size"]) != int64(d.Size) || num(got["align"]) != int64(d.Align) || num(got["target_node"]) != int64(d.NUMANode) {
			t.Errorf("daxctl shows %s as %v; declared size %d align %d numa_node %d", d.Name, got, d.Size, d.Align, d.NUMANode)
		}
		if got["mode"] != "devdax" {
			t.Errorf("%s: mode %v, want devdax", d.Name, got["mode"])
		}
	}
	if len(list) != len(f.Spec().DAXDevices) {
		t.Errorf("daxctl lists %d devices, %d declared", len(list), len(f.Spec().DAXDevices))
	}
	// The regions as daxctl sees them: size and alignment of each.
	regions := jsonList(t, "daxctl list -R", runIn(t, f, daxctl, "list", "-R"))
	if len(regions) != len(f.Spec().DAXDevices) {
		t.Errorf("daxctl list -R shows %d dax regions, want one per device: %v", len(regions), regions)
	}
}

func TestNdctlListsEveryNamespaceAsDeclared(t *testing.T) {
	ndctl := need(t, "ndctl", "ndctl")
	f := emutest.Start(t, healthy())
	list := jsonList(t, "ndctl list -N -v", runIn(t, f, ndctl, "list", "-N", "-v"))
	byDev := map[string]map[string]any{}
	for _, ns := range list {
		if c, ok := ns["chardev"].(string); ok {
			byDev[c] = ns
		}
		if dr, ok := ns["daxregion"].(map[string]any); ok {
			for _, d := range dr["devices"].([]any) {
				byDev[d.(map[string]any)["chardev"].(string)] = ns
			}
		}
		if b, ok := ns["blockdev"].(string); ok {
			byDev[b] = ns
		}
	}
	for _, d := range f.Spec().DAXDevices {
		ns, ok := byDev[d.Name]
		if !ok {
			t.Errorf("ndctl list -N does not show %s: %v", d.Name, list)
			continue
		}
		if ns["mode"] != "devdax" || num(ns["size"]) != int64(d.Size) || num(ns["align"]) != int64(d.Align) || num(ns["numa_node"]) != int64(d.NUMANode) {
			t.Errorf("ndctl shows %s as %v; declared size %d align %d numa_node %d", d.Name, ns, d.Size, d.Align, d.NUMANode)
		}
	}
	for _, p := range f.Spec().PmemDevices {
		ns, ok := byDev[p.Name]
		if !ok {
			t.Errorf("ndctl list -N does not show %s: %v", p.Name, list)
			continue
		}
		if ns["mode"] != "fsdax" || num(ns["size"]) != int64(p.Size) || num(ns["numa_node"]) != int64(p.NUMANode) {
			t.Errorf("ndctl shows %s as %v; declared size %d numa_node %d", p.Name, ns, p.Size, p.NUMANode)
		}
	}
	want := len(f.Spec().DAXDevices) + len(f.Spec().PmemDevices)
	if len(list) != want {
		t.Errorf("ndctl lists %d namespaces, want %d", len(list), want)
	}
	// Plain ndctl list -N (what users type) shows the same namespaces.
	if plain := jsonList(t, "ndctl list -N", runIn(t, f, ndctl, "list", "-N")); len(plain) != want {
		t.Errorf("ndctl list -N shows %d namespaces, want %d", len(plain), want)
	}
}

// The default fixture's sound devices are listed too, those whose nd_dax
// holds junk and those whose PMDK 1.9 or root-only files do among them;
// the broken ones may be skipped by the tools (dax5.0's and dax6.1's size
// cannot be read, no namespace holds dax9.0's nd_dax), but the tools do
// not fail.
func TestTheToolsListTheDefaultFixturesSoundDevices(t *testing.T) {
	daxctl := need(t, "daxctl", "daxctl")
	ndctl := need(t, "ndctl", "ndctl")
	f := emutest.Start(t, nil)
	shown := map[string]bool{}
	for _, d := range jsonList(t, "daxctl list", runIn(t, f, daxctl, "list")) {
		shown[d["chardev"].(string)] = true
	}
	nsShown := map[string]bool{}
	for _, ns := range jsonList(t, "ndctl list -N", runIn(t, f, ndctl, "list", "-N")) {
		if c, ok := ns["chardev"].(string); ok {
			nsShown[c] = true
		}
	}
	for _, name := range []string{"dax0.0", "dax0.1", "dax1.0", "dax2.0", "dax2.3", "dax2.5", "dax2.8", "dax3.0", "dax4.0", "dax7.0", "dax8.0", "dax9.0"} {
		if !shown[name] {
			t.Errorf("daxctl list does not show %s", name)
		}
	}
	for _, name := range []string{"dax0.0", "dax0.1", "dax1.0", "dax2.0", "dax2.3", "dax2.5", "dax2.8", "dax3.0", "dax7.0", "dax8.0"} {
		if !nsShown[name] {
			t.Errorf("ndctl list -N does not show %s", name)
		}
	}
}

func TestTheCLibraryReadsTheDeclaredSizeAndAlignment(t *testing.T) {
	f := emutest.Start(t, healthy())
	probe := cref.Build(t)
	for _, d := range f.Spec().DAXDevices {
		r, err := cref.Run(f, probe, "/dev/"+d.Name, "path", cref.StepSize, cref.StepAlignment)
		if err != nil {
			t.Fatalf("probe: %v (result so far %+v)", err, r)
		}
		if r.Signal != 0 || r.FromFD.RC != 0 || r.Size.RC != 0 || r.Alignment.RC != 0 || r.Size.Value != d.Size || r.Alignment.Value != d.Align {
			t.Errorf("C libpmem2 on %s: %s; declared size %d align %d", d.Name, r, d.Size, d.Align)
		}
	}
}

// Without the NVDIMM bus the C library crashes in libndctl (that is what
// "nd_bus": false reproduces); the same device with the bus is fine.
func TestWithoutTheNVDIMMBusTheCLibraryCrashes(t *testing.T) {
	f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{
		{Name: "dax0.0", Size: 1 << 30},
		{Name: "dax1.0", Minor: 1, Size: 1 << 30, NDBus: new(false)},
	}})
	probe := cref.Build(t)
	if r, err := cref.Run(f, probe, "/dev/dax0.0", "path", cref.StepSize, cref.StepAlignment); err != nil || r.Signal != 0 || r.Size.Value != 1<<30 {
		t.Fatalf("with the bus: %s, %v", r, err)
	}
	r, err := cref.Run(f, probe, "/dev/dax1.0", "path", cref.StepSize, cref.StepAlignment)
	if err != nil {
		t.Fatalf("without the bus: %v", err)
	}
	if r.Signal == 0 {
		t.Fatalf("without the bus the probe did not crash: %s", r)
	}
	if r.Signal != syscall.SIGSEGV {
		t.Errorf("without the bus the probe ended with %v, want SIGSEGV", r.Signal)
	}
}

// A program run by the namespace runner sees the fake sysfs at /sys:
// cat reads a device's size through /sys/dev/char/M:m, and readlink -f
// resolves every subsystem to …/dax.
func TestARunnerCommandSeesTheFakeSysfs(t *testing.T) {
	f := emutest.Start(t, healthy())
	for _, d := range f.Spec().DAXDevices {
		devno := fmt.Sprintf("%d:%d", emulate.DefaultDAXMajor, d.Minor)
		if got := string(runIn(t, f, "cat", "/sys/dev/char/"+devno+"/size")); got != fmt.Sprintf("%d\n", d.Size) {
			t.Errorf("%s: cat /sys/dev/char/%s/size = %q, want %d", d.Name, devno, got, d.Size)
		}
		real := strings.TrimSpace(string(runIn(t, f, "readlink", "-f", "/sys/dev/char/"+devno+"/subsystem")))
		want := "/sys/bus/dax"
		if d.Subsystem == "class" {
			want = "/sys/class/dax"
		}
		if real != want {
			t.Errorf("%s: readlink -f subsystem = %q, want %q", d.Name, real, want)
		}
	}
	if got := string(runIn(t, f, "stat", "-c", "%F %t:%T", "/dev/dax0.1")); got != "character special file fc:1\n" {
		t.Errorf("stat /dev/dax0.1 in the runner: %q", got)
	}
}
