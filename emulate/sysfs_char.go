package emulate

import (
	"fmt"
	"path"
)

// A device node declared with a subsystem gets the sysfs entry a virtual
// device of that class has (like /dev/zero in class mem):
// sys/dev/{char,block}/M:m → sys/devices/virtual/<subsystem>/<name>, with
// dev, uevent and a subsystem link to class/<subsystem>, and
// sys/class/<subsystem>/<name>. Without a subsystem the device is unknown
// to sysfs, and resolving its subsystem fails with ENOENT.
func (b *builder) charSysfs(loc string, n *Node) {
	kind := rdevKind(n.Type)
	if n.Subsystem == "" || kind == "" {
		return
	}
	name := path.Base(n.Path)
	dir := "sys/devices/virtual/" + n.Subsystem + "/" + name
	devno := fmt.Sprintf("%d:%d", n.Major, n.Minor)
	b.dir(loc, dir)
	b.attr(loc, dir+"/dev", devno+"\n", modeRO)
	b.attr(loc, dir+"/uevent", fmt.Sprintf("MAJOR=%d\nMINOR=%d\nDEVNAME=%s\n", n.Major, n.Minor, name), modeRW)
	b.link(loc, dir+"/subsystem", "sys/class/"+n.Subsystem)
	b.link(loc, "sys/class/"+n.Subsystem+"/"+name, dir)
	b.link(loc, "sys/dev/"+kind+"/"+devno, dir)
}
