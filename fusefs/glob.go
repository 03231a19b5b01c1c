package fusefs

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// matcher matches node paths against a Fault.Path: an exact path, or a
// path.Match glob per component where a "**" component matches any number
// of components (zero included, so "**" matches the root too).
type matcher struct {
	pattern string
	literal bool
	parts   []string
}

func compileGlob(p string) (matcher, error) {
	m := matcher{pattern: p, literal: !strings.ContainsAny(p, `*?[\`)}
	if msg := pathProblem(p); msg != "" {
		return m, errors.New(msg)
	}
	if m.literal {
		return m, nil
	}
	for _, c := range strings.Split(p, "/") {
		if _, err := path.Match(c, ""); err != nil {
			return m, fmt.Errorf("bad glob component %q: %v", c, err)
		}
		if c == "**" && len(m.parts) > 0 && m.parts[len(m.parts)-1] == "**" {
			continue
		}
		m.parts = append(m.parts, c)
	}
	if len(m.parts) == 1 && m.parts[0] == "." {
		m.parts = nil
	}
	return m, nil
}

func (m *matcher) match(p string) bool {
	if m.literal {
		return p == m.pattern
	}
	var comps []string
	if p != "." {
		comps = strings.Split(p, "/")
	}
	return matchParts(m.parts, comps)
}

// matchParts matches path components against pattern components by
// dynamic programming: a pattern of many "**" stays linear per component
// instead of backtracking exponentially (a hostile spec cannot stall the
// server).
func matchParts(pat, name []string) bool {
	// ok[j]: the pattern components seen so far match name[:j].
	ok := make([]bool, len(name)+1)
	next := make([]bool, len(name)+1)
	ok[0] = true
	for _, p := range pat {
		if p == "**" {
			reach := false
			for j := range ok {
				reach = reach || ok[j]
				next[j] = reach
			}
		} else {
			next[0] = false
			for j := 1; j <= len(name); j++ {
				next[j] = false
				if ok[j-1] {
					next[j], _ = path.Match(p, name[j-1])
				}
			}
		}
		ok, next = next, ok
	}
	return ok[len(name)]
}

// MatchPath reports whether the node path name is matched by pattern, as a
// Fault.Path matches: pattern is an exact path, or a path.Match glob per
// component where a "**" component matches any number of components. A
// malformed pattern matches nothing.
func MatchPath(pattern, name string) bool {
	m, err := compileGlob(pattern)
	return err == nil && m.match(name)
}
