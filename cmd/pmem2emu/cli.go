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

// command is one subcommand: its help text and the named function that
// runs it.
type command struct {
	name        string
	args        string // the synopsis after the flags, e.g. "MOUNTPOINT"
	short       string // one line for the command list
	long        string // what it does, for -h
	example     string
	commandLine bool                            // the arguments are a command line (exec): flags end at the first
	run         func(e *env, args []string) int // defines flags on e.flags, parses with e.parse, does the job
}

// env is one run of a command: a FlagSet of its own, made fresh for every
// run so that run stays re-entrant for tests, and the output streams.
// Nothing reads os.Stdout or calls os.Exit below run.
type env struct {
	cmd            *command
	flags          *flag.FlagSet
	stdout, stderr io.Writer
}

// usageError is returned by argument checks; it becomes exit status 2 with a
// one-line message.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// commands in the order `pmem2emu help` lists them.
var commands = []*command{checkCmd, mountCmd, probeCmd, execCmd, umountCmd, specCmd}

// run is main without os.Exit: it runs one subcommand and returns the
// exit status. `pmem2emu help COMMAND` is `pmem2emu COMMAND -h`.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printCommands(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			printCommands(stdout)
			return exitOK
		}
		name, rest = rest[0], []string{"-h"}
	}
	for _, c := range commands {
		if c.name == name {
			fs := flag.NewFlagSet("pmem2emu "+c.name, flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			return c.run(&env{cmd: c, flags: fs, stdout: stdout, stderr: stderr}, rest)
		}
	}
	fmt.Fprintf(stderr, "pmem2emu: unknown command %q (run 'pmem2emu help')\n", name)
	return exitUsage
}

// parse reads the command's flags wherever they stand before "--", as
// users type them ("mount DIR --force" is "mount --force DIR"), and
// returns the other arguments in order; after "--" everything is an
// argument, as written, and so is everything after the first argument of
// a commandLine command. -h prints the usage and returns flag.ErrHelp.
func (e *env) parse(args []string) ([]string, error) {
	var operands []string
	for {
		err := e.flags.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			e.usage()
			return nil, err
		} else if err != nil {
			return nil, usagef("%v (run 'pmem2emu %s -h')", err, e.cmd.name)
		}
		rest := e.flags.Args()
		if n := len(args) - len(rest); len(rest) == 0 || e.cmd.commandLine || n > 0 && args[n-1] == "--" {
			return append(operands, rest...), nil
		}
		operands, args = append(operands, rest[0]), rest[1:]
	}
}

// fail reports err on stderr under the command's name and picks the exit
// status: 2 for usage errors, 1 otherwise. flag.ErrHelp, the usage having
// been printed, is no failure: 0.
func (e *env) fail(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "pmem2emu %s: %v\n", e.cmd.name, err)
	if errors.As(err, new(usageError)) {
		return exitUsage
	}
	return exitFail
}

func (e *env) usage() {
	c, w := e.cmd, e.stdout
	fmt.Fprintf(w, "usage: %s\n\n%s\n", strings.TrimSpace("pmem2emu "+c.name+" [flags] "+c.args), strings.TrimSpace(c.long))
	var flags strings.Builder
	e.flags.SetOutput(&flags)
	e.flags.PrintDefaults()
	e.flags.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s", flags.String())
	}
	fmt.Fprintf(w, "\nexample:\n%s\n", strings.TrimRight(indent(c.example), "\n"))
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
