package clib_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/cref/clib"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

func TestTheCLibraryInProcess(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("hello, pmem\n"), 0o644))
	t.Run("a regular file is a source with its length and the page size", func(t *testing.T) {
		fd := testutil.OpenFD(t, file, unix.O_RDONLY)
		if rc := clib.SourceFromFD(fd); rc != 0 {
			t.Errorf("SourceFromFD = %d", rc)
		}
		if rc, v := clib.Size(fd); rc != 0 || v != 12 {
			t.Errorf("Size = %d, %d", rc, v)
		}
		if rc, v := clib.Alignment(fd); rc != 0 || v != uint64(os.Getpagesize()) {
			t.Errorf("Alignment = %d, %d", rc, v)
		}
		if rc := clib.SourceFromFDLoop(fd, 1000); rc != 0 {
			t.Errorf("SourceFromFDLoop = %d", rc)
		}
		if err := clib.FcntlLoop(fd, 10); err != nil {
			t.Errorf("FcntlLoop = %v", err)
		}
		if err := clib.FstatLoop(fd, 10); err != nil {
			t.Errorf("FstatLoop = %v", err)
		}
		if err := clib.FcntlLoop(-1, 1); err != syscall.EBADF {
			t.Errorf("FcntlLoop(-1) = %v, want EBADF", err)
		}
		if err := clib.FstatLoop(-1, 1); err != syscall.EBADF {
			t.Errorf("FstatLoop(-1) = %v, want EBADF", err)
		}
	})
	t.Run("the region functions return Go's codes on the host's sysfs", func(t *testing.T) {
		fd := testutil.OpenFD(t, file, unix.O_RDONLY)
		src, err := pmem2.SourceFromFD(fd)
		require.NoError(t, err)
		_, errNuma := src.NumaNode()
		_, errID := src.DeviceID()
		_, errUSC := src.DeviceUSC()
		_, errBB := src.BadBlocks()
		for call, err := range map[clib.RegionCall]error{clib.NumaNode: errNuma, clib.DeviceID: errID,
			clib.DeviceUSC: errUSC, clib.BadBlocks: errBB} {
			if rc := clib.RegionLoop(fd, call, 3); rc != pmem2.CodeOf(err) {
				t.Errorf("call %d: C %d, Go %v", call, rc, err)
			}
		}
	})
	t.Run("a write-only descriptor is an invalid handle, as in Go", func(t *testing.T) {
		fd := testutil.OpenFD(t, file, unix.O_WRONLY)
		_, err := pmem2.SourceFromFD(fd)
		if rc := clib.SourceFromFD(fd); rc != int(pmem2.ErrInvalidFileHandle) || rc != pmem2.CodeOf(err) {
			t.Errorf("C %d, Go %d", rc, pmem2.CodeOf(err))
		}
		if rc := clib.SourceFromFDLoop(fd, 10); rc != int(pmem2.ErrInvalidFileHandle) {
			t.Errorf("SourceFromFDLoop = %d", rc)
		}
		if rc, _ := clib.Size(fd); rc != int(pmem2.ErrInvalidFileHandle) {
			t.Errorf("Size = %d", rc)
		}
	})
	t.Run("realpath resolves what exists and fails with the errno of what does not", func(t *testing.T) {
		if err := clib.RealpathLoop(file, 3); err != nil {
			t.Errorf("RealpathLoop(%s) = %v", file, err)
		}
		if err := clib.RealpathLoop(file+"/x", 1); err != syscall.ENOTDIR {
			t.Errorf("RealpathLoop(%s/x) = %v, want ENOTDIR", file, err)
		}
	})
	t.Run("a negative descriptor is an invalid handle", func(t *testing.T) {
		if rc := clib.SourceFromFD(-1); rc != int(pmem2.ErrInvalidFileHandle) {
			t.Errorf("SourceFromFD(-1) = %d", rc)
		}
	})
}
