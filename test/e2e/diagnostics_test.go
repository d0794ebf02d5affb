package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// When a spec fails, the suite keeps what is needed to tell why: the
// simulated cluster's state at that moment and the logs of every component
// of it and of the manager, in a directory of the temp directory that
// outlives the cluster (hack/sim.sh down deletes the cluster's own logs).
// The failure output names the directory and sums up the workloads'
// PodDisruptionBudgets and the pods that are not ready.
var _ = JustAfterEach(func() {
	if restarts := supervise.restartsSince(CurrentSpecReport().StartTime); len(restarts) > 0 {
		lines := make([]string, 0, len(restarts))
		for _, r := range restarts {
			lines = append(lines, r.String())
		}
		AddReportEntry("simulated control plane: components started again by the supervisor", strings.Join(lines, "\n"))
	}
	if !CurrentSpecReport().Failed() || kubeconfig == "" {
		return
	}
	dir := keepDiagnostics(CurrentSpecReport().LeafNodeText)
	GinkgoWriter.Printf("diagnostics of the failure kept in %s\n%s%s", dir, componentSummary(), workloadSummary())
})

// componentSummary says, for the failure output, whether each component of
// the simulated cluster runs, and how often the supervisor restarted it.
func componentSummary() string {
	var b strings.Builder
	restarts := map[string]int{}
	for _, r := range supervise.restartsSince(time.Time{}) {
		restarts[r.Component]++
	}
	for _, name := range simComponents {
		pid, err := readPID(name)
		state := "running"
		if err != nil {
			state = err.Error()
		} else if !alive(pid) {
			state = "NOT RUNNING"
		}
		fmt.Fprintf(&b, "component %s: pid %d %s, restarted by the supervisor %d times in this run\n", name, pid, state, restarts[name])
	}
	return b.String()
}

// keepDiagnostics writes the cluster's state and copies every log into a
// new directory named after the spec, and returns it.
func keepDiagnostics(spec string) string {
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(spec), "-"), "-")
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("nodewave-e2e-failure-%s-%s", time.Now().UTC().Format("20060102T150405"), slug))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		GinkgoWriter.Printf("diagnostics: %v\n", err)
		return dir
	}
	for file, args := range map[string][]string{
		"nodes.txt":            {"get", "nodes", "-o", "wide", "-L", "upgrade.nodewave.io/state", "-L", groupLabel},
		"nodes.yaml":           {"get", "nodes", "-o", "yaml"},
		"pods.txt":             {"get", "pods", "-A", "-o", "wide"},
		"pods-workloads.yaml":  {"get", "pods", "-n", "workloads", "-o", "yaml"},
		"pdbs.yaml":            {"get", "pdb", "-A", "-o", "yaml"},
		"workloads.txt":        {"get", "deployments,replicasets,statefulsets,daemonsets", "-n", "workloads", "-o", "wide"},
		"events.txt":           {"get", "events", "-A", "--sort-by=.lastTimestamp"},
		"clusterupgrades.yaml": {"get", "clusterupgrades", "-o", "yaml"},
		"leases.txt":           {"get", "leases", "-A"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
		cancel()
		if err != nil {
			out = append(out, fmt.Sprintf("\nkubectl %s: %v\n", strings.Join(args, " "), err)...)
		}
		_ = os.WriteFile(filepath.Join(dir, file), out, 0o644)
	}
	_ = os.WriteFile(filepath.Join(dir, "components.txt"), []byte(componentSummary()), 0o644)
	// The components' logs (kwokctl's work directory) and the manager's.
	copyFiles(filepath.Join(componentDir(), "logs", "*"), filepath.Join(dir, "components"))
	copyFiles(filepath.Join(os.TempDir(), "nodewave-e2e-*.log"), filepath.Join(dir, "manager"))
	if realTier || kubeadmTier {
		keepRealNodeDiagnostics(dir)
	}
	return dir
}

// suiteStarted is when this test binary started: manager logs older than
// that are an earlier run's.
var suiteStarted = time.Now()

func copyFiles(glob, to string) {
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		return
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.ModTime().Before(suiteStarted) {
			continue
		}
		if b, err := os.ReadFile(f); err == nil {
			_ = os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o644)
		}
	}
}

