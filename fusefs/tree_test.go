package fusefs_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

func TestInvalidTreesAreRefusedNamingThePath(t *testing.T) {
	tests := []struct {
		name, path string
		node       *fusefs.Node
		parent     *fusefs.Node // declared at "p" when set
	}{
		{"an absolute path", "/abs", fusefs.File(""), nil},
		{"a path with ..", "../up", fusefs.File(""), nil},
		{"a path that is not clean", "a//b", fusefs.File(""), nil},
		{"an empty path", "", fusefs.File(""), nil},
		{"a name over 255 bytes", strings.Repeat("n", 256), fusefs.File(""), nil},
		{"a nil node", "nil", nil, nil},
		{"an unknown type", "odd", &fusefs.Node{Type: 42}, nil},
		{"a root that is not a directory", ".", fusefs.File(""), nil},
		{"mode bits outside 07777", "m", &fusefs.Node{Type: fusefs.TypeFile, Mode: 010000}, nil},
		{"data on a directory", "d", &fusefs.Node{Type: fusefs.TypeDir, Data: []byte("x")}, nil},
		{"a negative size", "s", &fusefs.Node{Type: fusefs.TypeFile, Size: -1}, nil},
		{"a target on a file", "f", &fusefs.Node{Type: fusefs.TypeFile, Target: "x"}, nil},
		{"an empty symlink target", "l", &fusefs.Node{Type: fusefs.TypeSymlink}, nil},
		{"a symlink target over 4095 bytes", "l", fusefs.Symlink(strings.Repeat("t", 4096)), nil},
		{"a device number on a FIFO", "p", &fusefs.Node{Type: fusefs.TypeFIFO, Major: 1}, nil},
		{"a major over 4095", "c", fusefs.CharDev(4096, 0), nil},
		{"a minor over 2^20-1", "c", fusefs.CharDev(1, 1<<20), nil},
		{"a child of a file", "p/child", fusefs.File(""), fusefs.File("")},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			tree := fusefs.Tree{tt.path: tt.node}
			if tt.parent != nil {
				tree["p"] = tt.parent
			}
			err := tree.Validate()
			if !errors.Is(err, fusefs.ErrInvalidNode) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Validate: %v; want ErrInvalidNode naming %q", err, tt.path)
			}
			if _, err := fusefs.Mount(t.TempDir(), tree, nil); !errors.Is(err, fusefs.ErrInvalidNode) {
				t.Errorf("Mount: %v", err)
			}
		})
	}
	t.Run("every problem is reported", func(t *testing.T) {
		err := fusefs.Tree{"/a": fusefs.File(""), "b/../c": fusefs.File("")}.Validate()
		if err == nil || !strings.Contains(err.Error(), "/a") || !strings.Contains(err.Error(), "b/../c") {
			t.Errorf("Validate: %v", err)
		}
	})
	t.Run("a valid tree mounts", func(t *testing.T) {
		tree := kinds()
		require.NoError(t, tree.Validate())
		mount(t, tree, nil)
	})
}

func TestParseErrnoKnowsEveryName(t *testing.T) {
	tests := []struct {
		name string
		want syscall.Errno
	}{
		{"EIO", syscall.EIO},
		{"ENOTCONN", syscall.ENOTCONN},
		{"EHWPOISON", syscall.Errno(133)},
		{"enxio", syscall.ENXIO},
		{"EWOULDBLOCK", syscall.EAGAIN},
		{"ENOTSUP", syscall.EOPNOTSUPP},
		{"5", syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name+" parses and reaches a read", func(t *testing.T) {
			e, err := fusefs.ParseErrno(tt.name)
			if err != nil || e != tt.want {
				t.Fatalf("ParseErrno(%q) = %v, %v; want %v", tt.name, e, err, tt.want)
			}
			if fusefs.ErrnoName(e) == "" {
				t.Error("no name back")
			}
			srv, _ := mount(t, fusefs.Tree{"f": fusefs.File("x")}, &fusefs.Options{Faults: []fusefs.Fault{{Path: "f", Op: fusefs.OpOpen, Errno: e}}})
			_, err = osOpen(srv.Dir() + "/f")
			wantErrno(t, "open", err, e)
		})
	}
	for _, bad := range []string{"", "EWHATEVER", "0", "-1", "99999"} {
		if _, err := fusefs.ParseErrno(bad); err == nil {
			t.Errorf("ParseErrno(%q) accepted", bad)
		}
	}
}
