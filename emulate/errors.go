package emulate

import (
	"errors"
	"strings"
)

// ErrInvalidSpec is matched (errors.Is) by every error that rejects a
// spec, whether from Decode, Validate, Tree, Start or Mount.
var ErrInvalidSpec = errors.New("invalid fixture spec")

// SpecError is one broken rule at one location of a spec. Loc is the JSON
// location ("nodes[3].path", "dax_devices[0]", "" for the document);
// Rule is a stable short name of the rule ("path-dot-dot", "unknown-field"
// …; see rules.go); Msg says what is wrong in words.
type SpecError struct {
	Loc  string
	Rule string
	Msg  string
}

func (e *SpecError) Error() string {
	loc := e.Loc
	if loc == "" {
		loc = "spec"
	}
	return loc + ": " + e.Msg + " (rule " + e.Rule + ")"
}

// Is makes every SpecError match ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// SpecErrors is every rule a spec breaks: decoding problems first, then
// the rules the decoded fields break.
type SpecErrors []*SpecError

func (es SpecErrors) Error() string {
	var b strings.Builder
	b.WriteString("emulate: invalid fixture spec: ")
	if len(es) == 1 {
		b.WriteString(es[0].Error())
		return b.String()
	}
	b.WriteString(itoa(len(es)) + " errors:")
	for _, e := range es {
		b.WriteString("\n\t" + e.Error())
	}
	return b.String()
}

// Unwrap gives each SpecError to errors.Is and errors.As.
func (es SpecErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Is matches ErrInvalidSpec.
func (es SpecErrors) Is(target error) bool { return target == ErrInvalidSpec }

// problems collects SpecErrors while a spec is decoded or checked.
type problems struct{ list SpecErrors }

func (p *problems) add(loc, rule, msg string) {
	p.list = append(p.list, &SpecError{Loc: loc, Rule: rule, Msg: msg})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list
}
