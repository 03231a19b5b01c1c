package testutil

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
)

// FSType is the file system type of fusefs's mounts in the mount table.
// It is spelled out here because this package imports no package of the
// module; fusefs's tests check that its mounts carry it.
const FSType = "fuse.pmem2emu"

// Mounts lists the mounts of this process's mount namespace that filter
// keeps (all with a nil filter), failing the test when the mount table
// cannot be read. Paths are unescaped; filters that take a path want it
// absolute, cleaned and free of symbolic links.
func Mounts(t testing.TB, filter mountinfo.FilterFunc) []*mountinfo.Info {
	t.Helper()
	ms, err := mountinfo.GetMounts(filter)
	if err != nil {
		t.Fatalf("reading the mount table: %v", err)
	}
	return ms
}

// MountAt is the mount on dir (the topmost, when several are stacked), or
// nil when dir is no mount point.
func MountAt(t testing.TB, dir string) *mountinfo.Info {
	t.Helper()
	ms := Mounts(t, func(m *mountinfo.Info) (skip, stop bool) { return m.Mountpoint != dir, false })
	if len(ms) == 0 {
		return nil
	}
	return ms[len(ms)-1]
}

// MountsBelow lists the mounts on dir and on any path below it.
func MountsBelow(t testing.TB, dir string) []*mountinfo.Info {
	t.Helper()
	return Mounts(t, mountinfo.PrefixFilter(dir))
}

// OurMounts lists fusefs's mounts (FSType).
func OurMounts(t testing.TB) []*mountinfo.Info {
	t.Helper()
	return Mounts(t, mountinfo.FSTypeFilter(FSType))
}

// NothingMountedBelow fails the test, listing them, when anything is
// mounted on dir or below it.
func NothingMountedBelow(t testing.TB, dir string) {
	t.Helper()
	if ms := MountsBelow(t, dir); len(ms) > 0 {
		t.Errorf("still mounted at or below %s:\n\t%s", dir, Describe(ms...))
	}
}

// UnmountedWithin waits up to d for nothing to be mounted on dir or below
// it, the time a reaper or a lazy unmount may take, then fails the test
// as NothingMountedBelow does.
func UnmountedWithin(t testing.TB, d time.Duration, dir string) {
	t.Helper()
	Eventually(d, func() bool { return len(MountsBelow(t, dir)) == 0 })
	NothingMountedBelow(t, dir)
}

// Line renders a mount as its mountinfo line, escapes undone: for
// failure messages, and for comparing mount tables.
func Line(m *mountinfo.Info) string {
	opt := ""
	if m.Optional != "" {
		opt = " " + m.Optional
	}
	return fmt.Sprintf("%d %d %d:%d %s %s %s%s - %s %s %s",
		m.ID, m.Parent, m.Major, m.Minor, m.Root, m.Mountpoint, m.Options, opt, m.FSType, m.Source, m.VFSOptions)
}

// Lines renders mounts a Line each.
func Lines(ms []*mountinfo.Info) []string {
	lines := make([]string, len(ms))
	for i, m := range ms {
		lines[i] = Line(m)
	}
	return lines
}

// Describe renders mounts a Line each, on indented lines, for a failure
// message.
func Describe(ms ...*mountinfo.Info) string {
	return strings.Join(Lines(ms), "\n\t")
}

// Options splits a comma-separated option list (Info.Options or
// Info.VFSOptions) into the set of option names, values dropped:
// "rw,user_id=0" holds "rw" and "user_id".
func Options(list string) map[string]bool {
	set := make(map[string]bool)
	for o := range strings.SplitSeq(list, ",") {
		name, _, _ := strings.Cut(o, "=")
		set[name] = true
	}
	return set
}
