package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/internal/check"
	"github.com/pmem2emu/pmem2emu/internal/probe"
)

var checkCmd = &command{
	name:  "check",
	short: "mount a fixture and check the pmem2 library against its expectations (the main job)",
	long: `Mounts the fixture (the built-in default, every deliberately broken device included,
when no --spec is given) in a fresh temporary directory, opens every node that carries an
expectation in every mode it lists (r, w, rw, path), runs the pmem2 library on the
descriptor (SourceFromFD, then Size, Alignment, NumaNode, DeviceID, DeviceUSC, BadBlocks
and Delete) and compares the result with the expectation. Prints a table — node, mode,
expected, got (what the expectation asks about), verdict — that ends with the line
"N passed, N failed".

Where an expectation depends on who checks (as_root, as_user in the spec), the one for you
applies: root, or any other user; the FAIL lines name it. Run as root and as yourself to
check both.

The exit status is 0 only when nothing failed, 1 otherwise. The fixture is always
unmounted, also on Ctrl-C (exit status 130).`,
	example: `pmem2emu check
pmem2emu spec --default > my.json   # edit, then:
pmem2emu check --spec my.json --json`,
	run: runCheck,
}

func runCheck(e *env, args []string) int {
	specFile := e.flags.String("spec", "", "fixture spec (JSON); default: the built-in fixture")
	asJSON := e.flags.Bool("json", false, "print the report as one JSON document")
	args, err := e.parse(args)
	if err != nil {
		return e.fail(err)
	}
	if len(args) > 0 {
		return e.fail(usagef("unexpected argument %q", args[0]))
	}
	spec, err := loadSpec(*specFile)
	if err != nil {
		return e.fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := checkFixture(ctx, spec)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "pmem2emu check: interrupted; fixture unmounted")
		return 130
	}
	if err != nil {
		return e.fail(err)
	}
	write := writeCheckTable
	if *asJSON {
		write = writeCheckJSON
	}
	if err := write(e.stdout, rep); err != nil {
		return e.fail(err)
	}
	if rep.Failed > 0 {
		return exitFail
	}
	return exitOK
}

// checkFixture mounts spec in a temporary directory, runs its checks and
// unmounts, whatever happens. When ctx ends first (Ctrl-C) the fixture is
// closed at once — which also unblocks a check stuck on the mount — and
// ctx's error is returned.
func checkFixture(ctx context.Context, spec *emulate.Spec) (check.Report, error) {
	f, release, err := mountTemp("pmem2emu-check-", spec)
	if err != nil {
		return check.Report{}, err
	}
	defer release()

	type result struct {
		rep check.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := check.Run(ctx, f, spec.Checks())
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-ctx.Done():
		f.Close()
		return check.Report{}, ctx.Err()
	}
}

func writeCheckTable(w io.Writer, rep check.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tMODE\tEXPECTED\tGOT\tVERDICT")
	for _, r := range rep.Rows {
		verdict := "pass"
		if !r.Pass() {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Check.Path, r.Check.Mode, r.Check.Expect.String(), r.Got.Result.LineFor(&r.Check.Expect), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Rows {
		for _, m := range r.Mismatches {
			from := r.Check.Source
			if r.Check.Caller != "" {
				from += " as_" + string(r.Check.Caller)
			}
			fmt.Fprintf(w, "FAIL %s (%s, from %s): %s\n", r.Check.Path, r.Check.Mode, from, m)
		}
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	return err
}

type checkJSON struct {
	Node       string           `json:"node"`
	Mode       emulate.OpenMode `json:"mode"`
	Source     string           `json:"source"`
	Caller     emulate.Caller   `json:"caller,omitempty"`
	Expected   json.RawMessage  `json:"expected"`
	Got        probe.Result     `json:"got"`
	Pass       bool             `json:"pass"`
	Mismatches []string         `json:"mismatches,omitempty"`
}

func writeCheckJSON(w io.Writer, rep check.Report) error {
	out := struct {
		Results []checkJSON `json:"results"`
		Passed  int         `json:"passed"`
		Failed  int         `json:"failed"`
	}{Results: []checkJSON{}, Passed: rep.Passed, Failed: rep.Failed}
	for _, r := range rep.Rows {
		exp, err := json.Marshal(r.Check.Expect)
		if err != nil {
			return err
		}
		out.Results = append(out.Results, checkJSON{
			Node: r.Check.Path, Mode: r.Check.Mode, Source: r.Check.Source, Caller: r.Check.Caller,
			Expected: exp, Got: r.Got, Pass: r.Pass(), Mismatches: r.Mismatches,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// loadSpec reads a spec file, or returns the built-in default for "".
func loadSpec(file string) (*emulate.Spec, error) {
	if file == "" {
		return emulate.Default(), nil
	}
	return emulate.LoadSpec(file)
}

// mountTemp mounts spec on a fresh temporary directory; release unmounts
// it and removes the directory (and does nothing after an error).
func mountTemp(prefix string, spec *emulate.Spec, opts ...emulate.Option) (f *emulate.Fixture, release func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, func() {}, err
	}
	if f, err = emulate.Mount(dir, spec, opts...); err != nil {
		os.Remove(dir)
		return nil, func() {}, err
	}
	return f, func() { f.Close(); os.Remove(dir) }, nil
}
