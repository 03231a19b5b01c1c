package conformance

import (
	"strings"
	"syscall"
	"testing"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

// The suite's own verdicts, on made-up observations: a difference nobody
// declared, a declared one that changed on either side or vanished, and a
// crash where Go succeeds all fail.
func TestJudge(t *testing.T) {
	ok := call{ran: true}
	dax := observed{fromFD: ok, size: call{ran: true, value: 1 << 30}, align: call{ran: true, value: 2 << 20}}
	badSize := dax
	badSize.size = call{ran: true, rc: pmem2.ErrInvalidSizeFormat}
	crash := dax
	crash.size, crash.align = call{crash: syscall.SIGSEGV}, call{crash: syscall.SIGSEGV}
	noRegionGo := dax
	noRegionGo.size = call{ran: true, rc: pmem2.ErrDAXRegionNotFound}
	noRegionGo.align = call{ran: true, rc: pmem2.ErrInvalidAlignmentFormat}
	alignOnly := dax // Go fails in size only: alignment succeeds where C crashes
	alignOnly.size = call{ran: true, rc: pmem2.ErrDAXRegionNotFound}

	diffs := map[string]difference{
		"f p path": {goWant: badSize.String(), cWant: dax.String(), why: intermediatePathMax},
		"f q path": {goWant: noRegionGo.String(), cWant: crash.String(), why: noBus},
		"f r path": {goWant: alignOnly.String(), cWant: crash.String(), why: noBus},
	}
	for _, tc := range []struct {
		name        string
		path        string
		goSide, c   observed
		want        verdict
		wantTrouble string
	}{
		{"identical results are identical", "x", dax, dax, identical, ""},
		{"values compare only beside a code of 0", "x", observed{fromFD: call{ran: true, rc: -2}}, observed{fromFD: call{ran: true, rc: -2}}, identical, ""},
		{"an undeclared difference is a mismatch", "x", badSize, dax, mismatch, "Go from_fd 0, size PMEM2_E_INVALID_SIZE_FORMAT"},
		{"an undeclared crash is a mismatch", "x", dax, crash, mismatch, "no crash is known"},
		{"an open errno differs", "x", observed{open: syscall.EACCES}, observed{open: syscall.ENXIO}, mismatch, "open EACCES"},
		{"a declared difference is known", "p", badSize, dax, knownDiff, ""},
		{"a declared difference that vanished is a mismatch", "p", dax, dax, mismatch, "but both return"},
		{"a declared difference whose Go side changed is a mismatch", "p", noRegionGo, dax, mismatch, "Go now returns"},
		{"a declared difference whose C side changed is a mismatch", "p", badSize, noRegionGo, mismatch, "C now returns"},
		{"a declared crash is a C crash", "q", noRegionGo, crash, cCrash, ""},
		{"a crash where Go succeeds is a mismatch", "r", alignOnly, crash, mismatch, "Go returns no error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &ledger{diffs: diffs, used: map[string]bool{}}
			v, _, problems := l.judge(row{fixture: "f", path: tc.path, mode: emulate.ModePath, goSide: tc.goSide, cSide: tc.c})
			if v != tc.want {
				t.Errorf("verdict %q, want %q (problems %q)", v, tc.want, problems)
			}
			if joined := strings.Join(problems, "\n"); (tc.wantTrouble == "") != (joined == "") || !strings.Contains(joined, tc.wantTrouble) {
				t.Errorf("problems %q, want one mentioning %q", problems, tc.wantTrouble)
			}
		})
	}
}

func TestSummaryCountsEveryVerdict(t *testing.T) {
	rows := []row{{verdict: identical}, {verdict: identical}, {verdict: knownDiff}, {verdict: cCrash}, {verdict: mismatch}}
	if got, want := summary(rows), "5 cases: 2 identical, 1 known differences, 1 C crashes, 1 MISMATCHES"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}
