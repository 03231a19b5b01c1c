package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses shared by every subcommand.
const (
	exitOK    = 0
	exitFail  = 1 // the job ran and found a problem, or could not run
	exitUsage = 2 // bad flags or arguments
)

// command is one subcommand: its flags live in its own FlagSet, built fresh
// for every run so that run stays re-entrant for tests.
type command struct {
	name    string
	args    string // the synopsis after the flags, e.g. "MOUNTPOINT"
	short   string // one line for the command list
	long    string // what it does, for -h
	example string
	flags   func(fs *flag.FlagSet) func(env *env, args []string) int
}

// env is what a subcommand may touch: its output streams. Nothing reads
// os.Stdout or calls os.Exit below run.
type env struct {
	stdout, stderr io.Writer
}

// usageError is returned by argument checks; it becomes exit status 2 with a
// one-line message.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// commands in the order `pmem2emu help` lists them.
var commands = []*command{checkCmd, mountCmd, probeCmd, execCmd, umountCmd, specCmd}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is main without os.Exit: it parses args, runs one subcommand and
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printCommands(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				c.usage(stdout, nil)
				return exitOK
			}
			fmt.Fprintf(stderr, "pmem2emu: unknown command %q (run 'pmem2emu help')\n", args[1])
			return exitUsage
		}
		printCommands(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "pmem2emu: unknown command %q (run 'pmem2emu help')\n", name)
		return exitUsage
	}
	fs := flag.NewFlagSet("pmem2emu "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	body := c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "pmem2emu %s: %v (run 'pmem2emu %s -h')\n", c.name, err, c.name)
		return exitUsage
	}
	return body(e, fs.Args())
}

// fail reports err on stderr under the command's name and picks the exit
// status: 2 for usage errors, 1 otherwise.
func (e *env) fail(c string, err error) int {
	fmt.Fprintf(e.stderr, "pmem2emu %s: %v\n", c, err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFail
}

func (c *command) usage(w io.Writer, fs *flag.FlagSet) {
	if fs == nil {
		fs = flag.NewFlagSet("pmem2emu "+c.name, flag.ContinueOnError)
		c.flags(fs)
	}
	fmt.Fprintf(w, "usage: %s\n\n%s\n", strings.TrimSpace("pmem2emu "+c.name+" [flags] "+c.args), strings.TrimSpace(c.long))
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s", flags.String())
	}
	if c.example != "" {
		fmt.Fprintf(w, "\nexample:\n%s\n", strings.TrimRight(indent(c.example), "\n"))
	}
}

func printCommands(w io.Writer) {
	fmt.Fprintf(w, "pmem2emu emulates Device DAX and pmem in a fake /sys and /dev served through FUSE,\n")
	fmt.Fprintf(w, "and checks the pmem2 library (or any program) against it.\n\nusage: pmem2emu COMMAND [flags] [args]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\nRun 'pmem2emu COMMAND -h' for a command's flags and an example.\n")
}

func indent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}
