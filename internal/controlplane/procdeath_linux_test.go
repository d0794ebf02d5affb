package controlplane

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel SIGKILL cmd when the test binary dies, so a
// test killed by its timeout, where no t.Cleanup runs, leaves no etcd
// behind.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
