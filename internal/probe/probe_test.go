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

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/probe"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("hello"), 0o644))
	page := strconv.Itoa(os.Getpagesize())
	const (
		rasJSON = `,"numa_node_rc":-100026,"device_id_rc":-100001,"usc_rc":-100001,"badblocks":[],"badblocks_rc":0`
		rasText = ", numa_node_rc PMEM2_E_DAX_REGION_NOT_FOUND, device_id_rc PMEM2_E_NOSUPP, usc_rc PMEM2_E_NOSUPP, badblocks []"
	)

	// PATH and PAGE stand for the path (a JSON string in json) and the page
	// size, RAS and RASJ for what the calls on DIMMs and bad blocks say of
	// a file on no pmem device: no region, no DIMMs, no bad blocks.
	tests := []struct {
		name, path string
		mode       emulate.OpenMode
		json, text string
	}{
		{"a regular file read-only is a source with its size and the page size", file, "r",
			`{"path":PATH,"mode":"r","from_fd":0,"type":"regular","size":5,"size_rc":0,"alignment":PAGE,"alignment_rc":0RASJ}`, "PATH (r): from_fd 0, type regular, size 5, alignment PAGERAS"},
		{"a regular file write-only is an invalid handle and nothing more is run", file, "w",
			`{"path":PATH,"mode":"w","from_fd":-100004,"type":""}`, "PATH (w): from_fd PMEM2_E_INVALID_FILE_HANDLE"},
		{"an O_PATH descriptor is accepted", file, "path",
			`{"path":PATH,"mode":"path","from_fd":0,"type":"regular","size":5,"size_rc":0,"alignment":PAGE,"alignment_rc":0RASJ}`, "PATH (path): from_fd 0, type regular, size 5, alignment PAGERAS"},
		{"a directory is an invalid file type", dir, "r",
			`{"path":PATH,"mode":"r","from_fd":-100005,"type":""}`, "PATH (r): from_fd PMEM2_E_INVALID_FILE_TYPE"},
		{"a missing file reports only the open errno", filepath.Join(dir, "missing"), "r",
			`{"path":PATH,"mode":"r","open_errno":2}`, "PATH (r): open ENOENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := probe.Run(tt.path, tt.mode)
			require.NoError(t, err)
			got, err := json.Marshal(r)
			require.NoError(t, err)
			quoted, _ := json.Marshal(tt.path)
			assert.Equal(t, strings.NewReplacer("PATH", string(quoted), "PAGE", page, "RASJ", rasJSON).Replace(tt.json), string(got),
				"the JSON keys come in their documented order")
			assert.Equal(t, strings.NewReplacer("PATH", tt.path, "PAGE", page, "RAS", rasText).Replace(tt.text), r.String())
		})
	}

	t.Run("an unknown mode is an error, not a result", func(t *testing.T) {
		_, err := probe.Run(file, "x")
		assert.ErrorContains(t, err, `unknown open mode "x"`)
	})
}
