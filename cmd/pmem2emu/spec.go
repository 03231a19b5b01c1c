package main

import (
	"fmt"

	"github.com/pmem2emu/pmem2emu/emulate"
)

var specCmd = &command{
	name:  "spec",
	short: "print a built-in spec, or validate a spec file",
	long: `With --default, prints the built-in fixture spec as JSON: every Device DAX, pmem device,
node, fault rule and expectation 'pmem2emu check' (and 'mount') uses — a starting point for
your own. With --healthy, the quiet fixture 'pmem2emu exec' uses without --spec: the default
without its deliberately broken devices and faults. With --validate FILE, decodes FILE strictly and lists every rule it breaks, each with its
JSON location (exit status 1), or prints "FILE: valid" (exit status 0).`,
	example: `pmem2emu spec --default > my.json
pmem2emu spec --healthy
pmem2emu spec --validate my.json`,
	run: runSpec,
}

func runSpec(e *env, args []string) int {
	def := e.flags.Bool("default", false, "print the built-in default spec as JSON (check, mount)")
	healthy := e.flags.Bool("healthy", false, "print the quiet spec exec uses without --spec as JSON")
	validate := e.flags.String("validate", "", "validate this spec file")
	args, err := e.parse(args)
	if err != nil {
		return e.fail(err)
	}
	given := 0
	for _, b := range []bool{*def, *healthy, *validate != ""} {
		if b {
			given++
		}
	}
	switch {
	case len(args) > 0:
		return e.fail(usagef("unexpected argument %q", args[0]))
	case given > 1:
		return e.fail(usagef("--default, --healthy and --validate exclude each other"))
	case *def || *healthy:
		s := emulate.Default()
		if *healthy {
			s = emulate.Healthy()
		}
		out, err := s.Indent()
		if err != nil {
			return e.fail(err)
		}
		e.stdout.Write(out)
		return exitOK
	case *validate != "":
		if _, err := emulate.LoadSpec(*validate); err != nil {
			return e.fail(err)
		}
		fmt.Fprintf(e.stdout, "%s: valid\n", *validate)
		return exitOK
	}
	return e.fail(usagef("give --default, --healthy or --validate FILE"))
}
