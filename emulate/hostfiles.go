package emulate

import (
	"fmt"
	"path"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

// Regular files on pmem: libpmem2 finds the namespace of a regular file by
// comparing the file's st_dev with the dev attribute of each fsdax
// namespace's block device (/sys/block/pmemN/dev, ndctl_match_fsdax in
// region_namespace_ndctl.c). The files of a fixture have the st_dev of its
// FUSE mount, an anonymous device number the kernel picks when mounting;
// so the pmem device that hosts them (PmemDevice.HostsFiles) takes that
// number once the fixture is mounted: in its block device's dev and
// uevent, in sys/dev/block/M:m and in its node in dev/. Declared nodes at
// those paths are left as declared.

// filesHost is the pmem device that hosts the fixture's files.
func (s *Spec) filesHost() (pmemInfo, bool) {
	for _, in := range s.pmemInfos() {
		if in.d.HostsFiles {
			return in, true
		}
	}
	return pmemInfo{}, false
}

func (s *Spec) checkHostsFiles(p *problems) {
	host := ""
	for _, in := range s.pmemInfos() {
		if !in.d.HostsFiles {
			continue
		}
		if host != "" {
			p.add(in.loc+".hosts_files", "hosts-files-twice", fmt.Sprintf("the fixture's files have one device number, and %s hosts them already", host))
		}
		host = in.loc
		if in.d.Major != 0 || in.d.Minor != 0 {
			p.add(in.loc+".hosts_files", "hosts-files-numbered", "a device that hosts the fixture's files takes the mount's device number: leave out major and minor")
		}
	}
}

// hostFiles gives the device that hosts the fixture's files the device
// number of the mount at root, on the served tree; it returns that
// number, or the zero DevNum when no device hosts the files.
func (s *Spec) hostFiles(srv *fusefs.Server, root string) (DevNum, error) {
	in, ok := s.filesHost()
	if !ok {
		return DevNum{}, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		return DevNum{}, fmt.Errorf("emulate: the device number of %s: %w", root, err)
	}
	n := DevNum{unix.Major(st.Dev), unix.Minor(st.Dev)}
	dir := pmemBlockDir(&in)
	declared := func(p string) bool {
		return slices.ContainsFunc(s.Nodes, func(d Node) bool { return d.Path == p })
	}
	set := func(p string, node *fusefs.Node) error {
		if declared(p) {
			return nil
		}
		return srv.Set(p, node)
	}
	file := func(content string) *fusefs.Node {
		return &fusefs.Node{Type: fusefs.TypeFile, Mode: modeRO, Data: []byte(content)}
	}
	old := fmt.Sprintf("sys/dev/block/%d:%d", in.major, in.minor)
	link := "sys/dev/block/" + n.String()
	steps := []func() error{
		func() error { return set(dir+"/dev", file(n.String()+"\n")) },
		func() error {
			u := file(blockUevent(in.d.Name, n))
			u.Mode = modeRW
			return set(dir+"/uevent", u)
		},
		func() error {
			if declared(old) {
				return nil
			}
			return srv.Remove(old)
		},
		func() error {
			return set(link, &fusefs.Node{Type: fusefs.TypeSymlink, Target: rel(path.Dir(link), dir)})
		},
		func() error {
			return set("dev/"+in.d.Name, &fusefs.Node{Type: fusefs.TypeBlockDev, Mode: 0o660, GID: 6, Major: n.Major, Minor: n.Minor})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return DevNum{}, fmt.Errorf("emulate: moving %s to the device number of %s (%s): %w", in.d.Name, root, n, err)
		}
	}
	return n, nil
}
