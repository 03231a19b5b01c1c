package emulate

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// nameMax is the longest file name the kernel accepts (NAME_MAX).
const nameMax = 255

// checkPath applies the path rules of the spec: relative, non-empty, no
// ".", ".." or empty components, no NUL, no name longer than NAME_MAX.
// With glob set, path.Match patterns and "**" components are allowed too.
func checkPath(p *problems, loc, s string, glob bool) bool {
	switch {
	case s == "":
		p.add(loc, "path-empty", "path is empty")
		return false
	case strings.IndexByte(s, 0) >= 0:
		p.add(loc, "path-nul", quote(s)+": a path must not contain a NUL byte")
		return false
	case strings.HasPrefix(s, "/"):
		p.add(loc, "path-absolute", quote(s)+": a path is relative to the mount root and must not start with /")
		return false
	}
	for _, c := range strings.Split(s, "/") {
		switch {
		case c == "":
			p.add(loc, "path-empty-component", quote(s)+": empty path component (doubled or trailing /)")
			return false
		case c == ".":
			p.add(loc, "path-dot", quote(s)+`: a path must not contain "." components`)
			return false
		case c == "..":
			p.add(loc, "path-dot-dot", quote(s)+`: a path must not contain ".." components`)
			return false
		case len(c) > nameMax:
			p.add(loc, "path-name-too-long", quote(s)+": a component is longer than 255 bytes")
			return false
		}
	}
	if glob {
		// Per component, as fusefs compiles the pattern: a "\" before a
		// "/" escapes nothing there.
		for _, c := range strings.Split(s, "/") {
			if _, err := path.Match(c, ""); err != nil {
				p.add(loc, "bad-glob", quote(s)+": component "+quote(c)+" is not a valid path.Match pattern: "+err.Error())
				return false
			}
		}
	}
	return true
}

// maxLinks is how many symlinks one resolution follows before it gives up
// with ELOOP, as the kernel does (MAXSYMLINKS).
const maxLinks = 40

// resolve follows the symlinks among the parents of p (and, with follow,
// at p itself) inside the fixture, as the kernel would on a lookup below
// the mount root, and returns the path p names there. lookup gives the
// node at a path. A path that runs into a missing node is returned as far
// as it is resolved with the rest appended; a link leading out of the
// fixture, or a loop, is an error.
func resolve(p string, lookup func(string) (fusefs.Node, bool), follow bool) (string, error) {
	parts := strings.Split(p, "/")
	cur, links := "", 0
	for i := 0; i < len(parts); i++ {
		next := path.Join(cur, parts[i])
		if i == len(parts)-1 && !follow {
			return next, nil
		}
		n, ok := lookup(next)
		if !ok || n.Type != fusefs.TypeSymlink {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("%q: more than %d symlinks on the way (%w)", p, maxLinks, syscall.ELOOP)
		}
		to := path.Join(cur, n.Target)
		if strings.HasPrefix(n.Target, "/") || to == ".." || strings.HasPrefix(to, "../") {
			return "", fmt.Errorf("%q: symlink %s → %s leads out of the fixture", p, next, n.Target)
		}
		rest := parts[i+1:]
		parts = append(strings.Split(to, "/"), rest...)
		cur, i = "", -1
	}
	return strings.TrimPrefix(path.Clean("/"+cur), "/"), nil
}

// treeLookup is resolve's lookup in a generated tree.
func treeLookup(t fusefs.Tree) func(string) (fusefs.Node, bool) {
	return func(p string) (fusefs.Node, bool) {
		n, ok := t[p]
		if !ok {
			return fusefs.Node{}, false
		}
		return *n, true
	}
}

// isGlob reports whether a fault path is a pattern rather than a path.
func isGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// rel is the relative symlink target that leads from directory fromDir to
// path to, both relative to the mount root, as the kernel writes sysfs
// links (kernfs_get_target_path): up to the nearest common ancestor of
// fromDir and the target's parent, then down, so a link to an ancestor
// still names it ("device" → "../../../dax0.1", not "../..").
func rel(fromDir, to string) string {
	from := strings.Split(fromDir, "/")
	dst := strings.Split(to, "/")
	i := 0
	for i < len(from) && i < len(dst)-1 && from[i] == dst[i] {
		i++
	}
	parts := make([]string, 0, len(from)-i+len(dst)-i)
	for range from[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, dst[i:]...)
	return strings.Join(parts, "/")
}

// ancestors lists the proper ancestors of p, nearest last: "a/b/c" → a, a/b.
func ancestors(p string) []string {
	var out []string
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

func quote(s string) string { return strconv.Quote(s) }

func itoa(n int) string { return strconv.Itoa(n) }

func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
