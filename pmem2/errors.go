package pmem2

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Code is a libpmem2 return code: one of the PMEM2_E_* values (-100000 …
// -100037) or, for a failing system call, -errno. Every PMEM2_E_* value has
// an exported constant of this type, so a constant doubles as the sentinel
// for errors.Is:
//
//	if errors.Is(err, pmem2.ErrInvalidFileType) { … }
type Code int

// The PMEM2_E_* codes of libpmem2/base.h (PMDK 1.12.1). -100002 is not
// defined by the C library either.
const (
	ErrUnknown                   Code = -100000 // PMEM2_E_UNKNOWN
	ErrNoSupp                    Code = -100001 // PMEM2_E_NOSUPP
	ErrFileHandleNotSet          Code = -100003 // PMEM2_E_FILE_HANDLE_NOT_SET
	ErrInvalidFileHandle         Code = -100004 // PMEM2_E_INVALID_FILE_HANDLE
	ErrInvalidFileType           Code = -100005 // PMEM2_E_INVALID_FILE_TYPE
	ErrMapRange                  Code = -100006 // PMEM2_E_MAP_RANGE
	ErrMappingExists             Code = -100007 // PMEM2_E_MAPPING_EXISTS
	ErrGranularityNotSet         Code = -100008 // PMEM2_E_GRANULARITY_NOT_SET
	ErrGranularityNotSupported   Code = -100009 // PMEM2_E_GRANULARITY_NOT_SUPPORTED
	ErrOffsetOutOfRange          Code = -100010 // PMEM2_E_OFFSET_OUT_OF_RANGE
	ErrOffsetUnaligned           Code = -100011 // PMEM2_E_OFFSET_UNALIGNED
	ErrInvalidAlignmentFormat    Code = -100012 // PMEM2_E_INVALID_ALIGNMENT_FORMAT
	ErrInvalidAlignmentValue     Code = -100013 // PMEM2_E_INVALID_ALIGNMENT_VALUE
	ErrInvalidSizeFormat         Code = -100014 // PMEM2_E_INVALID_SIZE_FORMAT
	ErrLengthUnaligned           Code = -100015 // PMEM2_E_LENGTH_UNALIGNED
	ErrMappingNotFound           Code = -100016 // PMEM2_E_MAPPING_NOT_FOUND
	ErrBufferTooSmall            Code = -100017 // PMEM2_E_BUFFER_TOO_SMALL
	ErrSourceEmpty               Code = -100018 // PMEM2_E_SOURCE_EMPTY
	ErrInvalidSharingValue       Code = -100019 // PMEM2_E_INVALID_SHARING_VALUE
	ErrSrcDevDAXPrivate          Code = -100020 // PMEM2_E_SRC_DEVDAX_PRIVATE
	ErrInvalidAddressRequestType Code = -100021 // PMEM2_E_INVALID_ADDRESS_REQUEST_TYPE
	ErrAddressUnaligned          Code = -100022 // PMEM2_E_ADDRESS_UNALIGNED
	ErrAddressNull               Code = -100023 // PMEM2_E_ADDRESS_NULL
	ErrDeepFlushRange            Code = -100024 // PMEM2_E_DEEP_FLUSH_RANGE
	ErrInvalidRegionFormat       Code = -100025 // PMEM2_E_INVALID_REGION_FORMAT
	ErrDAXRegionNotFound         Code = -100026 // PMEM2_E_DAX_REGION_NOT_FOUND
	ErrInvalidDevFormat          Code = -100027 // PMEM2_E_INVALID_DEV_FORMAT
	ErrCannotReadBounds          Code = -100028 // PMEM2_E_CANNOT_READ_BOUNDS
	ErrNoBadBlockFound           Code = -100029 // PMEM2_E_NO_BAD_BLOCK_FOUND
	ErrLengthOutOfRange          Code = -100030 // PMEM2_E_LENGTH_OUT_OF_RANGE
	ErrInvalidProtFlag           Code = -100031 // PMEM2_E_INVALID_PROT_FLAG
	ErrNoAccess                  Code = -100032 // PMEM2_E_NO_ACCESS
	ErrVMReservationNotEmpty     Code = -100033 // PMEM2_E_VM_RESERVATION_NOT_EMPTY
	ErrMapExists                 Code = -100034 // PMEM2_E_MAP_EXISTS
	ErrFileDescriptorNotSet      Code = -100035 // PMEM2_E_FILE_DESCRIPTOR_NOT_SET
	ErrSourceTypeNotSupported    Code = -100036 // PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED
	ErrIOFail                    Code = -100037 // PMEM2_E_IO_FAIL
)

var codeNames = map[Code]string{
	ErrUnknown:                   "PMEM2_E_UNKNOWN",
	ErrNoSupp:                    "PMEM2_E_NOSUPP",
	ErrFileHandleNotSet:          "PMEM2_E_FILE_HANDLE_NOT_SET",
	ErrInvalidFileHandle:         "PMEM2_E_INVALID_FILE_HANDLE",
	ErrInvalidFileType:           "PMEM2_E_INVALID_FILE_TYPE",
	ErrMapRange:                  "PMEM2_E_MAP_RANGE",
	ErrMappingExists:             "PMEM2_E_MAPPING_EXISTS",
	ErrGranularityNotSet:         "PMEM2_E_GRANULARITY_NOT_SET",
	ErrGranularityNotSupported:   "PMEM2_E_GRANULARITY_NOT_SUPPORTED",
	ErrOffsetOutOfRange:          "PMEM2_E_OFFSET_OUT_OF_RANGE",
	ErrOffsetUnaligned:           "PMEM2_E_OFFSET_UNALIGNED",
	ErrInvalidAlignmentFormat:    "PMEM2_E_INVALID_ALIGNMENT_FORMAT",
	ErrInvalidAlignmentValue:     "PMEM2_E_INVALID_ALIGNMENT_VALUE",
	ErrInvalidSizeFormat:         "PMEM2_E_INVALID_SIZE_FORMAT",
	ErrLengthUnaligned:           "PMEM2_E_LENGTH_UNALIGNED",
	ErrMappingNotFound:           "PMEM2_E_MAPPING_NOT_FOUND",
	ErrBufferTooSmall:            "PMEM2_E_BUFFER_TOO_SMALL",
	ErrSourceEmpty:               "PMEM2_E_SOURCE_EMPTY",
	ErrInvalidSharingValue:       "PMEM2_E_INVALID_SHARING_VALUE",
	ErrSrcDevDAXPrivate:          "PMEM2_E_SRC_DEVDAX_PRIVATE",
	ErrInvalidAddressRequestType: "PMEM2_E_INVALID_ADDRESS_REQUEST_TYPE",
	ErrAddressUnaligned:          "PMEM2_E_ADDRESS_UNALIGNED",
	ErrAddressNull:               "PMEM2_E_ADDRESS_NULL",
	ErrDeepFlushRange:            "PMEM2_E_DEEP_FLUSH_RANGE",
	ErrInvalidRegionFormat:       "PMEM2_E_INVALID_REGION_FORMAT",
	ErrDAXRegionNotFound:         "PMEM2_E_DAX_REGION_NOT_FOUND",
	ErrInvalidDevFormat:          "PMEM2_E_INVALID_DEV_FORMAT",
	ErrCannotReadBounds:          "PMEM2_E_CANNOT_READ_BOUNDS",
	ErrNoBadBlockFound:           "PMEM2_E_NO_BAD_BLOCK_FOUND",
	ErrLengthOutOfRange:          "PMEM2_E_LENGTH_OUT_OF_RANGE",
	ErrInvalidProtFlag:           "PMEM2_E_INVALID_PROT_FLAG",
	ErrNoAccess:                  "PMEM2_E_NO_ACCESS",
	ErrVMReservationNotEmpty:     "PMEM2_E_VM_RESERVATION_NOT_EMPTY",
	ErrMapExists:                 "PMEM2_E_MAP_EXISTS",
	ErrFileDescriptorNotSet:      "PMEM2_E_FILE_DESCRIPTOR_NOT_SET",
	ErrSourceTypeNotSupported:    "PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED",
	ErrIOFail:                    "PMEM2_E_IO_FAIL",
}

// Codes lists every PMEM2_E_* code, most negative last.
func Codes() []Code {
	out := make([]Code, 0, len(codeNames))
	for c := ErrUnknown; c >= ErrIOFail; c-- {
		if _, ok := codeNames[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

// Name is the C name of the code: "PMEM2_E_INVALID_FILE_TYPE" for a PMEM2_E_*
// value, "-ENOENT" for a negated errno, "0" for success.
func (c Code) Name() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	if c == 0 {
		return "0"
	}
	if c < 0 && c > -4096 {
		if n := unix.ErrnoName(syscall.Errno(-c)); n != "" {
			return "-" + n
		}
	}
	return fmt.Sprintf("%d", int(c))
}

// Error describes the code, so a Code is an error value in its own right.
func (c Code) Error() string {
	if c < 0 && c > -4096 {
		return fmt.Sprintf("%s (%s)", c.Name(), syscall.Errno(-c).Error())
	}
	return c.Name()
}

// ParseCode reads a code written the way Name writes it ("PMEM2_E_IO_FAIL",
// "-EIO", "0") or as a decimal number ("-100037", "-5").
func ParseCode(s string) (Code, error) {
	for c, n := range codeNames {
		if n == s {
			return c, nil
		}
	}
	if len(s) > 1 && s[0] == '-' && s[1] == 'E' {
		if e := errnoValue(s[1:]); e != 0 {
			return Code(-int(e)), nil
		}
		return 0, fmt.Errorf("pmem2: unknown errno name %q", s[1:])
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
		return 0, fmt.Errorf("pmem2: %q is not a libpmem2 code (want a PMEM2_E_* name, -EXXX or a number)", s)
	}
	return Code(n), nil
}

// Error is what every function of this package returns on failure. Code is
// exactly what the C function returns; Op names the failing step ("fstat",
// "read" …) and Path the sysfs file involved, if any. When the failure comes
// from a system call, Err is its syscall.Errno, so both
// errors.Is(err, pmem2.ErrInvalidFileHandle) and errors.Is(err, syscall.EBADF)
// hold for a descriptor that is not open.
//
// Detail, when set, says what was found ("content \"12x\"", "fd -1 is
// negative"); it is for people, not for matching.
type Error struct {
	Func   string // the libpmem2 function: "pmem2_source_from_fd" …
	Op     string // the failing step
	Path   string // the sysfs path involved, or ""
	Code   Code
	Err    error  // the underlying syscall.Errno, ErrDeleted, or nil
	Detail string // what was found, or ""
}

func (e *Error) Error() string {
	msg := e.Func
	if e.Op != "" {
		msg += ": " + e.Op
	}
	if e.Path != "" {
		msg += " " + e.Path
	}
	msg += ": " + e.Code.Name()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Is matches the Code sentinel equal to e.Code, so errors.Is(err,
// pmem2.ErrIOFail) works; a -errno code also matches that syscall.Errno.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return t == e.Code
	case syscall.Errno:
		return e.Code < 0 && e.Code > -4096 && Code(-int(t)) == e.Code
	}
	return false
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns exactly what the C function would have returned for err: 0
// for nil, the PMEM2_E_* value or -errno for this package's errors, -errno
// for a bare syscall.Errno, and PMEM2_E_UNKNOWN for anything else.
func CodeOf(err error) int {
	if err == nil {
		return 0
	}
	var pe *Error
	if errors.As(err, &pe) {
		return int(pe.Code)
	}
	var c Code
	if errors.As(err, &c) {
		return int(c)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return -int(errno)
	}
	return int(ErrUnknown)
}

// ErrDeleted is the cause of every error a deleted (or nil) Source returns.
// Those errors carry Code ErrInvalidFileHandle, so errors.Is(err, ErrDeleted)
// and CodeOf(err) == -100004 both hold.
var ErrDeleted = errors.New("pmem2: source deleted")

// errnoErr is the error of a failing system call: Code -errno, Err the errno.
func errnoErr(fn, op, path string, errno syscall.Errno) *Error {
	return &Error{Func: fn, Op: op, Path: path, Code: Code(-int(errno)), Err: errno}
}

// codeErr is an error with a PMEM2_E_* code and no system call behind it.
func codeErr(fn, op, path string, c Code, detail string) *Error {
	return &Error{Func: fn, Op: op, Path: path, Code: c, Detail: detail}
}

// deletedErr is what every method of a nil or deleted Source returns.
func deletedErr(fn string) *Error {
	return &Error{Func: fn, Op: "use", Code: ErrInvalidFileHandle, Err: ErrDeleted}
}

// asErrno extracts the errno of an error returned by golang.org/x/sys/unix.
func asErrno(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO // unreachable: unix calls return Errno values only
}
