package integration_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// TestFD covers pmem2_source_get_fd: the very number SourceFromFD was
// given, never a duplicate, and FILE_DESCRIPTOR_NOT_SET for anonymous
// memory.
func TestFD(t *testing.T) {
	f := start(t, nil)
	for _, c := range []struct {
		name  string
		rel   string
		flags int
	}{
		{"a regular source gives back its descriptor", "data/small", rdonly},
		{"a regular source opened O_PATH gives back its descriptor", "data/small", opath},
		{"a Device DAX source gives back its descriptor", "dev/dax0.0", opath},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, fd := newSource(t, f, c.rel, c.flags)
			got, err := src.FD()
			wantCode(t, err, 0)
			if got != fd {
				t.Errorf("FD() = %d, want %d", got, fd)
			}
		})
	}

	t.Run("FD gives back the number even after the caller closed it, as C does", func(t *testing.T) {
		fd := highDup(t, testutil.OpenFD(t, f.Path("data/small"), rdonly))
		src, err := fromFD(f, fd)
		wantCode(t, err, 0)
		defer src.Delete()
		require.NoError(t, unix.Close(fd))
		got, err := src.FD()
		wantCode(t, err, 0)
		if got != fd {
			t.Errorf("FD() = %d, want %d", got, fd)
		}
	})

	t.Run("an anonymous source has no descriptor: FILE_DESCRIPTOR_NOT_SET", func(t *testing.T) {
		src, err := pmem2.SourceFromAnon(4096)
		wantCode(t, err, 0)
		got, err := src.FD()
		wantCode(t, err, pmem2.ErrFileDescriptorNotSet)
		wantMsg(t, nil, err, "pmem2_source_get_fd")
		if got != -1 {
			t.Errorf("FD() = %d, want -1", got)
		}
	})
}
