package cref_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/emulate/emutest"
	"github.com/pmem2emu/pmem2emu/internal/cref"
	"github.com/pmem2emu/pmem2emu/pmem2"
)

func TestRunOnTheHost(t *testing.T) {
	probe := cref.Build(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("hello, pmem\n"), 0o644))
	page := uint64(os.Getpagesize())
	both := []cref.Step{cref.StepSize, cref.StepAlignment}

	t.Run("a regular file has its length as size and the page size as alignment", func(t *testing.T) {
		for _, mode := range []emulate.OpenMode{emulate.ModeR, emulate.ModeRW, emulate.ModePath} {
			r := cref.MustRun(t, nil, probe, file, mode, both...)
			if !r.Done || r.Signal != 0 || r.FromFD != (cref.Call{Ran: true}) ||
				r.Size != (cref.Call{Ran: true, Value: 12}) || r.Alignment != (cref.Call{Ran: true, Value: page}) {
				t.Errorf("mode %s: %+v", mode, r)
			}
			if got, want := r.String(), "from_fd 0, size 12, alignment "+itoa(page); got != want {
				t.Errorf("mode %s: String() = %q, want %q", mode, got, want)
			}
		}
	})
	t.Run("a write-only descriptor is an invalid handle and nothing else runs", func(t *testing.T) {
		r := cref.MustRun(t, nil, probe, file, "w", both...)
		if r.FromFD.RC != pmem2.ErrInvalidFileHandle || r.Size.Ran || r.Alignment.Ran || !r.Done {
			t.Errorf("%+v", r)
		}
	})
	t.Run("a directory is an invalid file type", func(t *testing.T) {
		r := cref.MustRun(t, nil, probe, dir, "r")
		if r.String() != "from_fd PMEM2_E_INVALID_FILE_TYPE" {
			t.Errorf("%+v", r)
		}
	})
	t.Run("a missing path reports the errno of open", func(t *testing.T) {
		r := cref.MustRun(t, nil, probe, filepath.Join(dir, "missing"), "path", both...)
		if r.OpenErrno != syscall.ENOENT || r.FromFD.Ran || r.String() != "open ENOENT" {
			t.Errorf("%+v", r)
		}
	})
	t.Run("the region steps give the port's answers on the host's sysfs", func(t *testing.T) {
		r := cref.MustRun(t, nil, probe, file, emulate.ModeR, cref.RegionSteps...)
		fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		require.NoError(t, err)
		defer unix.Close(fd)
		src, err := pmem2.SourceFromFD(fd)
		require.NoError(t, err)
		node, errNuma := src.NumaNode()
		id, errID := src.DeviceID()
		usc, errUSC := src.DeviceUSC()
		bbs, errBB := src.BadBlocks()
		want := []cref.Call{{Ran: true, RC: pmem2.Code(pmem2.CodeOf(errNuma))}, {Ran: true, RC: pmem2.Code(pmem2.CodeOf(errID))},
			{Ran: true, RC: pmem2.Code(pmem2.CodeOf(errUSC))}, {Ran: true, RC: pmem2.Code(pmem2.CodeOf(errBB))}}
		if errNuma == nil {
			want[0].Value = uint64(node)
		}
		want[1].Text, want[2].Value = id, usc
		got := []cref.Call{r.NumaNode, r.DeviceID, r.USC, r.BadBlocks}
		require.Equal(t, want, got)
		require.Equal(t, len(bbs), len(r.BadBlockList))
	})
	t.Run("steps run in the order asked and only those", func(t *testing.T) {
		r := cref.MustRun(t, nil, probe, file, "r", cref.StepAlignment)
		if r.Size.Ran || !r.Alignment.Ran || r.String() != "from_fd 0, alignment "+itoa(page) {
			t.Errorf("%+v", r)
		}
	})
}

func TestRunRefusesWhatTheProbeCannotDo(t *testing.T) {
	probe := cref.Build(t)
	for name, run := range map[string]func() error{
		"an unknown mode": func() error {
			_, err := cref.Run(nil, probe, "/", "x")
			return err
		},
		"an unknown step": func() error {
			_, err := cref.Run(nil, probe, "/", "r", cref.StepFromFD)
			return err
		},
		"a step asked twice": func() error {
			_, err := cref.Run(nil, probe, "/", "r", cref.StepSize, cref.StepSize)
			return err
		},
		"a probe that does not exist": func() error {
			_, err := cref.Run(nil, filepath.Join(t.TempDir(), "none"), "/", "r")
			return err
		},
		"a runner that fails": func() error {
			_, err := cref.Run(failingRunner{}, probe, "/", "r")
			return err
		},
		"a program that exits with a status": func() error {
			_, err := cref.Run(shellRunner("echo 'from_fd 0'; exit 3"), probe, "/", "r")
			return err
		},
		"a program that ends without done": func() error {
			_, err := cref.Run(shellRunner("echo 'from_fd 0'"), probe, "/", "r")
			return err
		},
	} {
		t.Run(name+" is an error", func(t *testing.T) {
			if err := run(); err == nil {
				t.Error("no error")
			}
		})
	}
}

type failingRunner struct{}

func (failingRunner) Command(string, ...string) (*exec.Cmd, error) {
	return nil, errors.ErrUnsupported
}

// shellRunner runs a shell script in place of the probe.
type shellRunner string

