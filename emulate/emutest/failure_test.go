package emutest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pmem2emu/pmem2emu/fusefs"
)

func TestStartNamesTheRemedyWhenFUSEIsMissing(t *testing.T) {
	msg := failure(fmt.Errorf("mount /x: %w: /dev/fuse does not exist", fusefs.ErrNoFuse))
	for _, want := range []string{"emutest.Start", "/dev/fuse", "apt-get install -y fuse3", "--device /dev/fuse"} {
		assert.Contains(t, msg, want)
	}
}
