package pmem2

import (
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// eloopThreshold is glibc's __eloop_threshold() on Linux: the 41st link
// fails with ELOOP, as in the kernel (MAXSYMLINKS).
const eloopThreshold = 40

// realpathWalk is glibc 2.36's realpath(name, buf[PATH_MAX]) in user space:
// one readlink per component, links spliced into the rest of the name, a
// directory check where a trailing "/", "/." or "/.." demands one. It is
// the fallback of canonical when /proc cannot be used, so it favours
// fidelity over speed.
func realpathWalk(name string) (string, syscall.Errno) {
	if name == "" {
		return "", syscall.ENOENT
	}
	var rname string
	if name[0] == '/' {
		rname = "/"
	} else {
		wd, err := unix.Getwd()
		if err != nil {
			return "", asErrno(err)
		}
		rname = wd
	}
	links := 0
	rest := name
	for rest != "" {
		rest = strings.TrimLeft(rest, "/")
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		comp := rest[:end]
		rest = rest[end:]
		switch comp {
		case "":
			// trailing slashes: nothing left
		case ".":
		case "..":
			rname = parentOf(rname)
		default:
			if !strings.HasSuffix(rname, "/") {
				rname += "/"
			}
			rname += comp
			target, err := readlink(rname)
			if err == 0 {
				if links++; links > eloopThreshold {
					return "", syscall.ELOOP
				}
				rest = target + rest
				if strings.HasPrefix(target, "/") {
					rname = "/"
				} else {
					rname = parentOf(rname)
				}
				continue
			}
			if suffixRequiresDirCheck(rest) {
				if e := unix.Access(rname+"/", unix.F_OK); e != nil {
					return "", asErrno(e)
				}
			} else if err != syscall.EINVAL {
				return "", err
			}
		}
	}
	if len(rname)+1 > pathMax {
		return "", syscall.ENAMETOOLONG
	}
	return rname, 0
}

// parentOf drops the last component; the root stays the root.
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func readlink(p string) (string, syscall.Errno) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlink(p, buf)
		if err != nil {
			return "", asErrno(err)
		}
		if n < len(buf) {
			return string(buf[:n]), 0
		}
		buf = make([]byte, 2*len(buf))
	}
}

// suffixRequiresDirCheck is glibc's suffix_requires_dir_check: after the
// current component, does a trailing "/", "/." or a "/.." anywhere demand
// that it be a directory?
func suffixRequiresDirCheck(end string) bool {
	for strings.HasPrefix(end, "/") {
		end = strings.TrimLeft(end, "/")
		if end == "" {
			return true
		}
		if end[0] != '.' {
			return false
		}
		end = end[1:]
		if end == "" || (end[0] == '.' && (len(end) == 1 || end[1] == '/')) {
			return true
		}
	}
	return false
}
