package fusefs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatchPath(t *testing.T) {
	tests := []struct {
		name, pattern, path string
		want                bool
	}{
		{"an exact path matches itself", "data/file", "data/file", true},
		{"an exact path does not match its parent", "data/file", "data", false},
		{"a star stays within one component", "sys/*/size", "sys/a/b/size", false},
		{"a star matches one component", "sys/*/size", "sys/a/size", true},
		{"a double star matches no component", "sys/**/size", "sys/size", true},
		{"a double star matches many components", "sys/**/size", "sys/devices/platform/dax0.0/size", true},
		{"a double star alone matches the root", "**", ".", true},
		{"a character class is honoured", "dev/dax[0-9].0", "dev/dax3.0", true},
		{"a malformed pattern matches nothing", "dev/[", "dev/[", false},
		{"a trailing double star needs the prefix", "sys/**", "dev/zero", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, MatchPath(tt.pattern, tt.path), "MatchPath(%q, %q)", tt.pattern, tt.path)
		})
	}

	t.Run("many double stars against a deep path do not backtrack exponentially", func(t *testing.T) {
		// Backtracking tries C(60, 30) splits here: it would never finish.
		pattern := strings.Repeat("**/a/", 30) + "b"
		name := strings.Repeat("a/", 60) + "c"
		if MatchPath(pattern, name) {
			t.Fatal("matched a path that ends in c against a pattern that ends in b")
		}
	})
}
