package fusefs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Close tells OnBusy about a mount a descriptor holds, and only then.
func TestCloseReportsABusyMountToOnBusy(t *testing.T) {
	for _, c := range []struct {
		name string
		hold bool
	}{{"an idle mount is not reported", false}, {"a mount a descriptor holds is reported", true}} {
		t.Run(c.name, func(t *testing.T) {
			var busy []string
			srv, dir := mount(t, fusefs.Tree{"f": fusefs.File("x")}, &fusefs.Options{OnBusy: func(d string) { busy = append(busy, d) }})
			if c.hold {
				f, err := os.Open(filepath.Join(dir, "f"))
				require.NoError(t, err)
				defer f.Close()
			}
			require.NoError(t, srv.Close())
			if c.hold {
				assert.Equal(t, []string{dir}, busy)
			} else {
				assert.Empty(t, busy)
			}
		})
	}
}
