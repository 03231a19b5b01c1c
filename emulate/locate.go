package emulate

import "fmt"

// DevNum is a device number, major:minor.
type DevNum struct{ Major, Minor uint32 }

func (d DevNum) String() string { return fmt.Sprintf("%d:%d", d.Major, d.Minor) }

// DAX is where a declared Device DAX lives in a fixture, as paths relative
// to the root, ready for WriteFile, Calls, AddFault and Path. It describes
// the generated tree: nodes declared over it are not looked at.
type DAX struct {
	Name   string
	DevNum DevNum
	// Node is its device node, "dev/<name>".
	Node string
	// Dir is its sysfs directory, where sys/dev/char/M:m leads.
	Dir string
	// SizeFile is the file pmem2 (and the C libpmem2, through libndctl)
	// reads for the size: the nd_dax's size, regionR/daxR.(N+1)/size,
	// the file size_raw fills. "" without the NVDIMM bus, where there is
	// no nd_dax and nothing is read for the size.
	SizeFile string
	// AlignFile is the file pmem2 reads for the alignment: the nd_dax's
	// align, the file align_raw fills; "" without the NVDIMM bus.
	AlignFile string
	// NDDax is the nd_dax's directory, the parent of Dir (of Dir's dax/
	// in the class model) that holds SizeFile and AlignFile; "" without
	// the NVDIMM bus.
	NDDax string
}

// DAX locates the declared Device DAX name.
func (f *Fixture) DAX(name string) (DAX, bool) {
	for _, in := range f.spec.daxInfos() {
		if in.d.Name == name {
			d := DAX{Name: name, DevNum: DevNum{in.major, in.minor}, Node: "dev/" + name, Dir: daxDeviceDir(&in)}
			if in.ndBus {
				d.NDDax = daxParentDir(&in)
				d.SizeFile = d.NDDax + "/size"
				d.AlignFile = d.NDDax + "/align"
			}
			return d, true
		}
	}
	return DAX{}, false
}

// DevNum is the device number of the declared Device DAX or pmem device
// name, minors given in declaration order included; the zero DevNum when
// there is none.
func (f *Fixture) DevNum(name string) DevNum {
	if d, ok := f.DAX(name); ok {
		return d.DevNum
	}
	for _, in := range f.spec.pmemInfos() {
		if in.d.Name == name {
			return DevNum{in.major, in.minor}
		}
	}
	return DevNum{}
}
