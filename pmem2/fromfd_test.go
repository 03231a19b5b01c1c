package pmem2

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

func TestSourceFromFDChecksLikeC(t *testing.T) {
	testutil.RootOnly(t, "it makes a block device node with mknod")
	file := tempFile(t, "0123456789")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o644))
	// A block device node opened with O_PATH: the kernel never opens the
	// device behind it, and 7:255 is a loop device number, not a disk.
	blk := filepath.Join(dir, "blk")
	if err := unix.Mknod(blk, unix.S_IFBLK|0o600, int(unix.Mkdev(7, 255))); err != nil {
		t.Fatalf("mknod: %v", err)
	}
	closed := testutil.OpenFD(t, file, unix.O_RDONLY)
	unix.Close(closed)

	tests := []struct {
		name string
		fd   func(t *testing.T) int
		want Code
		typ  FileType
	}{
		{"a negative fd is an invalid file handle", func(*testing.T) int { return -1 }, ErrInvalidFileHandle, 0},
		{"a closed fd is an invalid file handle", func(*testing.T) int { return closed }, ErrInvalidFileHandle, 0},
		{"an fd number never opened is an invalid file handle", func(*testing.T) int { return 1 << 20 }, ErrInvalidFileHandle, 0},
		{"a regular file opened O_RDONLY is a regular source", func(t *testing.T) int { return testutil.OpenFD(t, file, unix.O_RDONLY) }, 0, FileTypeRegular},
		{"a regular file opened O_RDWR is a regular source", func(t *testing.T) int { return testutil.OpenFD(t, file, unix.O_RDWR) }, 0, FileTypeRegular},
		{"a regular file opened O_PATH is accepted as in C", func(t *testing.T) int { return testutil.OpenFD(t, file, unix.O_PATH) }, 0, FileTypeRegular},
		{"a regular file opened O_WRONLY is an invalid file handle", func(t *testing.T) int { return testutil.OpenFD(t, file, unix.O_WRONLY) }, ErrInvalidFileHandle, 0},
		{"a regular file opened O_WRONLY|O_APPEND is an invalid file handle", func(t *testing.T) int { return testutil.OpenFD(t, file, unix.O_WRONLY|unix.O_APPEND) }, ErrInvalidFileHandle, 0},
		{"a directory is an invalid file type", func(t *testing.T) int { return testutil.OpenFD(t, dir, unix.O_RDONLY|unix.O_DIRECTORY) }, ErrInvalidFileType, 0},
		{"a directory opened O_PATH is an invalid file type", func(t *testing.T) int { return testutil.OpenFD(t, dir, unix.O_PATH) }, ErrInvalidFileType, 0},
		{"a FIFO is an invalid file type", func(t *testing.T) int { return testutil.OpenFD(t, fifo, unix.O_RDONLY|unix.O_NONBLOCK) }, ErrInvalidFileType, 0},
		{"the read end of a pipe is an invalid file type", func(t *testing.T) int { return pipeEnd(t, 0) }, ErrInvalidFileType, 0},
		{"the write end of a pipe fails the access mode check before the type check", func(t *testing.T) int { return pipeEnd(t, 1) }, ErrInvalidFileHandle, 0},
		{"a socket is an invalid file type", socketFD, ErrInvalidFileType, 0},
		{"a block device is an invalid file type", func(t *testing.T) int { return testutil.OpenFD(t, blk, unix.O_PATH) }, ErrInvalidFileType, 0},
		{"a symlink opened O_PATH|O_NOFOLLOW is an invalid file type", func(t *testing.T) int {
			l := filepath.Join(t.TempDir(), "l")
			require.NoError(t, os.Symlink(file, l))
			return testutil.OpenFD(t, l, unix.O_PATH|unix.O_NOFOLLOW)
		}, ErrInvalidFileType, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := SourceFromFD(tt.fd(t))
			wantCode(t, err, tt.want)
			if tt.want != 0 {
				if src != nil {
					t.Fatalf("got a source with an error")
				}
				return
			}
			if src.Type() != tt.typ {
				t.Fatalf("type %v, want %v", src.Type(), tt.typ)
			}
		})
	}
}

