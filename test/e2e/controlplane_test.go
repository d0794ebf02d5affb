package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The simulated cluster's components are processes kwokctl started and
// recorded in pids/<component>.pid under its work directory. The harness
// plays what a crash and a supervisor do: it SIGKILLs a component and
// starts it again with the same command line, working directory and log
// file, and records the new pid so `hack/sim.sh down` stops it.

// componentDir is the kwokctl work directory of the suite's cluster.
func componentDir() string {
	return filepath.Join(filepath.Dir(kubeconfig), "kwok", "clusters", simName)
}

// componentPID is the pid kwokctl (or the harness) recorded for a component.
func componentPID(name string) int {
	b, err := os.ReadFile(filepath.Join(componentDir(), "pids", name+".pid"))
	Expect(err).NotTo(HaveOccurred())
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	Expect(err).NotTo(HaveOccurred())
	return pid
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	fields := strings.Fields(string(rest))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// restartComponent SIGKILLs a component, waits down, and starts it again.
// It returns once the new process runs; callers wait for readiness.
func restartComponent(name string, down time.Duration) {
	pid := componentPID(name)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	Expect(err).NotTo(HaveOccurred(), "%s (pid %d) is not running", name, pid)
	argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	Expect(err).NotTo(HaveOccurred())

	GinkgoWriter.Printf("SIGKILL %s (pid %d), down for %s\n", name, pid, down)
	Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
	Eventually(func() bool { return alive(pid) }).WithTimeout(30 * time.Second).Should(BeFalse())
	time.Sleep(down)
	startComponent(name, argv, cwd)
}

func startComponent(name string, argv []string, cwd string) {
	log, err := os.OpenFile(filepath.Join(componentDir(), "logs", name+".log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = log.Close() }()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = cwd
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives a failed suite until sim.sh down
	Expect(cmd.Start()).To(Succeed())
	go func() { _ = cmd.Wait() }() // reap it when it ends
	Expect(os.WriteFile(filepath.Join(componentDir(), "pids", name+".pid"),
		[]byte(strconv.Itoa(cmd.Process.Pid)), 0o644)).To(Succeed())
	GinkgoWriter.Printf("started %s again (pid %d)\n", name, cmd.Process.Pid)
}

// waitAPIReady waits for the API server to answer /readyz.
func waitAPIReady(ctx context.Context) time.Time {
	Eventually(func() error {
		return clientset.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	}).WithTimeout(2 * time.Minute).Should(Succeed())
	return time.Now()
}

// simComponents are the simulated cluster's processes.
var simComponents = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"}

// expectComponentsRunning fails if a component of the simulated cluster
// died, for example a controller that lost its leader lease while the API
// server was down: the scenario would then prove nothing.
func expectComponentsRunning() {
	for _, name := range simComponents {
		Expect(alive(componentPID(name))).To(BeTrue(), "%s of the simulated cluster is not running; see %s",
			name, filepath.Join(componentDir(), "logs", name+".log"))
	}
}
