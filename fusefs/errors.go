package fusefs

import "errors"

// Sentinel errors. Every error this package returns names the path and the
// operation (usually as an *fs.PathError) and wraps one of these, so callers
// can test with errors.Is.
var (
	// ErrInvalidNode marks a declaration that cannot be served: a bad path,
	// an unknown type, fields that do not belong to the type, a child under
	// a non-directory, or an operation on a node of the wrong type.
	ErrInvalidNode = errors.New("invalid node")
	// ErrInvalidFault marks a fault rule that cannot be applied.
	ErrInvalidFault = errors.New("invalid fault rule")
	// ErrMountpoint marks a directory this package refuses to mount on.
	ErrMountpoint = errors.New("refused mount point")
	// ErrDeviceNotAllowed marks a device node outside the device-mode
	// allow-list (char 1:3, 1:5, 1:7, 1:8, 1:9).
	ErrDeviceNotAllowed = errors.New("device node not in the device-mode allow-list")
	// ErrNoFuse marks a machine where FUSE cannot be used: /dev/fuse is
	// missing or closed to us, or fusermount3 is missing for a non-root
	// caller.
	ErrNoFuse = errors.New("FUSE unavailable")
	// ErrNeedsRoot marks a request only root can satisfy (device mode).
	ErrNeedsRoot = errors.New("needs root")
	// ErrNotMounted marks a directory that is not a mount of this package.
	ErrNotMounted = errors.New("not a pmem2emu mount")
	// ErrClosed marks a change requested after Close.
	ErrClosed = errors.New("server closed")
)
