package fusefs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
)

// harmless lists the character devices device mode may serve: memory
// devices that hold no data, so opening one through the mount can never
// reach a disk.
var harmless = map[[2]uint32]string{
	{1, 3}: "null",
	{1, 5}: "zero",
	{1, 7}: "full",
	{1, 8}: "random",
	{1, 9}: "urandom",
}

// checkDevice refuses a device node outside the allow-list.
func checkDevice(op, p string, n *Node) error {
	if n.Type != TypeCharDev && n.Type != TypeBlockDev {
		return nil
	}
	if _, ok := harmless[[2]uint32{n.Major, n.Minor}]; ok && n.Type == TypeCharDev {
		return nil
	}
	return &fs.PathError{Op: op, Path: p, Err: fmt.Errorf("%w: %s device %d:%d (device mode serves only char 1:3, 1:5, 1:7, 1:8, 1:9)",
		ErrDeviceNotAllowed, n.Type, n.Major, n.Minor)}
}

func (t Tree) checkDevices(op string) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if err := checkDevice(op, k, t[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
