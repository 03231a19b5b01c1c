package testutil

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// OpenFD opens path with flags|O_CLOEXEC (mode 0644 should flags create
// it) and closes the descriptor when the test ends; a test that closes it
// itself makes that close fail harmlessly.
func OpenFD(t testing.TB, path string, flags int) int {
	t.Helper()
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatalf("open %s (flags %#x): %v", path, flags, err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return fd
}

// DirNames lists dir in the order the file system gives (getdents, unsorted:
// the order a client such as libndctl walks), without "." and "..".
func DirNames(t testing.TB, dir string) []string {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	return names
}
