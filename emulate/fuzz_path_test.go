package emulate_test

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

// validPath is the spec's path rule written out again from its
// documentation, independently of the code under test: relative, not
// empty, no ".", ".." or empty components, no NUL, no component longer
// than 255 bytes.
func validPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.IndexByte(p, 0) >= 0 {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." || len(c) > 255 {
			return false
		}
	}
	return true
}

// pathRuleBroken reports whether err holds a path rule (path-* or
// bad-glob) broken at loc.
func pathRuleBroken(err error, loc string) bool {
	var es emulate.SpecErrors
	if !errors.As(err, &es) {
		return false
	}
	for _, e := range es {
		if e.Loc == loc && (strings.HasPrefix(e.Rule, "path-") || e.Rule == "bad-glob") {
			return true
		}
	}
	return false
}

// checkAccepted holds an accepted spec to what serving it needs: a tree
// fusefs takes, whose every path stays below the mount root.
func checkAccepted(t *testing.T, s *emulate.Spec) {
	t.Helper()
	tree, err := s.Tree()
	if err != nil {
		t.Fatalf("Validate accepted a spec Tree rejects: %v", err)
	}
	if err := tree.Validate(); err != nil {
		t.Fatalf("emulate accepted a tree fusefs rejects: %v", err)
	}
	const root = "/mnt/fixture"
	for k := range tree {
		if k == "." {
			continue
		}
		if path.Clean(k) != k || strings.HasPrefix(k, "/") || k == ".." || strings.HasPrefix(k, "../") {
			t.Fatalf("tree path %q is not clean and relative", k)
		}
		if j := filepath.Join(root, k); !strings.HasPrefix(j, root+"/") {
			t.Fatalf("tree path %q leaves the mount root: %s", k, j)
		}
	}
}

// FuzzNodePath: the spec's path validation of a declared node agrees with
// the documented rule; every message is valid UTF-8 and names the JSON
// location; what it accepts fusefs serves, below the mount root.
func FuzzNodePath(f *testing.F) {
	for _, s := range []string{
		"data/file", "a", "sys/extra", "dev/null0", "a/../b", "../etc/passwd", "/etc/passwd", "./a", "a/./b",
		"a//b", "a/", "", ".", "..", "a\x00b", strings.Repeat("n", 255), strings.Repeat("n", 256),
		"a/" + strings.Repeat("n", 256) + "/b", "\xff\xfe", "d\xc3\x28/e", "sys", "dev", "sys/dev/char/252:0",
		"a\\b", "*", "a/**/b", "[", "~root", "a/\u202e/b", "a\nb",
	} {
		f.Add(s, uint8(0))
	}
	types := []fusefs.NodeType{fusefs.TypeFile, fusefs.TypeDir, fusefs.TypeSymlink, fusefs.TypeFIFO, fusefs.TypeSocket, fusefs.TypeCharDev}
	f.Fuzz(func(t *testing.T, p string, typ uint8) {
		n := emulate.Node{Path: p, Type: types[int(typ)%len(types)]}
		switch n.Type {
		case fusefs.TypeSymlink:
			n.Target = "target"
		case fusefs.TypeCharDev:
			n.Major, n.Minor = 1, 3
		}
		s := &emulate.Spec{Nodes: []emulate.Node{n}}
		err := s.Validate()
		if broken := pathRuleBroken(err, "nodes[0].path"); broken == validPath(p) {
			t.Fatalf("path %q: the path rules say valid=%v, Validate says %v", p, validPath(p), err)
		}
		if err != nil {
			if !errors.Is(err, emulate.ErrInvalidSpec) {
				t.Fatalf("error %v does not match ErrInvalidSpec", err)
			}
			if !utf8.ValidString(err.Error()) || !strings.Contains(err.Error(), "nodes[0]") {
				t.Fatalf("message %q is not valid UTF-8 or does not name nodes[0]", err.Error())
			}
			return
		}
		checkAccepted(t, s)
	})
}

// FuzzFaultPath: a fault rule's path (a path or a glob) is accepted by
// emulate only if fusefs accepts the rule too — else a spec that validates
// would fail to mount — and a path without glob characters only when it
// names a node.
func FuzzFaultPath(f *testing.F) {
	for _, s := range []string{
		"data/f", "data/*", "**/f", "data/**", "**", "*", "[", "data/[a-", `data/\`, `data/\*`, "data/f/",
		"/data/f", "../data/f", "data/../data/f", "data/g", "data", "d?ta/f", "**/**/f", "a/**b", "\xff*",
		strings.Repeat("*", 300), "data/" + strings.Repeat("x", 256), "[^]", "[]", "[\\]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		s := &emulate.Spec{
			Nodes:  []emulate.Node{{Path: "data/f", Type: fusefs.TypeFile}},
			Faults: []emulate.Fault{{Path: p, Op: fusefs.OpRead, Errno: syscall.EIO}},
		}
		err := s.Validate()
		glob := strings.ContainsAny(p, `*?[\`)
		if !validPath(p) && !pathRuleBroken(err, "faults[0].path") {
			t.Fatalf("fault path %q breaks the path rules, Validate says %v", p, err)
		}
		if err != nil {
			if !errors.Is(err, emulate.ErrInvalidSpec) || !utf8.ValidString(err.Error()) {
				t.Fatalf("error %q: want ErrInvalidSpec and valid UTF-8", err.Error())
			}
			return
		}
		if !glob && p != "data/f" && p != "data" {
			t.Fatalf("fault path %q names no node, yet it is accepted", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			t.Fatalf("fault path %q is accepted but not a valid pattern: %v", p, err)
		}
		if err := (fusefs.Fault{Path: p, Op: fusefs.OpRead, Errno: 5}).Validate(); err != nil {
			t.Fatalf("emulate accepts fault path %q, fusefs refuses it: %v", p, err)
		}
		checkAccepted(t, s)
	})
}