// workloadSummary is, for the failure output, every PodDisruptionBudget of
// the workloads namespace (healthy, desired, expected, allowed, disrupted
// pods) and every pod of it that is not ready.
func workloadSummary() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b strings.Builder
	pdbs, err := clientset.PolicyV1().PodDisruptionBudgets("workloads").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("listing PodDisruptionBudgets: %v\n", err)
	}
	for _, p := range pdbs.Items {
		fmt.Fprintf(&b, "pdb %s: healthy %d, desired %d, expected %d, allowed %d, observedGeneration %d/%d, disrupted %v, %s\n",
			p.Name, p.Status.CurrentHealthy, p.Status.DesiredHealthy, p.Status.ExpectedPods, p.Status.DisruptionsAllowed,
			p.Status.ObservedGeneration, p.Generation, disrupted(p.Status.DisruptedPods), pdbCondition(&p))
	}
	pods, err := clientset.CoreV1().Pods("workloads").List(ctx, metav1.ListOptions{})
	if err != nil {
		return b.String() + fmt.Sprintf("listing pods: %v\n", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if podutils.IsPodReady(p) {
			continue
		}
		fmt.Fprintf(&b, "pod %s not ready: node %q, phase %s, deleting %t, created %s, resourceVersion %s\n",
			p.Name, p.Spec.NodeName, p.Status.Phase, p.DeletionTimestamp != nil,
			p.CreationTimestamp.UTC().Format(time.TimeOnly), p.ResourceVersion)
	}
	return b.String()
}

func disrupted(m map[string]metav1.Time) string {
	out := make([]string, 0, len(m))
	for name, t := range m {
		out = append(out, name+"@"+t.UTC().Format(time.TimeOnly))
	}
	return "[" + strings.Join(out, " ") + "]"
}

func pdbCondition(p *policyv1.PodDisruptionBudget) string {
	for _, c := range p.Status.Conditions {
		if c.Type == policyv1.DisruptionAllowedCondition {
			return fmt.Sprintf("DisruptionAllowed=%s (%s) since %s", c.Status, c.Reason, c.LastTransitionTime.UTC().Format(time.TimeOnly))
		}
	}
	return "no DisruptionAllowed condition"
}

// keepRealNodeDiagnostics adds, in the real and kubeadm tiers, the
// manager pods' logs and each real node's units, kubelet journal and
// containers (on the kubeadm rig, every machine's).
func keepRealNodeDiagnostics(dir string) {
	write := func(file string, name string, args ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), simEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			out = append(out, fmt.Sprintf("\n%s %s: %v\n", name, strings.Join(args, " "), err)...)
		}
		_ = os.WriteFile(filepath.Join(dir, file), out, 0o644)
	}
	write("manager-pods.log", kubectl, "--kubeconfig", kubeconfig, "-n", jobNamespace, "logs",
		"-l", "control-plane=controller-manager", "--all-containers", "--prefix", "--tail=-1")
	write("upgrade-job-pods.log", kubectl, "--kubeconfig", kubeconfig, "-n", jobNamespace, "logs",
		"-l", "job-name", "--all-containers", "--prefix", "--tail=-1")
	rig, nodes := "hack/realnodes.sh", rigNodeNames()
	if kubeadmTier {
		rig = "hack/kubeadm.sh"
		for i := range kubeadmControlPlanes {
			nodes = append(nodes, fmt.Sprintf("cp-%d", i))
		}
	}
	// The network between the machines, their pods and this host (the
	// rig's release server listens on the bridge): an upgrade Job's
	// download once timed out from one machine's pod while the others'
	// succeeded.
	write("host-network.txt", "sh", "-c", "ip -br addr; ip route; ip neigh")
	for _, n := range nodes {
		write(n+"-network.txt", rig, "exec", n, "sh", "-c", "ip -br addr; ip route; ip neigh")
		write(n+"-units.txt", rig, "exec", n, "systemctl", "--no-pager", "list-units", "--all")
		write(n+"-kubelet.log", rig, "exec", n, "journalctl", "--no-pager", "-u", "kubelet", "-n", "500")
		write(n+"-tasks.txt", rig, "exec", n, "ctr", "-n", "k8s.io", "tasks", "ls")
	}
}
