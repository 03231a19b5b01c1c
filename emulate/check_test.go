package emulate_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

func TestChecksCoverEveryDeviceAndEveryExpectationInOrder(t *testing.T) {
	s := emulate.Default()
	checks := s.Checks()
	var order []string
	seen := map[string]bool{}
	for _, c := range checks {
		if !seen[c.Source] {
			seen[c.Source] = true
			order = append(order, c.Source)
		}
	}
	want := len(s.DAXDevices) + len(s.PmemDevices)
	for _, n := range s.Nodes {
		if n.Expect != nil {
			want++
		}
	}
	if len(order) != want {
		t.Fatalf("%d sources checked, want %d: %v", len(order), want, order)
	}
	if order[0] != "dax_devices[0]" || !strings.HasPrefix(order[len(s.DAXDevices)], "pmem_devices[") {
		t.Errorf("order %v", order)
	}
	// Every default expectation lists all four modes.
	if len(checks) != 4*want {
		t.Errorf("%d checks, want 4 per source (%d)", len(checks), 4*want)
	}
	again := s.Checks()
	for i := range checks {
		if checks[i].Path != again[i].Path || checks[i].Mode != again[i].Mode {
			t.Fatalf("order differs between calls at %d", i)
		}
	}
}

func TestDevicesWithoutExpectationsGetDerivedChecks(t *testing.T) {
	s := &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{
			{Name: "dax0.0", Size: 1 << 30},
			{Name: "dax1.0", Minor: 1, Size: 1 << 30, SizeRaw: new("x")},
			{Name: "dax2.0", Minor: 2, Size: 1 << 30, DAXRegion: new(false)},
			{Name: "dax3.0", Minor: 3, Size: 1 << 30},
			{Name: "dax4.0", Minor: 4, Size: 1 << 30},
			{Name: "dax5.0", Minor: 5, Size: 1 << 30, NDBus: new(false)},
			{Name: "dax6.0", Minor: 6, Size: 1 << 30, AlignRaw: new("0x1000\n")},
		},
		PmemDevices: []emulate.PmemDevice{{Name: "pmem0", Size: 1 << 20}},
		Nodes: []emulate.Node{
			{Path: "sys/devices/platform/e820_pmem/ndbus0/region3/dax3.1/dax3.0/size", Type: fusefs.TypeFile, Content: "1\n"},
			{Path: "dev/dax4.0", Type: fusefs.TypeFIFO},
		},
	}
	got := map[string]string{}
	for _, c := range s.ChecksFor(emulate.CallerRoot) {
		if !c.Derived || c.Mode != emulate.ModePath {
			t.Errorf("%s: derived %v mode %s", c.Path, c.Derived, c.Mode)
		}
		got[c.Path] = c.Expect.String()
	}
	// The region's NUMA node, its one generated DIMM's id and count (the
	// regions take nmem0… in order), its bad blocks.
	ras := func(n int) string {
		return fmt.Sprintf(`numa_node 0, device_id "8089-a2-1837-706d%04x", usc 0, badblocks []`, n)
	}
	want := map[string]string{
		"dev/dax0.0": "from_fd 0, size 1073741824, alignment 2097152, " + ras(0),
		"dev/dax1.0": "from_fd 0, alignment 2097152, " + ras(1),
		// dax_region/ is PMDK 1.9's: today's C reads the nd_dax.
		"dev/dax2.0": "from_fd 0, size 1073741824, alignment 2097152, " + ras(2),
		// Where C crashes, pmem2's documented codes; no region holds it.
		"dev/dax5.0": "from_fd 0, size_rc PMEM2_E_DAX_REGION_NOT_FOUND, alignment_rc PMEM2_E_INVALID_ALIGNMENT_FORMAT, " +
			"numa_node_rc PMEM2_E_DAX_REGION_NOT_FOUND, device_id_rc PMEM2_E_NOSUPP, usc_rc PMEM2_E_NOSUPP, badblocks []",
		"dev/dax6.0": "from_fd 0, size 1073741824, " + ras(5),
		"dev/dax3.0": "open ok",
		"dev/pmem0":  "from_fd PMEM2_E_INVALID_FILE_TYPE",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: derived %q, want %q", p, got[p], w)
		}
	}
	// A user cannot place a device among its region's bad blocks.
	for _, c := range s.ChecksFor(emulate.CallerUser) {
		if c.Path == "dev/dax0.0" {
			assert.Equal(t, "from_fd 0, size 1073741824, alignment 2097152, "+strings.Replace(ras(0), "badblocks []", "badblocks_rc PMEM2_E_CANNOT_READ_BOUNDS", 1), c.Expect.String())
		}
	}
	if _, ok := got["dev/dax4.0"]; ok {
		t.Error("dev/dax4.0 is replaced by a node, yet a check was derived")
	}
	// And the derived checks hold.
	meets(t, emutest.Start(t, s), s.Checks())
}

