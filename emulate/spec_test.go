package emulate_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issueExample is the spec of the issue that defines the format.
const issueExample = `{
  "dax_subsystem": "bus",
  "dax_devices": [
    {"name": "dax0.0", "major": 251, "minor": 0, "size": 1073741824, "align": 2097152, "numa_node": 0,
     "size_raw": "1073741824\n", "align_raw": "2097152\n",
     "nd_bus": true}
  ],
  "pmem_devices": [{"name": "pmem0", "major": 259, "minor": 0, "size": 1073741824}],
  "nodes": [
    {"path": "data/file", "type": "file", "mode": "0644", "content": "hello"},
    {"path": "data/big", "type": "file", "size": 1099511627776},
    {"path": "data/dir", "type": "dir"},
    {"path": "data/fifo", "type": "fifo"},
    {"path": "data/sock", "type": "socket"},
    {"path": "dev/mem5", "type": "char", "major": 1, "minor": 5, "subsystem": "mem"},
    {"path": "dev/sda", "type": "block", "major": 8, "minor": 0},
    {"path": "sys/dev/char/1:5", "type": "symlink", "target": "../../devices/virtual/mem/zero"}
  ],
  "faults": [{"path": "data/file", "op": "getattr", "errno": "EIO", "after": 0, "times": 0}]
}`

func TestTheIssueExampleDecodes(t *testing.T) {
	s, err := emulate.Parse([]byte(issueExample))
	require.NoError(t, err)
	assert.Equal(t, emulate.DAXDevice{Name: "dax0.0", Major: 251, Size: 1 << 30, Align: 2 << 20,
		SizeRaw: new("1073741824\n"), AlignRaw: new("2097152\n"), NDBus: new(true)}, s.DAXDevices[0])
	assert.Equal(t, emulate.Node{Path: "data/file", Type: fusefs.TypeFile, Mode: 0o644, Content: "hello"}, s.Nodes[0])
	assert.Equal(t, emulate.Node{Path: "data/big", Type: fusefs.TypeFile, Size: 1 << 40}, s.Nodes[1])
	assert.Equal(t, emulate.Node{Path: "dev/mem5", Type: fusefs.TypeCharDev, Major: 1, Minor: 5, Subsystem: "mem"}, s.Nodes[5])
	assert.Equal(t, emulate.Fault{Path: "data/file", Op: fusefs.OpGetattr, Errno: syscall.EIO}, s.Faults[0])
}

