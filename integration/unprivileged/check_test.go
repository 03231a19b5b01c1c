package unprivileged_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// report is what `pmem2emu check --json` prints, the parts compared here.
type report struct {
	Results []struct {
		Node, Mode, Caller string
		Pass               bool
		Expected, Got      json.RawMessage
	}
	Passed, Failed int
}

// checked is what a result of the report got that its expectation asks
// about (a value, its code or both), with how the node opened and what it
// is; not its path, which names the temporary mount point. What else the
// library returned may depend on who asks without the row saying so: a
// Device DAX's bad blocks need a file only root may read.
func checked(t *testing.T, expected, got json.RawMessage) map[string]any {
	t.Helper()
	var want, m map[string]any
	require.NoError(t, json.Unmarshal(expected, &want))
	require.NoError(t, json.Unmarshal(got, &m))
	for k := range m {
		_, asked := want[strings.TrimSuffix(k, "_rc")]
		_, askedRC := want[strings.TrimSuffix(k, "_rc")+"_rc"]
		if !asked && !askedRC && k != "mode" && k != "open_errno" && k != "from_fd" && k != "type" {
			delete(m, k)
		}
	}
	return m
}

func parseReport(t *testing.T, out string) report {
	t.Helper()
	var r report
	require.NoError(t, json.Unmarshal([]byte(out), &r), "check --json printed:\n%s", out)
	return r
}

// A user's `pmem2emu check` of the default fixture finds what root's
// finds, but for the rows whose answer depends on who checks, and nothing
// fails for either; where /dev/fuse is closed to the user it fails at once,
// saying why and what to do.
func TestCheckAsAUser(t *testing.T) {
	testutil.RootOnly(t, asRoot)
	cli := testutil.PublicCopy(t, testutil.CLI(t))
	rootOut, _, _ := testutil.Output(t, exec.Command(cli, "check", "--json"))
	root := parseReport(t, rootOut)
	for _, u := range testutil.Users() {
		t.Run(u.String(), func(t *testing.T) {
			stdout, stderr, code := shell(t, u, nil, cli+" check --json")
			if !u.FuseOpen(t) {
				assert.Equal(t, 1, code, "exit status")
				assert.Empty(t, stdout)
				wantFuseClosed(t, u, stderr)
				return
			}
			user := parseReport(t, stdout)
			require.Len(t, user.Results, len(root.Results), "rows")
			callerRows := 0
			for i, r := range user.Results {
				rr := root.Results[i]
				require.Equal(t, [2]string{rr.Node, rr.Mode}, [2]string{r.Node, r.Mode}, "row %d", i)
				if r.Caller != "" || rr.Caller != "" {
					callerRows++
					assert.Equal(t, "user", r.Caller, "%s %s: the user's own expectation", r.Node, r.Mode)
					continue
				}
				assert.Equal(t, rr.Pass, r.Pass, "%s %s: verdict as root and as %s", r.Node, r.Mode, u)
				assert.Equal(t, checked(t, rr.Expected, rr.Got), checked(t, r.Expected, r.Got), "%s %s: what the library returned as root and as %s", r.Node, r.Mode, u)
			}
			assert.NotZero(t, callerRows, "the default fixture holds a row that depends on the caller")
			t.Run("nothing fails, as root or as the user", func(t *testing.T) {
				assert.Zero(t, root.Failed, "failed as root")
				assert.Zero(t, user.Failed, "failed as %s", u)
				assert.Equal(t, 0, code, "exit status as %s", u)
			})
		})
	}
}
