package unprivileged_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// zeroSpec declares a Device DAX as 1:5, which the namespace runner backs
// with the host's /dev/zero.
const zeroSpec = `{"dax_devices": [{"name": "dax0.0", "major": 1, "minor": 5, "size": 1073741824, "align": 2097152}]}`

// mapped is what mapdax prints for a mapping at granularity gran: the
// store reads back through the mapping, and pread after pwrite reads zeros
// (each maps the device anew, and nothing persists across mappings).
func mapped(gran string) string {
	return "from_fd 0\nsize 0 1073741824\nmap_new 0\ngranularity " + gran +
		"\nreadback same\npwrite_mcsafe 0\npread_mcsafe 0 zeros\ndone\n"
}

// refused is what mapdax prints when pmem2_map_new returns rc.
func refused(rc int) string {
	return fmt.Sprintf("from_fd 0\nsize 0 1073741824\nmap_new %d\ndone\n", rc)
}

// A C program maps an emulated Device DAX under `pmem2emu exec --spec`,
// without device mode, as root and as a normal user: the Device DAX
// declared 1:5 is the host's /dev/zero in the program's /dev.
func TestExecMapsADeviceDAXAsAnyone(t *testing.T) {
	testutil.RootOnly(t, asRoot)
	cli := testutil.PublicCopy(t, testutil.CLI(t))
	mapdax := testutil.PublicCopy(t, cref.BuildMapDAX(t))
	spec := public(t, "zero.json", zeroSpec)
	cases := []struct {
		name, mode, gran, force, want string
	}{
		{"a read-write descriptor maps at PAGE granularity", "rw", "page", "", mapped("PAGE")},
		{"CACHE_LINE is not offered: no MAP_SYNC on /dev/zero", "rw", "cache_line", "", refused(-100009)},
		{"PMEM2_FORCE_GRANULARITY=CACHE_LINE gives CACHE_LINE", "rw", "cache_line", "CACHE_LINE", mapped("CACHE_LINE")},
		{"PMEM2_FORCE_GRANULARITY=byte gives BYTE", "rw", "byte", "byte", mapped("BYTE")},
		{"an O_PATH descriptor cannot be mapped: -EBADF", "path", "page", "", refused(-9)},
	}
	run := func(t *testing.T, u *testutil.User, mode, gran, force string) (stdout, stderr string, code int) {
		script := fmt.Sprintf("%s exec --spec %s -- %s /dev/dax0.0 %s %s", cli, spec, mapdax, mode, gran)
		var env []string
		if force != "" {
			env = []string{"PMEM2_FORCE_GRANULARITY=" + force}
		}
		if u == nil {
			cmd := exec.Command("sh", "-c", script)
			cmd.Env = append(cmd.Environ(), env...)
			return testutil.Output(t, cmd)
		}
		return shell(t, *u, env, script)
	}
	t.Run("as root", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				stdout, stderr, code := run(t, nil, c.mode, c.gran, c.force)
				assert.Equal(t, 0, code, "exit status; stderr: %s", stderr)
				assert.Equal(t, c.want, stdout)
			})
		}
	})
	for _, u := range testutil.Users() {
		t.Run(u.String(), func(t *testing.T) {
			if !u.FuseOpen(t) {
				stdout, stderr, code := run(t, &u, "rw", "page", "")
				assert.Equal(t, 1, code, "exit status")
				assert.Empty(t, stdout)
				wantFuseClosed(t, u, stderr)
				return
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					stdout, stderr, code := run(t, &u, c.mode, c.gran, c.force)
					assert.Equal(t, 0, code, "exit status; stderr: %s", stderr)
					assert.Equal(t, c.want, stdout)
					if c.want == mapped("PAGE") {
						assert.Empty(t, strings.TrimSpace(stderr), "stderr")
					}
				})
			}
		})
	}
}