// The Go types of named fields read and write the JSON strings: every
// spelling a spec may use decodes to the Go value, which encodes back to
// its canonical spelling.
func TestNamedFieldsAreGoTypesWrittenAsJSONStrings(t *testing.T) {
	mode := func(s *emulate.Spec) any { return s.Nodes[0].Mode }
	fault := func(s *emulate.Spec) any { return s.Faults[0] }
	cases := []struct {
		name, node, fault string
		get               func(*emulate.Spec) any
		want              any
		canonical         string
	}{
		{"a mode is read in octal", `"mode": "644"`, "", mode, fs.FileMode(0o644), `"mode":"0644"`},
		{"a mode is read with 0o", `"mode": "0o755"`, "", mode, fs.FileMode(0o755), `"mode":"0755"`},
		{"setuid, setgid and sticky are fs.FileMode flags", `"mode": "7644"`, "", mode,
			fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o644, `"mode":"07644"`},
		{"mode 0 is NoPerm", `"mode": "0"`, "", mode, emulate.NoPerm, `"mode":"0000"`},
		{"op, errno and delay are fusefs.Op, syscall.Errno and time.Duration", "", `"op": "read", "errno": "ENOTCONN", "delay": "1m30s"`, fault,
			emulate.Fault{Path: "f", Op: fusefs.OpRead, Errno: syscall.ENOTCONN, Delay: 90 * time.Second}, `"op":"read","errno":"ENOTCONN","delay":"1m30s"`},
		{"truncate is setattr", "", `"op": "truncate", "errno": "EIO"`, fault,
			emulate.Fault{Path: "f", Op: fusefs.OpSetattr, Errno: syscall.EIO}, `"op":"setattr"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := fmt.Sprintf(`{"nodes": [{"path": "f", "type": "file", %s}], "faults": [{"path": "f", %s}]}`,
				cmp.Or(c.node, `"mode": "0644"`), cmp.Or(c.fault, `"op": "read", "errno": "EIO"`))
			s, err := emulate.Parse([]byte(doc))
			require.NoError(t, err, doc)
			assert.Equal(t, c.want, c.get(s))
			text, err := s.MarshalJSON()
			require.NoError(t, err)
			assert.Contains(t, string(text), c.canonical)
		})
	}
}

func TestTheDefaultSpecSurvivesAJSONRoundTrip(t *testing.T) {
	def := emulate.Default()
	if err := def.Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
	text, err := def.Indent()
	if err != nil {
		t.Fatal(err)
	}
	back, err := emulate.Decode(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("decoding the default spec: %v\n%s", err, text)
	}
	if !reflect.DeepEqual(def, back) {
		t.Fatalf("round trip changed the spec:\nbefore %+v\nafter  %+v", def, back)
	}
	again, err := back.Indent()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(text, again) {
		t.Errorf("encoding is not stable:\n%s\n---\n%s", text, again)
	}
	// Codes are written by name, as a reader expects them.
	for _, name := range []string{`"PMEM2_E_INVALID_FILE_TYPE"`, `"-ENOENT"`, `"from_fd": 0`, `"open_errno": "EACCES"`} {
		if !bytes.Contains(text, []byte(name)) {
			t.Errorf("the JSON lacks %s", name)
		}
	}
}

func TestJSONUnmarshalIsStrictToo(t *testing.T) {
	var s emulate.Spec
	err := json.Unmarshal([]byte(`{"dax_devices": [{"name": "dax0.0", "sise": 1}]}`), &s)
	if !errors.Is(err, emulate.ErrInvalidSpec) || !strings.Contains(err.Error(), "dax_devices[0].sise") {
		t.Fatalf("json.Unmarshal: got %v", err)
	}
}

func TestCodesAreReadAsNumbersOrNames(t *testing.T) {
	s, err := emulate.Parse([]byte(`{"nodes": [{"path": "f", "type": "file", "expect": {
		"r": {"from_fd": -100005}, "w": {"from_fd": "PMEM2_E_INVALID_FILE_HANDLE"},
		"rw": {"from_fd": "0", "size_rc": "-EIO", "alignment": 4096}, "path": {"from_fd": -2}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := s.Nodes[0].Expect
	for _, c := range []struct {
		got  *pmem2.Code
		want pmem2.Code
	}{{e.R.FromFD, pmem2.ErrInvalidFileType}, {e.W.FromFD, pmem2.ErrInvalidFileHandle}, {e.RW.FromFD, 0}, {e.RW.SizeRC, -5}, {e.Path.FromFD, -2}} {
		if c.got == nil || *c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
}

// Every rule of the spec, broken once: the error names the JSON location
// and the rule, and matches ErrInvalidSpec.
func TestEveryInvalidSpecIsRejectedNamingLocationAndRule(t *testing.T) {
	long := strings.Repeat("x", 256)
	cases := []struct {
		name, json, loc, rule string
	}{
		{"broken JSON is a syntax error at its location", `{"nodes": [`, "nodes", "json-syntax"},
		{"data after the document is a syntax error", `{} {}`, "", "json-syntax"},
		{"a key twice in one object is rejected", `{"nodes": [{"path": "a", "path": "b", "type": "dir"}]}`, "nodes[0].path", "duplicate-key"},
		{"an unknown top-level field is rejected", `{"dax_device": []}`, "dax_device", "unknown-field"},
		{"an unknown device field is rejected", `{"dax_devices": [{"name": "dax0.0", "sise": 1}]}`, "dax_devices[0].sise", "unknown-field"},
		{"an unknown expectation mode is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"ro": {}}}]}`, "nodes[0].expect.ro", "unknown-field"},
		{"a string where a number belongs is a type error", `{"dax_devices": [{"name": "dax0.0", "size": "1G"}]}`, "dax_devices[0].size", "wrong-type"},
		{"a fraction where an integer belongs is a type error", `{"dax_devices": [{"name": "dax0.0", "minor": 1.5}]}`, "dax_devices[0].minor", "wrong-type"},
		{"null is a type error", `{"nodes": [{"path": "f", "type": "file", "content": null}]}`, "nodes[0].content", "wrong-type"},
		{"an object where an array belongs is a type error", `{"nodes": {}}`, "nodes", "wrong-type"},
		{"a number where a bool belongs is a type error", `{"dax_devices": [{"name": "dax0.0", "nd_bus": 1}]}`, "dax_devices[0].nd_bus", "wrong-type"},
		{"a negative size is out of range", `{"dax_devices": [{"name": "dax0.0", "size": -1}]}`, "dax_devices[0].size", "out-of-range"},
		{"a minor beyond 32 bits is out of range", `{"dax_devices": [{"name": "dax0.0", "minor": 4294967296}]}`, "dax_devices[0].minor", "out-of-range"},
		{"a negative fault count is out of range", `{"nodes": [{"path": "f", "type": "file"}], "faults": [{"path": "f", "op": "read", "errno": "EIO", "times": -1}]}`, "faults[0].times", "out-of-range"},
		{"a device needs a name", `{"dax_devices": [{"size": 1}]}`, "dax_devices[0].name", "missing-field"},
		{"a node needs a type", `{"nodes": [{"path": "f"}]}`, "nodes[0].type", "missing-field"},
		{"content_base64 must be base64", `{"nodes": [{"path": "f", "type": "file", "content_base64": "***"}]}`, "nodes[0].content_base64", "bad-base64"},
		{"an unknown code name is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"r": {"from_fd": "PMEM2_E_NOPE"}}}]}`, "nodes[0].expect.r.from_fd", "unknown-code"},
		{"an unknown subsystem model is rejected", `{"dax_subsystem": "bux"}`, "dax_subsystem", "unknown-subsystem-model"},
		{"an unknown per-device subsystem model is rejected", `{"dax_devices": [{"name": "dax0.0", "subsystem": "klass"}]}`, "dax_devices[0].subsystem", "unknown-subsystem-model"},
		{"a dax name must be daxR.N", `{"dax_devices": [{"name": "dax0"}]}`, "dax_devices[0].name", "bad-dax-name"},
		{"a dax name must not have leading zeros", `{"dax_devices": [{"name": "dax00.1"}]}`, "dax_devices[0].name", "bad-dax-name"},
		{"a pmem name must be pmemN", `{"pmem_devices": [{"name": "pmem0s"}]}`, "pmem_devices[0].name", "bad-pmem-name"},
		{"a dax name is declared once", `{"dax_devices": [{"name": "dax0.0"}, {"name": "dax0.0", "minor": 1}]}`, "dax_devices[1].name", "duplicate-name"},
		{"a pmem name is declared once", `{"pmem_devices": [{"name": "pmem0"}, {"name": "pmem0", "minor": 1}]}`, "pmem_devices[1].name", "duplicate-name"},
		{"a major beyond the kernel's 12 bits is rejected", `{"dax_devices": [{"name": "dax0.0", "major": 4096}]}`, "dax_devices[0].major", "rdev-range"},
		{"a minor beyond the kernel's 20 bits is rejected", `{"nodes": [{"path": "dev/x", "type": "char", "minor": 1048576}]}`, "nodes[0].minor", "rdev-range"},
		{"two dax devices cannot share major:minor", `{"dax_devices": [{"name": "dax0.0", "minor": 3}, {"name": "dax0.1", "minor": 3}]}`, "dax_devices[1]", "rdev-clash"},
		{"a char node with a subsystem cannot take a dax device's numbers", `{"dax_devices": [{"name": "dax0.0", "major": 1, "minor": 5}], "nodes": [{"path": "dev/zero", "type": "char", "major": 1, "minor": 5, "subsystem": "mem"}]}`, "nodes[0]", "rdev-clash"},
		{"a block node with a subsystem cannot take a pmem device's numbers", `{"pmem_devices": [{"name": "pmem0", "minor": 1}], "nodes": [{"path": "dev/b", "type": "block", "major": 259, "minor": 1, "subsystem": "block"}]}`, "nodes[0]", "rdev-clash"},
		{"an alignment must be a power of two", `{"dax_devices": [{"name": "dax0.0", "align": 3000}]}`, "dax_devices[0].align", "align-not-power-of-two"},
		{"a NUMA node below -1 is rejected", `{"dax_devices": [{"name": "dax0.0", "numa_node": -2}]}`, "dax_devices[0].numa_node", "bad-numa-node"},
		{"align_raw needs an nd_dax", `{"dax_devices": [{"name": "dax0.0", "nd_bus": false, "dax_region": true, "align_raw": "4096\n"}]}`, "dax_devices[0].align_raw", "raw-without-file"},
		{"size_raw needs an nd_dax", `{"dax_devices": [{"name": "dax0.0", "nd_bus": false, "size_raw": "4096\n"}]}`, "dax_devices[0].size_raw", "raw-without-file"},
		{"without the NVDIMM bus a region holds one device", `{"dax_devices": [{"name": "dax0.0", "nd_bus": false}, {"name": "dax0.1", "minor": 1, "nd_bus": false}]}`, "dax_devices[1].nd_bus", "hmem-region-shared"},
		{"the devices of one region share a NUMA node", `{"dax_devices": [{"name": "dax0.0"}, {"name": "dax0.1", "minor": 1, "numa_node": 1}]}`, "dax_devices[1].numa_node", "region-numa-mismatch"},
		{"sizes must fit the physical address space", `{"dax_devices": [{"name": "dax0.0", "size": 18446744073709551615}]}`, "dax_devices[0].size", "size-overflow"},
		{"a pmem size is a whole number of sectors", `{"pmem_devices": [{"name": "pmem0", "size": 1000}]}`, "pmem_devices[0].size", "size-not-sector-multiple"},
		{"a path must not be empty", `{"nodes": [{"path": "", "type": "dir"}]}`, "nodes[0].path", "path-empty"},
		{"a path must not be absolute", `{"nodes": [{"path": "/etc/passwd", "type": "file"}]}`, "nodes[0].path", "path-absolute"},
		{"a path must not contain ..", `{"nodes": [{"path": "data/../../etc", "type": "dir"}]}`, "nodes[0].path", "path-dot-dot"},
		{"a path must not contain .", `{"nodes": [{"path": "data/./f", "type": "file"}]}`, "nodes[0].path", "path-dot"},
		{"a path must not contain NUL", `{"nodes": [{"path": "data/f\u0000", "type": "file"}]}`, "nodes[0].path", "path-nul"},
		{"a path must not contain empty components", `{"nodes": [{"path": "data//f", "type": "file"}]}`, "nodes[0].path", "path-empty-component"},
		{"a path must not end in a slash", `{"nodes": [{"path": "data/", "type": "dir"}]}`, "nodes[0].path", "path-empty-component"},
		{"a name longer than NAME_MAX is rejected", `{"nodes": [{"path": "data/` + long + `", "type": "file"}]}`, "nodes[0].path", "path-name-too-long"},
		{"a fault glob must be valid", `{"faults": [{"path": "sys/[", "op": "read", "errno": "EIO"}]}`, "faults[0].path", "bad-glob"},
		{"a fault glob is valid per component, so a backslash before a slash escapes nothing", `{"faults": [{"path": "a\\/0", "op": "read", "errno": "EIO"}]}`, "faults[0].path", "bad-glob"},
		{"a fault path must not be absolute", `{"faults": [{"path": "/sys", "op": "read", "errno": "EIO"}]}`, "faults[0].path", "path-absolute"},
		{"a path is declared once", `{"nodes": [{"path": "f", "type": "file"}, {"path": "f", "type": "dir"}]}`, "nodes[1].path", "duplicate-path"},
		{"an unknown node type is rejected", `{"nodes": [{"path": "f", "type": "pipe"}]}`, "nodes[0].type", "unknown-type"},
		{"a mode must be octal", `{"nodes": [{"path": "f", "type": "file", "mode": "rw-r--r--"}]}`, "nodes[0].mode", "bad-mode"},
		{"a mode must not exceed 07777", `{"nodes": [{"path": "f", "type": "file", "mode": "17777"}]}`, "nodes[0].mode", "bad-mode"},
		{"sys can only be a directory", `{"nodes": [{"path": "sys", "type": "file"}]}`, "nodes[0].type", "root-dir-replaced"},
		{"content on a directory is meaningless", `{"nodes": [{"path": "d", "type": "dir", "content": "x"}]}`, "nodes[0].content", "field-not-for-type"},
		{"a target on a file is meaningless", `{"nodes": [{"path": "f", "type": "file", "target": "x"}]}`, "nodes[0].target", "field-not-for-type"},
		{"device numbers on a FIFO are meaningless", `{"nodes": [{"path": "p", "type": "fifo", "major": 1}]}`, "nodes[0].major", "field-not-for-type"},
		{"a subsystem on a file is meaningless", `{"nodes": [{"path": "f", "type": "file", "subsystem": "mem"}]}`, "nodes[0].subsystem", "field-not-for-type"},
		{"a size on a symlink is meaningless", `{"nodes": [{"path": "l", "type": "symlink", "target": "x", "size": 3}]}`, "nodes[0].size", "field-not-for-type"},
		{"content and content_base64 exclude each other", `{"nodes": [{"path": "f", "type": "file", "content": "a", "content_base64": "YQ=="}]}`, "nodes[0].content_base64", "content-twice"},
		{"a size below the content is rejected", `{"nodes": [{"path": "f", "type": "file", "content": "hello", "size": 2}]}`, "nodes[0].size", "size-below-content"},
		{"a symlink needs a target", `{"nodes": [{"path": "l", "type": "symlink"}]}`, "nodes[0].target", "symlink-target-missing"},
		{"a subsystem is one sysfs name", `{"nodes": [{"path": "dev/z", "type": "char", "subsystem": "a/b"}]}`, "nodes[0].subsystem", "bad-subsystem-name"},
		{"a device with a subsystem needs a plain name", `{"nodes": [{"path": "dev/z z", "type": "char", "subsystem": "mem"}]}`, "nodes[0].path", "bad-device-name"},
		{"an unknown fault op is rejected", `{"faults": [{"path": "sys/**", "op": "mmap", "errno": "EIO"}]}`, "faults[0].op", "unknown-op"},
		{"an unknown fault errno is rejected", `{"faults": [{"path": "sys/**", "op": "read", "errno": "EBROKEN"}]}`, "faults[0].errno", "unknown-errno"},
		{"an errno in lower case is rejected", `{"faults": [{"path": "sys/**", "op": "read", "errno": "eio"}]}`, "faults[0].errno", "unknown-errno"},
		{"an errno given as a number is rejected", `{"faults": [{"path": "sys/**", "op": "read", "errno": "5"}]}`, "faults[0].errno", "unknown-errno"},
		{"an errno number without a name is rejected", `{"faults": [{"path": "sys/**", "op": "read", "errno": "4000"}]}`, "faults[0].errno", "unknown-errno"},
		{"an unknown open_errno is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"w": {"open_errno": "EWHAT"}}}]}`, "nodes[0].expect.w.open_errno", "unknown-errno"},
		{"short applies to read and write only", `{"faults": [{"path": "sys/**", "op": "getattr", "short": 1}]}`, "faults[0].short", "short-not-read-write"},
		{"a fault fails or runs short, not both", `{"faults": [{"path": "sys/**", "op": "read", "short": 1, "errno": "EIO"}]}`, "faults[0].short", "errno-and-short"},
		{"a delay is a Go duration", `{"faults": [{"path": "sys/**", "op": "read", "delay": "soon"}]}`, "faults[0].delay", "bad-delay"},
		{"a fault must do something", `{"faults": [{"path": "sys/**", "op": "read"}]}`, "faults[0]", "fault-does-nothing"},
		{"a probability lies in [0, 1]", `{"faults": [{"path": "sys/**", "op": "read", "errno": "EIO", "probability": 1.5}]}`, "faults[0].probability", "bad-probability"},
		{"an exact fault path must name a node", `{"faults": [{"path": "data/typo", "op": "read", "errno": "EIO"}]}`, "faults[0].path", "fault-path-missing"},
		{"an empty expectation is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {}}]}`, "nodes[0].expect", "expect-empty"},
		{"as_user holds modes, not another as_user", `{"nodes": [{"path": "f", "type": "file", "expect": {"r": {}, "as_user": {"as_user": {"r": {}}}}}]}`, "nodes[0].expect.as_user", "expect-caller-nested"},
		{"an empty as_root is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"r": {}, "as_root": {}}}]}`, "nodes[0].expect.as_root", "expect-empty"},
		{"all is rejected when every mode is listed", `{"nodes": [{"path": "f", "type": "file", "expect": {"r": {}, "w": {}, "rw": {}, "path": {}, "all": {}}}]}`, "nodes[0].expect.all", "expect-all-unused"},
		{"a failing open excludes other expectations", `{"dax_devices": [{"name": "dax0.0", "expect": {"r": {"open_errno": "EACCES", "from_fd": 0}}}]}`, "dax_devices[0].expect.r.open_errno", "expect-open-fails-and-more"},
		{"a failing from_fd excludes size and alignment", `{"pmem_devices": [{"name": "pmem0", "expect": {"path": {"from_fd": "PMEM2_E_INVALID_FILE_TYPE", "size": 1}}}]}`, "pmem_devices[0].expect.path.from_fd", "expect-after-failed-source"},
		{"a size beside a failing size_rc is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"r": {"size": 1, "size_rc": "-EIO"}}}]}`, "nodes[0].expect.r.size", "expect-value-with-error"},
		{"an alignment beside a failing alignment_rc is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"r": {"alignment": 1, "alignment_rc": -5}}}]}`, "nodes[0].expect.r.alignment", "expect-value-with-error"},
		{"two devices generating one sysfs path clash", `{"nodes": [{"path": "dev/zero", "type": "char", "major": 1, "minor": 5, "subsystem": "mem"}, {"path": "data/zero", "type": "char", "major": 1, "minor": 6, "subsystem": "mem"}]}`, "nodes[1]", "generated-clash"},
		{"a node cannot replace the file size_raw fills", `{"dax_devices": [{"name": "dax0.0", "size_raw": "1\n"}], "nodes": [{"path": "sys/devices/platform/e820_pmem/ndbus0/region0/dax0.1/size", "type": "file", "content": "2\n"}]}`, "nodes[0].path", "raw-replaced"},
		{"a node cannot replace the file align_raw fills", `{"dax_devices": [{"name": "dax0.0", "align_raw": "1\n"}], "nodes": [{"path": "sys/devices/platform/e820_pmem/ndbus0/region0/dax0.1/align", "type": "file", "content": "2\n"}]}`, "nodes[0].path", "raw-replaced"},
		{"a file cannot replace the directory holding size_raw's file", `{"dax_devices": [{"name": "dax0.0", "size_raw": "1\n"}], "nodes": [{"path": "sys/devices/platform/e820_pmem/ndbus0/region0/dax0.1", "type": "file"}]}`, "nodes[0].path", "raw-replaced"},
		// DIMMs, interleave sets, bad blocks, hosted files
		{"an unknown bus provider is rejected", `{"nd_bus_provider": "acpi"}`, "nd_bus_provider", "unknown-nd-bus-provider"},
		{"an e820 bus has no DIMMs", `{"nd_bus_provider": "e820", "dimms": [{"name": "nmem0"}]}`, "dimms[0]", "dimms-without-nfit"},
		{"a device on an e820 bus names no DIMMs", `{"nd_bus_provider": "e820", "dax_devices": [{"name": "dax0.0", "dimms": ["nmem0"]}]}`, "dax_devices[0].dimms", "dimms-without-nfit"},
		{"a DIMM is named nmemN", `{"dimms": [{"name": "dimm0"}]}`, "dimms[0].name", "bad-dimm-name"},
		{"a DIMM name is declared once", `{"dimms": [{"name": "nmem0"}, {"name": "nmem0"}]}`, "dimms[1].name", "duplicate-name"},
		{"a DIMM id is one line", `{"dimms": [{"name": "nmem0", "id": "a\nb"}]}`, "dimms[0].id", "bad-dimm-id"},
		{"a dirty shutdown count is an int", `{"dimms": [{"name": "nmem0", "dirty_shutdown": 2147483648}]}`, "dimms[0].dirty_shutdown", "bad-dirty-shutdown"},
		{"a device without the NVDIMM bus names no DIMMs", `{"dimms": [{"name": "nmem0"}], "dax_devices": [{"name": "dax0.0", "nd_bus": false, "dimms": ["nmem0"]}]}`, "dax_devices[0].dimms", "dimms-without-bus"},
		{"a device names declared DIMMs", `{"pmem_devices": [{"name": "pmem0", "dimms": ["nmem3"]}]}`, "pmem_devices[0].dimms[0]", "unknown-dimm"},
		{"a DIMM holds one position of an interleave set", `{"dimms": [{"name": "nmem0"}], "dax_devices": [{"name": "dax0.0", "dimms": ["nmem0", "nmem0"]}]}`, "dax_devices[0].dimms[1]", "duplicate-dimm"},
		{"the devices of a region name one interleave set", `{"dimms": [{"name": "nmem0"}, {"name": "nmem1"}], "dax_devices": [{"name": "dax0.0", "dimms": ["nmem0", "nmem1"]}, {"name": "dax0.1", "minor": 1, "dimms": ["nmem1", "nmem0"]}]}`, "dax_devices[1].dimms", "region-dimms-mismatch"},
		{"a region interleaved across DIMMs holds equal 4 KiB shares", `{"dimms": [{"name": "nmem0"}, {"name": "nmem1"}], "dax_devices": [{"name": "dax0.0", "size": 4096, "dimms": ["nmem0", "nmem1"]}]}`, "dax_devices[0].dimms", "interleave-size"},
		{"bad blocks need the NVDIMM bus", `{"dax_devices": [{"name": "dax0.0", "size": 4096, "nd_bus": false, "badblocks": [{"offset": 0, "length": 512}]}]}`, "dax_devices[0].badblocks", "badblocks-without-bus"},
		{"a bad block is not empty", `{"dax_devices": [{"name": "dax0.0", "size": 4096, "badblocks": [{"offset": 0, "length": 0}]}]}`, "dax_devices[0].badblocks[0].length", "badblock-empty"},
		{"a bad block is whole sectors", `{"dax_devices": [{"name": "dax0.0", "size": 4096, "badblocks": [{"offset": 100, "length": 512}]}]}`, "dax_devices[0].badblocks[0]", "badblock-not-sector-aligned"},
		{"a bad block lies in its device", `{"pmem_devices": [{"name": "pmem0", "size": 4096, "badblocks": [{"offset": 3584, "length": 1024}]}]}`, "pmem_devices[0].badblocks[0]", "badblock-outside-device"},
		{"a bad block's end does not overflow", `{"dax_devices": [{"name": "dax0.0", "size": 4096, "badblocks": [{"offset": 18446744073709551104, "length": 1024}]}]}`, "dax_devices[0].badblocks[0]", "badblock-outside-device"},
		{"the bad blocks of a device do not overlap", `{"dax_devices": [{"name": "dax0.0", "size": 8192, "badblocks": [{"offset": 0, "length": 4096}, {"offset": 3584, "length": 512}]}]}`, "dax_devices[0].badblocks[1]", "badblock-overlap"},
		{"one pmem device hosts the files", `{"pmem_devices": [{"name": "pmem0", "hosts_files": true}, {"name": "pmem1", "hosts_files": true}]}`, "pmem_devices[1].hosts_files", "hosts-files-twice"},
		{"a device hosting the files takes the mount's number", `{"pmem_devices": [{"name": "pmem0", "minor": 3, "hosts_files": true}]}`, "pmem_devices[0].hosts_files", "hosts-files-numbered"},
		{"a device id beside a failing device_id_rc is rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"r": {"device_id": "", "device_id_rc": "PMEM2_E_NOSUPP"}}}]}`, "nodes[0].expect.r.device_id", "expect-value-with-error"},
		{"bad blocks beside a failing from_fd are rejected", `{"nodes": [{"path": "f", "type": "file", "expect": {"w": {"from_fd": "PMEM2_E_INVALID_FILE_HANDLE", "badblocks": []}}}]}`, "nodes[0].expect.w.from_fd", "expect-after-failed-source"},
		{"a node cannot lie under a declared file", `{"nodes": [{"path": "data", "type": "file"}, {"path": "data/f", "type": "file"}]}`, "nodes[1].path", "parent-not-dir"},
		{"a node cannot lie under a generated symlink", `{"dax_devices": [{"name": "dax0.0"}], "nodes": [{"path": "sys/dev/char/252:0/size", "type": "file"}]}`, "nodes[0].path", "parent-not-dir"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.rule] = true
		t.Run(c.name, func(t *testing.T) {
			_, err := emulate.Parse([]byte(c.json))
			assertRule(t, err, c.loc, c.rule)
		})
	}
	// Rules a Go literal can break although JSON cannot express it.
	goCases := []struct {
		name      string
		spec      *emulate.Spec
		loc, rule string
	}{
		{"a negative fault count in Go is out of range", &emulate.Spec{Faults: []emulate.Fault{{Path: "sys", Op: fusefs.OpRead, Errno: syscall.EIO, After: -1}}}, "faults[0].after", "out-of-range"},
		{"a negative file size in Go is out of range", &emulate.Spec{Nodes: []emulate.Node{{Path: "f", Type: fusefs.TypeFile, Size: -1}}}, "nodes[0].size", "out-of-range"},
		{"a Go literal is validated like JSON", &emulate.Spec{Nodes: []emulate.Node{{Path: "../x", Type: fusefs.TypeFile}}}, "nodes[0].path", "path-dot-dot"},
		{"a node type left out of a Go literal is missing", &emulate.Spec{Nodes: []emulate.Node{{Path: "f"}}}, "nodes[0].type", "missing-field"},
		{"an op left out of a Go literal is missing", &emulate.Spec{Faults: []emulate.Fault{{Path: "sys", Errno: syscall.EIO}}}, "faults[0].op", "missing-field"},
		{"an unknown op in Go is rejected", &emulate.Spec{Faults: []emulate.Fault{{Path: "sys", Op: fusefs.Op(99), Errno: syscall.EIO}}}, "faults[0].op", "unknown-op"},
		{"an errno without a name in Go is rejected", &emulate.Spec{Faults: []emulate.Fault{{Path: "sys", Op: fusefs.OpRead, Errno: 4000}}}, "faults[0].errno", "unknown-errno"},
		{"a negative delay in Go is rejected", &emulate.Spec{Faults: []emulate.Fault{{Path: "sys", Op: fusefs.OpRead, Delay: -time.Second}}}, "faults[0].delay", "bad-delay"},
		{"a mode with a file type bit in Go is rejected", &emulate.Spec{Nodes: []emulate.Node{{Path: "f", Type: fusefs.TypeFile, Mode: fs.ModeDir | 0o755}}}, "nodes[0].mode", "bad-mode"},
		{"an unknown node type in Go is rejected", &emulate.Spec{Nodes: []emulate.Node{{Path: "f", Type: fusefs.NodeType(42)}}}, "nodes[0].type", "unknown-type"},
		{"a NUMA node beyond 32 bits is rejected", &emulate.Spec{DAXDevices: []emulate.DAXDevice{{Name: "dax0.0", NUMANode: 1 << 40}}}, "dax_devices[0].numa_node", "bad-numa-node"},
	}
	for _, c := range goCases {
		t.Run(c.name, func(t *testing.T) {
			assertRule(t, c.spec.Validate(), c.loc, c.rule)
			_, err := c.spec.Tree()
			assertRule(t, err, c.loc, c.rule)
		})
	}
	t.Run("a spec larger than 64 MiB is rejected", func(t *testing.T) {
		big := io.MultiReader(strings.NewReader(`{"nodes": [`), io.LimitReader(repeatReader(' '), 64<<20))
		_, err := emulate.Decode(big)
		assertRule(t, err, "", "too-large")
	})
	seen["too-large"] = true
	for _, r := range emulate.Rules() {
		if !seen[r] {
			t.Errorf("rule %q has no test", r)
		}
	}
}

func TestEveryProblemOfASpecIsReported(t *testing.T) {
	_, err := emulate.Parse([]byte(`{"dax_devices": [{"name": "dax0"}], "nodes": [{"path": "/a", "type": "file"}, {"path": "b", "type": "gizmo"}]}`))
	var es emulate.SpecErrors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	if !strings.Contains(err.Error(), "3 errors") {
		t.Errorf("message %q does not count the problems", err)
	}
}

func TestModesAreReadInTheUsualOctalSpellings(t *testing.T) {
	for _, m := range []string{"0644", "644", "0o644"} {
		if _, err := emulate.Parse([]byte(`{"nodes": [{"path": "f", "type": "file", "mode": "` + m + `"}]}`)); err != nil {
			t.Errorf("mode %q: %v", m, err)
		}
	}
}

func assertRule(t *testing.T, err error, loc, rule string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s (rule %s)", loc, rule)
	}
	if !errors.Is(err, emulate.ErrInvalidSpec) {
		t.Errorf("error %v does not match ErrInvalidSpec", err)
	}
	var es emulate.SpecErrors
	if !errors.As(err, &es) {
		t.Fatalf("error %T is not SpecErrors: %v", err, err)
	}
	for _, e := range es {
		if e.Loc == loc && e.Rule == rule {
			wantLoc := loc
			if wantLoc == "" {
				wantLoc = "spec"
			}
			if msg := e.Error(); !strings.HasPrefix(msg, wantLoc+": ") || !strings.Contains(msg, "(rule "+rule+")") {
				t.Errorf("message %q does not name %s and rule %s", msg, wantLoc, rule)
			}
			return
		}
	}
	t.Errorf("want %s (rule %s), got:\n%v", loc, rule, err)
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
