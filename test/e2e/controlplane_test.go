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
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubectl/pkg/util/podutils"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The simulated cluster's components are processes kwokctl started and
// recorded in pids/<component>.pid under its work directory. The harness
// plays what a crash and a supervisor do: it SIGKILLs a component and
// starts it again with the same command line, working directory and log
// file, and records the new pid so `hack/sim.sh down` stops it. For the
// whole run it also plays the kubelet that runs a real control plane's
// static pods: a component that exits on its own is started again (see
// supervisor).

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
// It returns once the new process runs; callers wait for readiness. The
// supervisor leaves the component alone meanwhile.
func restartComponent(name string, down time.Duration) {
	supervise.hold(name)
	defer supervise.release(name)
	pid := componentPID(name)
	cp, err := processOf(pid)
	Expect(err).NotTo(HaveOccurred(), "%s (pid %d) is not running", name, pid)
	GinkgoWriter.Printf("SIGKILL %s (pid %d), down for %s\n", name, pid, down)
	Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
	Eventually(func() bool { return alive(pid) }).WithTimeout(30 * time.Second).Should(BeFalse())
	time.Sleep(down)
	newPID, err := startComponent(name, cp)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("started %s again (pid %d)\n", name, newPID)
}

// componentProcess is how a component was started: what its supervisor
// needs to start it again.
type componentProcess struct {
	argv []string
	cwd  string
}

// processOf reads the command line and working directory of a running pid.
func processOf(pid int) (componentProcess, error) {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return componentProcess{}, err
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return componentProcess{}, err
	}
	return componentProcess{argv: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"), cwd: cwd}, nil
}

// startComponent starts a component as cp says, appending to its log, and
// records its pid where kwokctl keeps it.
func startComponent(name string, cp componentProcess) (int, error) {
	log, err := os.OpenFile(filepath.Join(componentDir(), "logs", name+".log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer func() { _ = log.Close() }()
	cmd := exec.Command(cp.argv[0], cp.argv[1:]...)
	cmd.Dir = cp.cwd
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives a failed suite until sim.sh down
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { _ = cmd.Wait() }() // reap it when it ends
	return cmd.Process.Pid, os.WriteFile(filepath.Join(componentDir(), "pids", name+".pid"),
		[]byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
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
// is not running (the supervisor could not start it again): the scenario
// would then prove nothing.
func expectComponentsRunning() {
	for _, name := range simComponents {
		Expect(alive(componentPID(name))).To(BeTrue(), "%s of the simulated cluster is not running; see %s",
			name, filepath.Join(componentDir(), "logs", name+".log"))
	}
}

// supervise is the suite's supervisor of the simulated control plane.
var supervise = &supervisor{}

// supervisor starts again any component of the simulated cluster that
// exits on its own, as the kubelet restarts a control-plane static pod
// whose process exits, with the same command line, working directory and
// log file. kwokctl's binary runtime runs the components as bare processes
// that nothing restarts, and one exiting is not a fault of nodewave's: in
// one run kube-scheduler exited ("Scheduler cache is corrupted") when it
// re-listed pods after an etcd restart and found a StatefulSet pod it knew
// as bound to a node recreated under the same name, unbound; with nothing
// to restart it, every pod created afterwards stayed Pending, and a
// PodDisruptionBudget held the drain of the last node for good (see
// docs/reliability.md). Each restart is recorded, with the last lines the
// component logged, and reported with the spec it happened in.
type supervisor struct {
	mu       sync.Mutex
	procs    map[string]componentProcess
	held     map[string]bool // being restarted by restartComponent
	restarts []componentRestart
	stop     chan struct{}
	done     chan struct{}
}

// componentRestart is one start of a component the supervisor made.
type componentRestart struct {
	Component    string
	At           time.Time
	OldPID       int
	NewPID       int
	LastLogLines string
	Err          error
}

func (r componentRestart) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%s (pid %d) exited at %s and could not be started again: %v; its log ended:\n%s",
			r.Component, r.OldPID, r.At.UTC().Format("15:04:05.000"), r.Err, r.LastLogLines)
	}
	return fmt.Sprintf("%s (pid %d) exited at %s and was started again (pid %d); its log ended:\n%s",
		r.Component, r.OldPID, r.At.UTC().Format("15:04:05.000"), r.NewPID, r.LastLogLines)
}

// start records how every component runs now and watches them until
// stopped; a component found exited is started again within 250 ms.
func (s *supervisor) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs = map[string]componentProcess{}
	if s.held == nil {
		s.held = map[string]bool{}
	}
	for _, name := range simComponents {
		cp, err := processOf(componentPID(name))
		Expect(err).NotTo(HaveOccurred(), "%s of the simulated cluster is not running", name)
		s.procs[name] = cp
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				s.check()
			}
		}
	}()
}

// shutdown stops watching, before the cluster is taken down.
func (s *supervisor) shutdown() {
	if s.stop != nil {
		close(s.stop)
		<-s.done
		s.stop = nil
	}
}

func (s *supervisor) check() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range simComponents {
		if s.held[name] {
			continue
		}
		pid, err := readPID(name)
		if err != nil || alive(pid) {
			continue
		}
		r := componentRestart{Component: name, At: time.Now(), OldPID: pid, LastLogLines: logTail(name, 3)}
		r.NewPID, r.Err = startComponent(name, s.procs[name])
		s.restarts = append(s.restarts, r)
		GinkgoWriter.Printf("SUPERVISOR: %s\n", r)
	}
}

