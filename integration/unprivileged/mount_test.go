package unprivileged_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// `pmem2emu mount`, `probe` and `umount` work for a normal user: the mount
// serves, probe reads it, umount takes it away under the running server,
// and the server, told to stop, exits 0.
func TestMountProbeUmountAsAUser(t *testing.T) {
	testutil.RootOnly(t, asRoot)
	cli := testutil.PublicCopy(t, testutil.CLI(t))
	script := `(set -e
		mkdir "$HOME/pmem"
		` + cli + ` mount "$HOME/pmem" > "$HOME/mount.out" 2>&1 &
		server=$!
		for i in $(seq 100); do grep -q mounted "$HOME/mount.out" || ! kill -0 $server 2>/dev/null && break; sleep 0.1; done
		cat "$HOME/mount.out"
		stat -c '%U %a' "$HOME/pmem/data/small" "$HOME/pmem/sys/dev/char/252:0/resource"
		` + cli + ` probe --sysfs "$HOME/pmem/sys" --mode path "$HOME/pmem/dev/dax0.0" "$HOME/pmem/data/small"
		` + cli + ` umount "$HOME/pmem"
		kill -TERM $server
		wait $server && echo "server exit 0")`
	for _, u := range testutil.Users() {
		t.Run(u.String(), func(t *testing.T) {
			stdout, _, code := shell(t, u, nil, script)
			if !u.FuseOpen(t) {
				assert.NotEqual(t, 0, code, "exit status")
				wantFuseClosed(t, u, stdout)
				return
			}
			assert.Equal(t, 0, code, "exit status; output:\n%s", stdout)
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if assert.Len(t, lines, 7, "output:\n%s", stdout) {
				assert.Regexp(t, `^mounted .*/pmem$`, lines[0])
				assert.Equal(t, []string{"nobody 644", "root 400"}, lines[1:3], "owners and modes")
				assert.Contains(t, lines[3], "dev/dax0.0")
				assert.Contains(t, lines[3], "size 1073741824")
				assert.Contains(t, lines[4], "data/small")
				assert.Regexp(t, `^unmounted .*/pmem$`, lines[5])
				assert.Equal(t, "server exit 0", lines[6])
			}
		})
	}
}