func pipeEnd(t *testing.T, end int) int {
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[end]
}

func socketFD(t *testing.T) int {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0]
}

func TestSourceFromFDErrorsNameTheStep(t *testing.T) {
	closed := testutil.OpenFD(t, tempFile(t, ""), unix.O_RDONLY)
	unix.Close(closed)
	_, err := SourceFromFD(closed)
	if !errors.Is(err, syscall.EBADF) || !errors.Is(err, ErrInvalidFileHandle) {
		t.Fatalf("a closed fd: %v is not both EBADF and PMEM2_E_INVALID_FILE_HANDLE", err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Func != "pmem2_source_from_fd" || pe.Op != "fcntl(F_GETFL)" {
		t.Fatalf("a closed fd: %#v", pe)
	}
	if got := err.Error(); got != "pmem2_source_from_fd: fcntl(F_GETFL): PMEM2_E_INVALID_FILE_HANDLE: bad file descriptor" {
		t.Fatalf("message %q", got)
	}
}

func TestASourceHoldsTheFDNumberNotTheFile(t *testing.T) {
	fd := testutil.OpenFD(t, tempFile(t, "0123456789"), unix.O_RDONLY)
	src, err := SourceFromFD(fd)
	wantCode(t, err, 0)
	// Reuse the number for another file, as C would see it.
	other := testutil.OpenFD(t, tempFile(t, "twenty bytes long!!!"), unix.O_RDONLY)
	require.NoError(t, unix.Dup3(other, fd, unix.O_CLOEXEC))
	size, err := src.Size()
	wantCode(t, err, 0)
	if size != 20 {
		t.Fatalf("size %d after the fd number was reused, want the new file's 20", size)
	}
	if got, _ := src.FD(); got != fd {
		t.Fatalf("FD %d, want %d", got, fd)
	}
	// Closing the number under the source: fstat fails with EBADF.
	unix.Close(fd)
	_, err = src.Size()
	wantCode(t, err, ErrInvalidFileHandle)
	if !errors.Is(err, syscall.EBADF) {
		t.Fatalf("%v is not EBADF", err)
	}
}

func TestRegularSourceSizeAndAlignment(t *testing.T) {
	for _, mode := range []struct {
		name  string
		flags int
	}{{"O_RDONLY", unix.O_RDONLY}, {"O_RDWR", unix.O_RDWR}, {"O_PATH", unix.O_PATH}} {
		t.Run("a regular file opened "+mode.name+" has its st_size and the page size", func(t *testing.T) {
			src, err := SourceFromFD(testutil.OpenFD(t, tempFile(t, "0123456789"), mode.flags))
			wantCode(t, err, 0)
			size, err := src.Size()
			wantCode(t, err, 0)
			align, err := src.Alignment()
			wantCode(t, err, 0)
			if size != 10 || align != uint64(os.Getpagesize()) {
				t.Fatalf("size %d alignment %d, want 10 and %d", size, align, os.Getpagesize())
			}
		})
	}
}

func TestAnonymousSource(t *testing.T) {
	src, err := SourceFromAnon(12345)
	wantCode(t, err, 0)
	if src.Type() != FileTypeAnon || src.Type().String() != "anon" {
		t.Fatalf("type %v", src.Type())
	}
	size, err := src.Size()
	wantCode(t, err, 0)
	align, err := src.Alignment()
	wantCode(t, err, 0)
	if size != 12345 || align != uint64(os.Getpagesize()) {
		t.Fatalf("size %d alignment %d", size, align)
	}
	_, err = src.FD()
	wantCode(t, err, ErrFileDescriptorNotSet)
	_, err = src.ReadAt(make([]byte, 1), 0)
	wantCode(t, err, ErrSourceTypeNotSupported)
	_, err = src.WriteAt(make([]byte, 1), 0)
	wantCode(t, err, ErrSourceTypeNotSupported)
}

func TestFileTypeNames(t *testing.T) {
	for typ, want := range map[FileType]string{
		FileTypeUnknown: "unknown", FileTypeRegular: "regular", FileTypeDevDAX: "devdax", FileTypeAnon: "anon",
	} {
		if typ.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(typ), typ.String(), want)
		}
	}
}