func TestMismatchesNameEachDifference(t *testing.T) {
	ok := emulate.Outcome{FromFD: new(pmem2.Code(0)), Size: new(uint64(100)), Alignment: new(uint64(4096))}
	cases := []struct {
		name string
		o    emulate.Outcome
		r    emulate.Result
		want []string
	}{
		{"a matching result passes", ok, emulate.Result{Size: 100, Alignment: 4096}, nil},
		{"a wrong size is named", ok, emulate.Result{Size: 99, Alignment: 4096}, []string{"size: want 100, got 99"}},
		{"a failing size is named", ok, emulate.Result{SizeRC: -5, Alignment: 4096}, []string{"size: want 100, got -EIO"}},
		{"a wrong alignment is named", ok, emulate.Result{Size: 100, Alignment: 8192}, []string{"alignment: want 4096, got 8192"}},
		{"a failing source is named", ok, emulate.Result{FromFD: pmem2.ErrInvalidFileType}, []string{"from_fd: want 0, got PMEM2_E_INVALID_FILE_TYPE"}},
		{"an unexpected open failure is named", ok, emulate.Result{OpenErrno: syscall.EACCES}, []string{"open: want success, got EACCES"}},
		{"an open that should fail but succeeds is named", emulate.Outcome{OpenErrno: syscall.ENXIO}, emulate.Result{}, []string{"open: want ENXIO, got success"}},
		{"a wrong open errno is named", emulate.Outcome{OpenErrno: syscall.ENXIO}, emulate.Result{OpenErrno: syscall.EACCES}, []string{"open: want ENXIO, got EACCES"}},
		{"codes are compared", emulate.Outcome{SizeRC: new(pmem2.ErrInvalidSizeFormat)}, emulate.Result{SizeRC: -34}, []string{"size_rc: want PMEM2_E_INVALID_SIZE_FORMAT, got -ERANGE"}},
		{"an empty outcome only wants the open", emulate.Outcome{}, emulate.Result{FromFD: -5}, nil},
		{"a value wants a source even when from_fd is not given", emulate.Outcome{Size: new(uint64(100))}, emulate.Result{FromFD: pmem2.ErrInvalidFileType},
			[]string{"from_fd: want 0, got PMEM2_E_INVALID_FILE_TYPE"}},
		{"an expected code and its value are both compared", emulate.Outcome{AlignmentRC: new(pmem2.Code(0)), Alignment: new(uint64(4096))},
			emulate.Result{AlignmentRC: -5}, []string{"alignment_rc: want 0, got -EIO"}},
		{"a wrong NUMA node is named", emulate.Outcome{NUMANode: new(1)}, emulate.Result{NUMANode: 0}, []string{"numa_node: want 1, got 0"}},
		{"a wrong device id is named, quoted", emulate.Outcome{DeviceID: new("a")}, emulate.Result{DeviceID: ""}, []string{`device_id: want "a", got ""`}},
		{"a failing count is named", emulate.Outcome{USC: new(uint64(7))}, emulate.Result{USCRC: pmem2.ErrNoSupp}, []string{"usc: want 7, got PMEM2_E_NOSUPP"}},
		{"no bad blocks expected and none found passes", emulate.Outcome{BadBlocks: new(emulate.BadBlocks(nil))}, emulate.Result{}, nil},
		{"bad blocks are compared in order", emulate.Outcome{BadBlocks: &emulate.BadBlocks{{Offset: 0, Length: 512}, {Offset: 4096, Length: 512}}},
			emulate.Result{BadBlocks: emulate.BadBlocks{{Offset: 4096, Length: 512}, {Offset: 0, Length: 512}}},
			[]string{"badblocks: want [0+512 4096+512], got [4096+512 0+512]"}},
		{"a bad block code is compared", emulate.Outcome{BadBlocksRC: new(pmem2.ErrCannotReadBounds)}, emulate.Result{},
			[]string{"badblocks_rc: want PMEM2_E_CANNOT_READ_BOUNDS, got 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.o.Mismatches(c.r)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestOpenModesHaveTheirFlags(t *testing.T) {
	for m, acc := range map[emulate.OpenMode]int{emulate.ModeR: unix.O_RDONLY, emulate.ModeW: unix.O_WRONLY, emulate.ModeRW: unix.O_RDWR, emulate.ModePath: unix.O_PATH} {
		f, err := m.Flags()
		if err != nil || f != acc|unix.O_NONBLOCK|unix.O_CLOEXEC {
			t.Errorf("%s: %#x, %v", m, f, err)
		}
	}
	if _, err := emulate.OpenMode("x").Flags(); err == nil {
		t.Error("unknown mode accepted")
	}
}

// lineFor is Result.LineFor as a fmt.Stringer.
type lineFor struct {
	r emulate.Result
	o emulate.Outcome
}

func (l lineFor) String() string { return l.r.LineFor(&l.o).String() }

func TestLinesReadAsTheCheckTable(t *testing.T) {
	tests := []struct {
		name string
		line fmt.Stringer
		want string
	}{
		{"an expected failing open is its errno", &emulate.Outcome{OpenErrno: syscall.EACCES}, "open EACCES"},
		{"an observed failing open is its errno", emulate.Result{OpenErrno: syscall.ENXIO}, "open ENXIO"},
		{"an outcome with nothing but the open", &emulate.Outcome{}, "open ok"},
		{"an expected source lists its values",
			&emulate.Outcome{FromFD: new(pmem2.Code(0)), Size: new(uint64(1 << 30)), Alignment: new(uint64(2 << 20))},
			"from_fd 0, size 1073741824, alignment 2097152"},
		{"an observed source lists its values", emulate.Result{Size: 1 << 30, Alignment: 2 << 20, NUMANode: 1, DeviceID: "8089-a2-1837-00000abc", USC: 7},
			`from_fd 0, size 1073741824, alignment 2097152, numa_node 1, device_id "8089-a2-1837-00000abc", usc 7, badblocks []`},
		{"an expected failing call shows its code",
			&emulate.Outcome{FromFD: new(pmem2.Code(0)), SizeRC: new(pmem2.Code(-34)), Alignment: new(uint64(2 << 20))},
			"from_fd 0, size_rc -ERANGE, alignment 2097152"},
		{"an observed failing call shows its code, not its value", emulate.Result{Size: 7, SizeRC: -34, Alignment: 2 << 20, USC: 3, USCRC: pmem2.ErrNoSupp,
			BadBlocks: emulate.BadBlocks{{Offset: 0, Length: 512}}, BadBlocksRC: pmem2.ErrCannotReadBounds},
			`from_fd 0, size_rc -ERANGE, alignment 2097152, numa_node 0, device_id "", usc_rc PMEM2_E_NOSUPP, badblocks_rc PMEM2_E_CANNOT_READ_BOUNDS`},
		{"an expected device id is quoted and bad blocks are offset+length",
			&emulate.Outcome{DeviceID: new(""), BadBlocks: &emulate.BadBlocks{{Offset: 4096, Length: 4096}, {Offset: 524288, Length: 512}}},
			`device_id "", badblocks [4096+4096 524288+512]`},
		{"an observed line for an outcome shows what it expects",
			lineFor{emulate.Result{Size: 1, Alignment: 2, NUMANode: 3}, emulate.Outcome{Size: new(uint64(1)), NUMANodeRC: new(pmem2.Code(0))}},
			"from_fd 0, size 1, numa_node 3"},
		{"an observed line for an outcome shows a failing from_fd alone",
			lineFor{emulate.Result{FromFD: -2}, emulate.Outcome{Size: new(uint64(1))}}, "from_fd -ENOENT"},
		{"a code of 0 beside its value goes without saying", &emulate.Outcome{Size: new(uint64(5)), SizeRC: new(pmem2.Code(0))}, "size 5"},
		{"a code of 0 alone is shown", &emulate.Outcome{AlignmentRC: new(pmem2.Code(0))}, "alignment_rc 0"},
		{"an observed failing from_fd hides the calls", emulate.Result{FromFD: pmem2.ErrInvalidFileType, SizeRC: -5},
			"from_fd PMEM2_E_INVALID_FILE_TYPE"},
		{"a line shows any value as written",
			emulate.Line{Fields: []emulate.Field{{Name: "from_fd", Value: pmem2.Code(0)}, {Name: "size", Value: "SIGSEGV"}, {Name: "alignment", Value: "-"}}},
			"from_fd 0, size SIGSEGV, alignment -"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.line.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// An expectation that depends on who checks gives each caller its own
// outcome, in every mode the variant lists, and the shared one elsewhere.
func TestChecksPickTheOutcomeOfTheCaller(t *testing.T) {
	s, err := emulate.Parse([]byte(`{"nodes": [{"path": "data/secret", "type": "file", "mode": "0600", "uid": 0,
		"expect": {"all": {"from_fd": 0}, "w": {"from_fd": "PMEM2_E_INVALID_FILE_HANDLE"},
		           "as_user": {"r": {"open_errno": "EACCES"}, "w": {"open_errno": "EACCES"}, "rw": {"open_errno": "EACCES"}},
		           "as_root": {"path": {"from_fd": 0, "size": 0}}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	render := func(c emulate.Caller) []string {
		var out []string
		for _, ck := range s.ChecksFor(c) {
			out = append(out, fmt.Sprintf("%s %s [%s]", ck.Mode, ck.Expect.String(), ck.Caller))
		}
		return out
	}
	assert.Equal(t, []string{
		"r from_fd 0 []",
		"w from_fd PMEM2_E_INVALID_FILE_HANDLE []",
		"rw from_fd 0 []",
		"path from_fd 0, size 0 [root]",
	}, render(emulate.CallerRoot), "as root")
	assert.Equal(t, []string{
		"r open EACCES [user]",
		"w open EACCES [user]",
		"rw open EACCES [user]",
		"path from_fd 0 []",
	}, render(emulate.CallerUser), "as a user")
	assert.Equal(t, s.ChecksFor(emulate.CurrentCaller()), s.Checks(), "Checks is for the calling process")
	text, err := s.MarshalJSON()
	require.NoError(t, err)
	back, err := emulate.Parse(text)
	require.NoError(t, err)
	assert.Equal(t, s, back, "as_root and as_user survive JSON")
}