func (s shellRunner) Command(string, ...string) (*exec.Cmd, error) {
	return exec.Command("sh", "-c", string(s)), nil
}

func TestRunUnderAFixture(t *testing.T) {
	probe := cref.Build(t)
	f := emutest.Start(t, &emulate.Spec{DAXDevices: []emulate.DAXDevice{
		{Name: "dax0.0", Size: 1 << 30, Align: 2 << 20},
		{Name: "dax1.0", Minor: 1, Size: 1 << 30, NDBus: new(false)},
	}})

	t.Run("a healthy Device DAX has its declared size and alignment", func(t *testing.T) {
		r := cref.MustRun(t, f, probe, f.Path("dev/dax0.0"), "path", cref.StepSize, cref.StepAlignment)
		if r.String() != "from_fd 0, size 1073741824, alignment 2097152" || r.Signal != 0 {
			t.Errorf("%+v", r)
		}
	})
	t.Run("the device node refuses to open on the nodev mount", func(t *testing.T) {
		r := cref.MustRun(t, f, probe, "/dev/dax0.0", "r")
		if r.OpenErrno != syscall.EACCES {
			t.Errorf("%+v", r)
		}
	})
	for _, step := range []cref.Step{cref.StepSize, cref.StepAlignment} {
		t.Run("without the NVDIMM bus the probe is killed in "+string(step)+" and the crash is recorded", func(t *testing.T) {
			r := cref.MustRun(t, f, probe, "/dev/dax1.0", "path", step)
			if r.Signal != syscall.SIGSEGV || r.Crashed != step || r.Done || r.FromFD != (cref.Call{Ran: true}) || r.Call(step).Ran {
				t.Fatalf("%+v", r)
			}
			if want := "from_fd 0, " + string(step) + " SIGSEGV"; r.String() != want {
				t.Errorf("String() = %q, want %q", r.String(), want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	both := []cref.Step{cref.StepSize, cref.StepAlignment}
	for _, tc := range []struct {
		name, out string
		steps     []cref.Step
		want      string
		bad       bool
	}{
		{name: "a complete run parses", out: "from_fd 0\nsize 0 12\nalignment 0 4096\ndone\n", steps: both,
			want: "from_fd 0, size 12, alignment 4096"},
		{name: "a failing call keeps its code", out: "from_fd 0\nsize -100014 0\ndone\n", steps: []cref.Step{cref.StepSize},
			want: "from_fd 0, size_rc PMEM2_E_INVALID_SIZE_FORMAT"},
		{name: "an open failure parses", out: "open_errno 13\ndone\n", want: "open EACCES"},
		{name: "partial output of a killed probe parses", out: "from_fd 0\n", steps: both, want: "from_fd 0, size -, alignment -"},
		{name: "no output at all shows that from_fd did not run", out: "", steps: both, want: "from_fd -"},
		{name: "the region steps parse", out: "from_fd 0\nnuma_node 0 -1\ndevice_id 0 61622063\nusc 0 7\nbadblocks 0 4096,4096 524288,512\ndone\n",
			steps: cref.RegionSteps,
			want:  `from_fd 0, numa_node -1, device_id "ab c", usc 7, badblocks [4096+4096 524288+512]`},
		{name: "failing region steps keep their codes", out: "from_fd 0\nnuma_node -100026 0\ndevice_id -100001 -\nusc -100001 0\nbadblocks -100028\ndone\n",
			steps: cref.RegionSteps,
			want: "from_fd 0, numa_node_rc PMEM2_E_DAX_REGION_NOT_FOUND, device_id_rc PMEM2_E_NOSUPP, usc_rc PMEM2_E_NOSUPP, " +
				"badblocks_rc PMEM2_E_CANNOT_READ_BOUNDS"},
		{name: "an empty id and no bad blocks parse", out: "from_fd 0\ndevice_id 0 -\nbadblocks 0\ndone\n",
			steps: []cref.Step{cref.StepDeviceID, cref.StepBadBlocks}, want: `from_fd 0, device_id "", badblocks []`},
		{name: "a bad block that is not OFF,LEN is an error", out: "from_fd 0\nbadblocks 0 4096\n",
			steps: []cref.Step{cref.StepBadBlocks}, bad: true},
		{name: "an id that is not hex is an error", out: "from_fd 0\ndevice_id 0 xyz\n", steps: []cref.Step{cref.StepDeviceID}, bad: true},
		{name: "an unknown line is an error", out: "from_fd 0\nhello\n", bad: true},
		{name: "a line twice is an error", out: "from_fd 0\nfrom_fd 0\n", bad: true},
		{name: "a step not asked for is an error", out: "from_fd 0\nsize 0 1\n", steps: []cref.Step{cref.StepAlignment}, bad: true},
		{name: "a step after a failing from_fd is an error", out: "from_fd -2\nsize 0 1\n", steps: both, bad: true},
		{name: "a line after done is an error", out: "open_errno 2\ndone\nfrom_fd 0\n", bad: true},
		{name: "a code that is not a number is an error", out: "from_fd x\n", bad: true},
		{name: "from_fd after open_errno is an error", out: "open_errno 2\nfrom_fd 0\n", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := cref.Parse([]byte(tc.out), tc.steps)
			if tc.bad {
				if err == nil {
					t.Errorf("no error; parsed %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tc.want {
				t.Errorf("String() = %q, want %q", r.String(), tc.want)
			}
		})
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
