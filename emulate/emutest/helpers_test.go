package emutest_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is the testing.TB of a test under test: what Logf, Errorf and
// Fatal say is recorded instead of failing the real test; TempDir and
// Cleanup are the real test's. Fatal ends the goroutine, as t.Fatal does.
type recorder struct {
	*testing.T
	mu                  sync.Mutex
	logs, errors, fatal []string
}

func (r *recorder) add(to *[]string, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*to = append(*to, msg)
}

func (r *recorder) Logf(format string, args ...any)   { r.add(&r.logs, fmt.Sprintf(format, args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.add(&r.errors, fmt.Sprintf(format, args...)) }
func (r *recorder) Fatal(args ...any)                 { r.add(&r.fatal, fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.add(&r.fatal, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// said reports whether one message of list holds every part.
func said(list []string, parts ...string) bool {
	return slices.ContainsFunc(list, func(m string) bool {
		for _, p := range parts {
			if !strings.Contains(m, p) {
				return false
			}
		}
		return true
	})
}

// inGoroutine runs fn until it returns or calls Fatal.
func inGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// exampleT stands in for the *testing.T of a test in the examples, which
// have none: its temporary directories are laid out as testing's, Cleanup
// runs at done, and a failure panics.
type exampleT struct {
	testing.TB
	cleanups []func()
	tmp      string
}

func (e *exampleT) Helper()                           {}
func (e *exampleT) Cleanup(fn func())                 { e.cleanups = append(e.cleanups, fn) }
func (e *exampleT) Logf(string, ...any)               {}
func (e *exampleT) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (e *exampleT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (e *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (e *exampleT) TempDir() string {
	if e.tmp == "" {
		var err error
		if e.tmp, err = os.MkdirTemp("", "emutest-example"); err != nil {
			panic(err)
		}
		e.Cleanup(func() { os.RemoveAll(e.tmp) })
	}
	dir, err := os.MkdirTemp(e.tmp, "")
	if err != nil {
		panic(err)
	}
	return dir
}

func (e *exampleT) done() {
	for _, fn := range slices.Backward(e.cleanups) {
		fn()
	}
}
