package testutil

import (
	"testing"
	"time"
)

// pollEvery is how often Eventually asks again: short next to the waits
// tests allow (seconds), long next to one look at /proc.
const pollEvery = 5 * time.Millisecond

// Eventually asks cond until it holds or d has passed, and reports
// whether it held. It asks on the caller's goroutine, so cond may fail
// the test (testify's Eventually asks on another one, where t.FailNow
// must not be called). The caller says what was awaited when it fails.
func Eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(pollEvery) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// Within fails the test if fn does not return within d: the guard of a
// call that must not block. fn runs on a goroutine of its own, which is
// left behind when it blocks.
func Within(t testing.TB, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v: it blocks", what, d)
	}
}
