package probe_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/internal/probe"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("hello"), 0o644))
	page := os.Getpagesize()

	tests := []struct {
		name, path, mode, want string
	}{
		{"a regular file read-only is a source with its size and the page size",
			file, "r", `{"path":"F","mode":"r","from_fd":0,"type":"regular","size":5,"size_rc":0,"alignment":PAGE,"alignment_rc":0}`},
		{"a regular file write-only is an invalid handle and nothing more is run",
			file, "w", `{"path":"F","mode":"w","from_fd":-100004,"type":""}`},
		{"an O_PATH descriptor is accepted",
			file, "path", `{"path":"F","mode":"path","from_fd":0,"type":"regular","size":5,"size_rc":0,"alignment":PAGE,"alignment_rc":0}`},
		{"a directory is an invalid file type",
			dir, "r", `{"path":"F","mode":"r","from_fd":-100005,"type":""}`},
		{"a missing file reports only the open errno",
			filepath.Join(dir, "missing"), "r", `{"path":"F","mode":"r","open_errno":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := probe.Run(tt.path, tt.mode)
			require.NoError(t, err)
			got, err := json.Marshal(r)
			require.NoError(t, err)
			quoted, _ := json.Marshal(tt.path)
			want := strings.NewReplacer(`"F"`, string(quoted), "PAGE", strconv.Itoa(page)).Replace(tt.want)
			assert.JSONEq(t, want, string(got))
		})
	}

	t.Run("an unknown mode is an error, not a result", func(t *testing.T) {
		_, err := probe.Run(file, "x")
		assert.ErrorContains(t, err, `unknown open mode "x"`)
	})
}
