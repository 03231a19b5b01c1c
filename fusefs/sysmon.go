package fusefs

import (
	"sync"
	"time"
)

// Go 1.26's scheduler can stall a stop-the-world (every GC cycle,
// runtime.ReadMemStats) on a goroutine that enters a blocking system call
// at that very moment: the world stays stopped until the call returns or
// sysmon takes the goroutine's P away. A FUSE reader's read(2) on
// /dev/fuse returns only when a request comes, and when the callers live in
// this process too (tests), none can come while the world is stopped;
// sysmon sleeps through a stop until the next timer is due, up to a
// minute. A pending timer keeps sysmon polling, which bounds the stall to
// milliseconds. So while any mount is live, one goroutine waits on a
// ticker.

const sysmonTick = 20 * time.Millisecond

var sysmonAwake struct {
	mu    sync.Mutex
	users int
	stop  chan struct{}
}

// holdSysmonAwake keeps a timer pending until every holder has called the
// returned release.
func holdSysmonAwake() (release func()) {
	a := &sysmonAwake
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.users == 0 {
		stop := make(chan struct{})
		a.stop = stop
		go func() {
			t := time.NewTicker(sysmonTick)
			defer t.Stop()
			for {
				select {
				case <-t.C:
				case <-stop:
					return
				}
			}
		}()
	}
	a.users++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.users--; a.users == 0 {
				close(a.stop)
			}
		})
	}
}
