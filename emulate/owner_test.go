package emulate_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pmem2emu/pmem2emu/emulate"
	"github.com/pmem2emu/pmem2emu/fusefs"
)

// What the kernel owns stays root's; the fixture's own data belongs to
// whoever mounts it, unless the spec says otherwise.
func TestOwnershipFollowsWhoOwnsWhatOnARealMachine(t *testing.T) {
	me, myGroup := uint32(os.Geteuid()), uint32(os.Getegid())
	tree := mustTree(t, &emulate.Spec{
		DAXDevices: []emulate.DAXDevice{{Name: "dax0.0"}},
		Nodes: []emulate.Node{
			{Path: "data/mine", Type: fusefs.TypeFile},
			{Path: "data/roots", Type: fusefs.TypeFile, Mode: 0o600, UID: new(uint32(0)), GID: new(uint32(0))},
			{Path: "data/others", Type: fusefs.TypeFile, UID: new(uint32(1234)), GID: new(uint32(5678))},
			{Path: "dev/extra", Type: fusefs.TypeCharDev, Major: 60},
			{Path: "dev/given", Type: fusefs.TypeCharDev, Major: 60, Minor: 1, UID: new(uint32(7))},
			{Path: "sys/extra/attr", Type: fusefs.TypeFile},
		},
	})
	for _, c := range []struct {
		name, path string
		uid, gid   uint32
	}{
		{"a declared data file without uid and gid is the mounting user's", "data/mine", me, myGroup},
		{"the directory it implies is the mounting user's too", "data", me, myGroup},
		{"uid 0 and gid 0 given make a data file root's", "data/roots", 0, 0},
		{"a uid and gid given are kept", "data/others", 1234, 5678},
		{"a generated sysfs attribute is root's", "sys/dev/char/252:0", 0, 0},
		{"a generated device node is root's", "dev/dax0.0", 0, 0},
		{"a node declared under dev/ is root's", "dev/extra", 0, 0},
		{"a uid given under dev/ is kept", "dev/given", 7, 0},
		{"a node declared under sys/ and its implied directory are root's", "sys/extra/attr", 0, 0},
		{"an implied directory under sys/ is root's", "sys/extra", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, ok := tree[c.path]
			if !ok {
				t.Fatalf("no node %s", c.path)
			}
			assert.Equal(t, [2]uint32{c.uid, c.gid}, [2]uint32{n.UID, n.GID}, "uid and gid of %s", c.path)
		})
	}
}

// A spec tells an explicit uid 0 from none, in JSON too.
func TestAnExplicitUIDZeroSurvivesJSON(t *testing.T) {
	s, err := emulate.Parse([]byte(`{"nodes": [{"path": "data/a", "type": "file", "uid": 0, "gid": 0}, {"path": "data/b", "type": "file"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Nodes[0].UID == nil || *s.Nodes[0].UID != 0 || s.Nodes[0].GID == nil || s.Nodes[1].UID != nil || s.Nodes[1].GID != nil {
		t.Fatalf("decoded uid/gid: %v %v, %v %v", s.Nodes[0].UID, s.Nodes[0].GID, s.Nodes[1].UID, s.Nodes[1].GID)
	}
	text, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	assert.Equal(t, `{"nodes":[{"path":"data/a","type":"file","uid":0,"gid":0},{"path":"data/b","type":"file"}]}`, string(text))
}
