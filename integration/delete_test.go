package integration_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// TestDelete covers pmem2_source_delete and every method of a source that
// is gone: no panic, no system call, INVALID_FILE_HANDLE wrapping
// ErrDeleted.
func TestDelete(t *testing.T) {
	t.Run("deleting a nil source does nothing", func(t *testing.T) {
		var src *pmem2.Source
		if err := src.Delete(); err != nil {
			t.Errorf("Delete() on nil = %v, want nil", err)
		}
	})

	t.Run("deleting twice returns nil both times", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "data/small", rdonly)
		for i := range 2 {
			if err := src.Delete(); err != nil {
				t.Errorf("Delete() #%d = %v, want nil", i+1, err)
			}
		}
		if got := src.Type(); got != pmem2.FileTypeUnknown {
			t.Errorf("Type() after Delete = %v, want unknown", got)
		}
	})

	t.Run("deleting leaves the descriptor open: it stays the caller's", func(t *testing.T) {
		f := start(t, nil)
		src, fd := newSource(t, f, "data/small", rdonly)
		require.NoError(t, src.Delete())
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			t.Errorf("fcntl(F_GETFD) after Delete: %v: the descriptor was closed", err)
		}
		again, err := fromFD(f, fd)
		wantCode(t, err, 0)
		again.Delete()
	})

	t.Run("use after delete", func(t *testing.T) {
		f := start(t, nil)
		regular, _ := newSource(t, f, "data/small", rdwr)
		dax, _ := newSource(t, f, "dev/dax0.0", opath)
		anon, _ := pmem2.SourceFromAnon(4096)
		for _, c := range []struct {
			kind string
			src  *pmem2.Source
		}{{"a deleted regular source", regular}, {"a deleted Device DAX source", dax},
			{"a deleted anonymous source", anon}, {"a nil source", nil}} {
			require.NoError(t, c.src.Delete())
			for _, m := range methods {
				t.Run(c.kind+"'s "+m.name+" fails with ErrDeleted", func(t *testing.T) {
					v, err := m.call(c.src)
					wantCode(t, err, pmem2.ErrInvalidFileHandle)
					if !errors.Is(err, pmem2.ErrDeleted) {
						t.Errorf("errors.Is(err, ErrDeleted) is false: %v", err)
					}
					wantMsg(t, nil, err, m.fn, "source deleted")
					if v != m.zero {
						t.Errorf("%s returned %d beside its error, want %d", m.name, v, m.zero)
					}
				})
			}
			t.Run(c.kind+"'s Type is unknown", func(t *testing.T) {
				if got := c.src.Type(); got != pmem2.FileTypeUnknown {
					t.Errorf("Type() = %v, want unknown", got)
				}
			})
		}
	})

	t.Run("a deleted source touches no file", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "dev/dax0.0", opath)
		// Watching rules keep the device node out of the kernel's
		// attribute cache, so each fstat of it reaches the server.
		require.NoError(t, f.AddFault(emulate.Fault{Path: "dev/dax0.0", Op: fusefs.OpGetattr, Delay: time.Nanosecond}))
		f.Server().ResetCalls()
		for _, m := range methods {
			m.call(src)
		}
		if f.Server().Calls("dev/dax0.0", fusefs.OpGetattr) == 0 {
			t.Fatal("a live source's calls did not reach the server: the check below would prove nothing")
		}
		require.NoError(t, src.Delete())
		f.Server().ResetCalls()
		for _, m := range methods {
			m.call(src)
		}
		if calls := f.Server().CallCounts(); len(calls) != 0 {
			t.Errorf("calls reached the server after Delete: %v", calls)
		}
	})

	t.Run("Delete waits for a call in flight, which completes on the live source", func(t *testing.T) {
		f := start(t, nil)
		src, _ := newSource(t, f, "dev/dax0.0", opath)
		sizeFile := devDir(t, f, dax0Char) + "/size"
		const delay = 300 * time.Millisecond
		require.NoError(t, f.AddFault(emulate.Fault{Path: sizeFile, Op: fusefs.OpRead, Delay: delay}))
		done := make(chan error, 1)
		go func() { _, err := src.Size(); done <- err }()
		for f.Server().Calls(sizeFile, fusefs.OpRead) == 0 {
			time.Sleep(time.Millisecond)
		}
		t0 := time.Now()
		require.NoError(t, src.Delete())
		// The read was already being delayed when Delete began, so
		// Delete must have waited for most of the delay.
		if waited := time.Since(t0); waited < delay/3 {
			t.Errorf("Delete returned after %v while Size was held up for %v: it did not wait", waited, delay)
		}
		wantCode(t, <-done, 0)
		_, err := src.Size()
		wantCode(t, err, pmem2.ErrInvalidFileHandle)
	})
}

// methods are a Source's fallible methods, each reduced to one value and an
// error.
var methods = []struct {
	name, fn string
	zero     int
	call     func(*pmem2.Source) (int, error)
}{
	{"Size", "pmem2_source_size", 0, func(s *pmem2.Source) (int, error) { v, err := s.Size(); return int(v), err }},
	{"Alignment", "pmem2_source_alignment", 0, func(s *pmem2.Source) (int, error) { v, err := s.Alignment(); return int(v), err }},
	{"FD", "pmem2_source_get_fd", -1, func(s *pmem2.Source) (int, error) { return s.FD() }},
	{"ReadAt", "pmem2_source_pread_mcsafe", 0, func(s *pmem2.Source) (int, error) { return s.ReadAt(make([]byte, 4), 0) }},
	{"WriteAt", "pmem2_source_pwrite_mcsafe", 0, func(s *pmem2.Source) (int, error) { return s.WriteAt([]byte("data"), 0) }},
}