// hold keeps the supervisor off a component that the harness restarts
// itself.
func (s *supervisor) hold(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = map[string]bool{}
	}
	s.held[name] = true
}

func (s *supervisor) release(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, name)
}

// restartsSince lists the restarts the supervisor made after t.
func (s *supervisor) restartsSince(t time.Time) []componentRestart {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []componentRestart
	for _, r := range s.restarts {
		if !r.At.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

// readPID is componentPID without assertions, for the supervisor's goroutine.
func readPID(name string) (int, error) {
	b, err := os.ReadFile(filepath.Join(componentDir(), "pids", name+".pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// logTail is the last n lines of a component's log, each cut to 400 bytes.
func logTail(name string, n int) string {
	b, err := os.ReadFile(filepath.Join(componentDir(), "logs", name+".log"))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	lines = lines[max(0, len(lines)-n):]
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "..."
		}
	}
	return "    " + strings.Join(lines, "\n    ")
}

// The supervisor is what carries the restart scenarios through kube-
// scheduler exiting; this spec sets up the way it exited in those
// scenarios, then checks the supervisor itself. kube-scheduler keys its
// informer's pods by namespace and name; when it re-lists after missing a
// StatefulSet pod's deletion and re-creation (same name, new UID, not
// bound yet), the informer reports one update from the old, bound pod to
// the new, unbound one, and kube-scheduler v1.37 takes that for a pod
// moved between nodes and exits ("Scheduler cache is corrupted"). Holding
// it stopped (SIGSTOP) while the API server restarts and db-0 is recreated
// makes it miss both; once it runs again (SIGCONT) its watch is gone, and
// it exits when it re-lists (in about two runs of three: it sometimes
// resumes its watch instead, and sees the deletion). Either way db-0 must
// be scheduled. Then kube-scheduler is SIGKILLed, which the supervisor must
// repair every time.
var _ = Describe("the simulated cluster's supervisor", func() {
	It("brings kube-scheduler back when it exits after missing a StatefulSet pod's re-creation", func(ctx SpecContext) {
		// A manager that finds no API server while it starts exits, as its
		// pod would (and be restarted); the suite's manager is not.
		waitManagerStarted(manager)
		sched := componentPID("kube-scheduler")
		old := &corev1.Pod{}
		Expect(admin.Get(ctx, client.ObjectKey{Namespace: "workloads", Name: "db-0"}, old)).To(Succeed())
		Expect(old.Spec.NodeName).NotTo(BeEmpty())
		since := time.Now()

		By("stopping kube-scheduler (SIGSTOP), restarting kube-apiserver, and deleting db-0")
		Expect(syscall.Kill(sched, syscall.SIGSTOP)).To(Succeed())
		resumed := false
		defer func() {
			if !resumed {
				_ = syscall.Kill(sched, syscall.SIGCONT)
			}
		}()
		restartComponent("kube-apiserver", 2*time.Second)
		waitAPIReady(ctx)
		Expect(admin.Delete(ctx, old)).To(Succeed())
		Eventually(func(g Gomega) {
			p := &corev1.Pod{}
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(old), p)).To(Succeed())
			g.Expect(p.UID).NotTo(Equal(old.UID), "db-0 is not recreated yet")
			g.Expect(p.Spec.NodeName).To(BeEmpty())
		}).Should(Succeed())

		By("letting kube-scheduler run again: it re-lists pods")
		Expect(syscall.Kill(sched, syscall.SIGCONT)).To(Succeed())
		resumed = true
		Eventually(func(g Gomega) {
			p := &corev1.Pod{}
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(old), p)).To(Succeed())
			g.Expect(p.Spec.NodeName).NotTo(BeEmpty(), "db-0 is not scheduled")
			g.Expect(podutils.IsPodReady(p)).To(BeTrue(), "db-0 is not ready")
		}).WithTimeout(time.Minute).Should(Succeed())
		// kube-scheduler v1.37.2 exits here; a later one may not. Either
		// way db-0 was scheduled, which only kube-scheduler does.
		for _, r := range supervise.restartsSince(since) {
			GinkgoWriter.Printf("restarted by the supervisor: %s\n", r)
			Expect(r.Err).NotTo(HaveOccurred())
		}
		expectComponentsRunning()

		By("SIGKILLing kube-scheduler: the supervisor starts it again")
		killed, at := componentPID("kube-scheduler"), time.Now()
		Expect(syscall.Kill(killed, syscall.SIGKILL)).To(Succeed())
		Eventually(func(g Gomega) {
			var found bool
			for _, r := range supervise.restartsSince(at) {
				if r.Component == "kube-scheduler" && r.OldPID == killed {
					g.Expect(r.Err).NotTo(HaveOccurred())
					g.Expect(alive(r.NewPID)).To(BeTrue(), r.String())
					found = true
				}
			}
			g.Expect(found).To(BeTrue(), "kube-scheduler (pid %d) was not started again", killed)
		}).WithTimeout(10 * time.Second).Should(Succeed())
		expectComponentsRunning()
	})
})

// waitManagerStarted waits until m runs its controllers: it logged
// controller-runtime's "Starting workers".
func waitManagerStarted(m *managerProcess) {
	log := filepath.Join(os.TempDir(), fmt.Sprintf("nodewave-e2e-%s-%d.log", m.name, m.starts))
	Eventually(func() (string, error) {
		b, err := os.ReadFile(log)
		return string(b), err
	}).WithTimeout(time.Minute).Should(ContainSubstring(`"msg":"Starting workers"`), "the manager did not start; see %s", log)
}
