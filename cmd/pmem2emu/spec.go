package main

import (
	"flag"
	"fmt"

	"github.com/pmem2emu/pmem2emu/emulate"
)

var specCmd = &command{
	name:  "spec",
	args:  "",
	short: "print the built-in default spec, or validate a spec file",
	long: `With --default, prints the built-in fixture spec as JSON: every Device DAX, pmem device,
node, fault rule and expectation 'pmem2emu check' uses — a starting point for your own.
With --validate FILE, decodes FILE strictly and lists every rule it breaks, each with its
JSON location (exit status 1), or prints "FILE: valid" (exit status 0).`,
	example: `pmem2emu spec --default > my.json
pmem2emu spec --validate my.json`,
	flags: func(fs *flag.FlagSet) func(*env, []string) int {
		def := fs.Bool("default", false, "print the built-in default spec as JSON")
		validate := fs.String("validate", "", "validate this spec file")
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return e.fail("spec", usagef("unexpected argument %q", args[0]))
			}
			switch {
			case *def && *validate != "":
				return e.fail("spec", usagef("--default and --validate exclude each other"))
			case *def:
				out, err := emulate.Default().Indent()
				if err != nil {
					return e.fail("spec", err)
				}
				e.stdout.Write(out)
				return exitOK
			case *validate != "":
				if _, err := emulate.LoadSpec(*validate); err != nil {
					return e.fail("spec", err)
				}
				fmt.Fprintf(e.stdout, "%s: valid\n", *validate)
				return exitOK
			}
			return e.fail("spec", usagef("give --default or --validate FILE"))
		}
	},
}
