package pmem2

import (
	"errors"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// everyMethod calls each method of src that can fail and returns the errors.
func everyMethod(src *Source) map[string]error {
	p := make([]byte, 1)
	_, fdErr := src.FD()
	_, sizeErr := src.Size()
	_, alignErr := src.Alignment()
	_, readErr := src.ReadAt(p, 0)
	_, writeErr := src.WriteAt(p, 0)
	return map[string]error{"FD": fdErr, "Size": sizeErr, "Alignment": alignErr, "ReadAt": readErr, "WriteAt": writeErr}
}

func TestDeletedSources(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	regular, err := SourceFromFD(testutil.OpenFD(t, tempFile(t, "data"), unix.O_RDWR))
	wantCode(t, err, 0)
	anon, _ := SourceFromAnon(4096)
	sources := map[string]*Source{
		"a deleted regular source":    regular,
		"a deleted Device DAX source": daxSource(t, s, unix.O_RDWR),
		"a deleted anonymous source":  anon,
		"a nil source":                nil,
		"a zero Source":               new(Source),
	}
	for name, src := range sources {
		t.Run(name+" fails every method with ErrDeleted", func(t *testing.T) {
			for i := 0; i < 2; i++ {
				if err := src.Delete(); err != nil {
					t.Fatalf("Delete #%d: %v", i+1, err)
				}
			}
			if src.Type() != FileTypeUnknown {
				t.Fatalf("type %v", src.Type())
			}
			for m, err := range everyMethod(src) {
				if !errors.Is(err, ErrDeleted) {
					t.Fatalf("%s: %v is not ErrDeleted", m, err)
				}
				wantCode(t, err, ErrInvalidFileHandle)
			}
		})
	}
	t.Run("Delete never closes the descriptor", func(t *testing.T) {
		fd := testutil.OpenFD(t, tempFile(t, ""), unix.O_RDONLY)
		src, err := SourceFromFD(fd)
		wantCode(t, err, 0)
		src.Delete()
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			t.Fatalf("fd %d after Delete: %v", fd, err)
		}
	})
}

func TestOneSourceUsedFromManyGoroutinesWhileDeleted(t *testing.T) {
	s := newSysfs(t)
	s.busDAX("1:5")
	for name, src := range map[string]*Source{
		"regular":    mustSource(t, testutil.OpenFD(t, tempFile(t, "some bytes"), unix.O_RDWR)),
		"Device DAX": daxSource(t, s, unix.O_RDWR),
	} {
		t.Run("a "+name+" source answers or says deleted, and never anything else", func(t *testing.T) {
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, 1000)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for i := 0; i < 20; i++ {
						for m, err := range everyMethod(src) {
							if err != nil && !errors.Is(err, ErrDeleted) {
								errs <- errors.New(m + ": " + err.Error())
							}
						}
						_ = src.Type()
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; i < 5; i++ {
					_ = src.Delete()
				}
			}()
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if src.Type() != FileTypeUnknown {
				t.Fatalf("type %v after Delete", src.Type())
			}
		})
	}
}

func mustSource(t *testing.T, fd int, opts ...Option) *Source {
	t.Helper()
	src, err := SourceFromFD(fd, opts...)
	wantCode(t, err, 0)
	return src
}
