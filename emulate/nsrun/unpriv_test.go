package nsrun_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pmem2emu/pmem2emu/emulate/nsrun"
	"github.com/pmem2emu/pmem2emu/internal/testutil"
)

// otherUser is the uid and gid the unprivileged tests run as: one without
// a name, so that it cannot be confused with the overflow uid (65534) a
// broken mapping would show.
const otherUser = 4242

// userNSForbidden is the switch that forbids unprivileged user namespaces
// on this machine, or "".
func userNSForbidden() string {
	for file, bad := range map[string]string{
		"/proc/sys/kernel/unprivileged_userns_clone":             "0",
		"/proc/sys/user/max_user_namespaces":                     "0",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1",
	} {
		if b, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(b)) == bad {
			return file
		}
	}
	return ""
}

// TestAnUnprivilegedUser runs the runner as a user without privileges:
// a copy of this test binary, which that user can execute, on a tree that
// user can read.
func TestAnUnprivilegedUser(t *testing.T) {
	testutil.RootOnly(t, "it runs the runner as another user")
	dir := testutil.PublicDir(t)
	tr, err := makeTree(filepath.Join(dir, "tree"))
	require.NoError(t, err)
	cmd := testutil.CommandAs(t, otherUser, otherUser, "unpriv", tr.sys, tr.dev)
	cmd.Dir = dir
	out, errOut := testutil.OutputOK(t, cmd)

	if file := userNSForbidden(); file != "" {
		t.Logf("this machine forbids unprivileged user namespaces (%s)", file)
		if !strings.HasPrefix(out, "Supported: nsrun: cannot create a mount namespace: unprivileged user namespaces are not allowed ("+file) {
			t.Errorf("output %q, want Supported to name %s", out, file)
		}
		return
	}
	t.Log("this machine allows unprivileged user namespaces")
	caps := []string{"CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000", "CapAmb:\t0000000000000000"}
	want := append([]string{
		"Supported: <nil>",
		fmt.Sprint(otherUser), fmt.Sprint(otherUser),
		strings.TrimSpace(fakeSize),
		" 00",
		"hello",
	}, caps...)
	want = append(want, wantDev(devEntries...)...)
	want = append(want, "exit status 0")
	assert.Equal(t, want, lines(out), "helper output")
	if errOut != "" {
		t.Errorf("stderr: %s", errOut)
	}
}

func helperUnpriv(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: unpriv SYS DEV")
		return 2
	}
	err := nsrun.Supported()
	fmt.Println("Supported:", errText(err))
	if err != nil {
		return 0
	}
	cmd, err := nsrun.Command(nsrun.Config{Sys: args[0], Dev: args[1]}, "sh", "-c", `
		id -u; id -g
		cat /sys/dev/char/251:0/size
		echo lost > /dev/mynull && echo lost > /dev/null && head -c 1 /dev/zero | od -An -tx1
		cat /dev/link
		grep -E '^Cap(Inh|Prm|Eff|Amb):' /proc/self/status
		ls -A /dev`)
	if err != nil {
		fmt.Println("Command:", err)
		return 0
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Run()
	fmt.Println("exit status", cmd.ProcessState.ExitCode())
	return 0
}

// TestSupportedWhereUserNamespacesAreForbidden runs the runner as a user
// without privileges inside a user namespace whose limit of user
// namespaces is 0: set there, it binds nobody else.
func TestSupportedWhereUserNamespacesAreForbidden(t *testing.T) {
	testutil.RootOnly(t, "it maps root and another user into a user namespace")
	cmd := testutil.Command("limited")
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: otherUser, HostID: otherUser, Size: 1}}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                ids,
		GidMappings:                ids,
		GidMappingsEnableSetgroups: true,
	}
	out, _ := testutil.OutputOK(t, cmd)
	assert.Equal(t, []string{
		"Supported: nsrun: cannot create a mount namespace: unprivileged user namespaces are not allowed " +
			"(/proc/sys/user/max_user_namespaces is 0); run as root, or allow some: sysctl -w user.max_user_namespaces=15000",
		"Command: the same error, errors.Is ErrUnsupported: true",
	}, lines(out), "helper output")
}

func helperLimited([]string) int {
	if err := os.WriteFile("/proc/sys/user/max_user_namespaces", []byte("0\n"), 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, step := range []error{syscall.Setgroups(nil), syscall.Setgid(otherUser), syscall.Setuid(otherUser)} {
		if step != nil {
			fmt.Fprintln(os.Stderr, "becoming", otherUser, step)
			return 1
		}
	}
	err := nsrun.Supported()
	fmt.Println("Supported:", errText(err))
	_, cerr := nsrun.Command(nsrun.Config{}, "true")
	same := "the same error"
	if errText(cerr) != errText(err) {
		same = errText(cerr)
	}
	fmt.Printf("Command: %s, errors.Is ErrUnsupported: %v\n", same, errors.Is(cerr, errors.ErrUnsupported))
	return 0
}
