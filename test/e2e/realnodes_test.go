package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
)

// realNodes is how many real nodes the real tier adds.
const realNodes = 3

// realUpgradeTimeout bounds one upgrade of the real nodes: each node's
// drain waits for real replacements to be ready (a budget allows one pod
// at a time), its kubelet restarts, and the sample soaks 30 s; on the
// kubeadm rig each worker also installs three packages, one at a time.
const realUpgradeTimeout = 12 * time.Minute

// The versions real nodes start at and are upgraded to, and the label
// the rig gives them (hack/realnodes.sh).
const (
	realFrom, realTo = "v1.36.3", "v1.37.2"
	realLabel        = "sim.nodewave.io/real"
)

// managerImage is the manager's image as the real tier builds it (make
// image) and loads it into the real nodes; a tag other than latest, so the
// Deployment's pods never try to pull it.
const managerImage = "ghcr.io/nodewave/nodewave:e2e"

// rigNodeNames are the real nodes the tier upgrades: real-0 ... beside
// kwok's nodes, or the kubeadm rig's workers.
func rigNodeNames() []string {
	if kubeadmTier {
		return numbered("worker-%d", kubeadmWorkers)
	}
	return numbered("real-%d", realNodes)
}

// numbered is count names made from format and 0, 1, ….
func numbered(format string, count int) []string {
	names := make([]string, 0, count)
	for i := range count {
		names = append(names, fmt.Sprintf(format, i))
	}
	return names
}

// inNode runs a command inside a real node (or a machine of the kubeadm
// rig) and returns its output.
func inNode(node string, args ...string) string {
	if kubeadmTier {
		return run(nil, "hack/kubeadm.sh", append([]string{"exec", node}, args...)...)
	}
	return run(simEnv, "hack/realnodes.sh", append([]string{"exec", node}, args...)...)
}

// rigEnv reads one setting of a rig (hack/realnodes.sh or hack/kubeadm.sh
// env).
func rigEnv(rig, key string) string {
	for _, kv := range strings.Fields(run(simEnv, rig, "env")) {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	Fail(rig + " env has no " + key)
	return ""
}

// deployManager builds the manager's image as a release does (make image:
// the OCI archive of both platforms' index), loads it into the machines of
// rig (hack/realnodes.sh or hack/kubeadm.sh) and applies config/default
// through an overlay that only sets the image's tag and, given a label,
// keeps the pod on the nodes that carry it (kwok's nodes would only pretend
// to run it). The overlay lives under bin/, inside the repository, because
// kustomize takes no absolute path to a base.
func deployManager(rig, onLabel string) {
	run(nil, "make", "image", "IMG="+managerImage)
	run(simEnv, rig, "load", filepath.Join(root, "dist", "nodewave-image.tar"))
	dir := filepath.Join(root, "bin", "e2e-"+filepath.Base(strings.TrimSuffix(rig, ".sh"))+"-overlay")
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	repo, tag, _ := strings.Cut(managerImage, ":")
	kustomization := fmt.Sprintf("resources:\n- ../../config/default\nimages:\n- name: %s\n  newTag: %s\n", repo, tag)
	if onLabel != "" {
		kustomization += fmt.Sprintf(`patches:
- target: {kind: Deployment, name: nodewave-controller-manager}
  patch: |-
    - op: add
      path: /spec/template/spec/nodeSelector
      value: {%s: "true"}
`, onLabel)
	}
	Expect(os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644)).To(Succeed())
	run(nil, kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-k", dir)
	run(nil, kubectl, "--kubeconfig", kubeconfig, "-n", jobNamespace, "rollout", "status",
		"deployment/nodewave-controller-manager", "--timeout=3m")
}

// binarySample is config/samples' binary ClusterUpgrade, named name, with
// the only changes the real tier makes: the release URL is the rig's, and
// it selects the real nodes.
func binarySample(name, releaseURL string) *upgradev1alpha1.ClusterUpgrade {
	data, err := os.ReadFile(filepath.Join(root, "config", "samples", "upgrade_v1alpha1_clusterupgrade_binary.yaml"))
	Expect(err).NotTo(HaveOccurred())
	cu := &upgradev1alpha1.ClusterUpgrade{}
	Expect(yaml.UnmarshalStrict(data, cu)).To(Succeed())
	cu.Name = name
	cu.Spec.NodeSelector = selectorOf(realLabel, "true")
	env := cu.Spec.Upgrade.Job.Template.Spec.Containers[0].Env
	Expect(env).To(ContainElement(HaveField("Name", "RELEASE_URL")))
	for i := range env {
		if env[i].Name == "RELEASE_URL" {
			env[i].Value = releaseURL
		}
	}
	return cu
}

// realWorkloads runs Deployments on the real nodes with budgets that let
// one pod go at a time; their image is the rig's busybox (never pulled).
// On the kubeadm rig they go where the scheduler puts them: the workers
// (the control plane is tainted).
func realWorkloads(ctx context.Context) {
	workloads := []struct {
		name     string
		replicas int32
		pdb      policyv1.PodDisruptionBudgetSpec
	}{
		{"real-echo", 6, policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1))}},
		{"real-web", 3, policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromString("60%"))}},
	}
	ensureNamespace(ctx, "workloads") // hack/sim.sh makes it; kubeadm does not
	budgets := make([]*policyv1.PodDisruptionBudget, 0, len(workloads))
	for _, w := range workloads {
		labels := map[string]string{"app": w.name}
		dep := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: "workloads"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(w.replicas),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						NodeSelector:                  workloadSelector(),
						TerminationGracePeriodSeconds: ptr.To[int64](5),
						Containers: []corev1.Container{{
							Name: "app", Image: "nodewave.local/busybox:1.35", ImagePullPolicy: corev1.PullNever,
							Command: []string{"sh", "-c", `trap "exit 0" TERM; echo "up on $(hostname)"; while :; do sleep 1; done`},
						}},
					},
				},
			},
		}
		Expect(admin.Create(ctx, dep)).To(Succeed())
		budgets = append(budgets, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: "workloads"}, Spec: w.pdb})
		budgets[len(budgets)-1].Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
	}
	expectRealWorkloadsRunning(ctx)
	// The budgets come once the pods run: the monitor holds every budget
	// to its desired healthy pods from the moment it exists.
	for _, pdb := range budgets {
		Expect(admin.Create(ctx, pdb)).To(Succeed())
	}
	Eventually(func(g Gomega) {
		for _, pdb := range budgets {
			got := &policyv1.PodDisruptionBudget{}
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(pdb), got)).To(Succeed())
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(got.Status.CurrentHealthy).To(BeNumerically(">=", got.Status.DesiredHealthy))
		}
	}).Should(Succeed())
}

// workloadSelector keeps the real workloads on real nodes beside kwok's.
func workloadSelector() map[string]string {
	if kubeadmTier {
		return nil
	}
	return map[string]string{realLabel: "true"}
}

// realPod is a workload pod on a real node and its containers.
type realPod struct {
	name, node string
	containers []string // containerd IDs
}

// realWorkloadPods lists the workload pods on real nodes.
func realWorkloadPods(ctx context.Context, g Gomega) []realPod {
	pods := &corev1.PodList{}
	g.Expect(admin.List(ctx, pods, client.InNamespace("workloads"))).To(Succeed())
	var out []realPod
	for _, p := range pods.Items {
		if !slices.Contains(rigNodeNames(), p.Spec.NodeName) {
			continue
		}
		rp := realPod{name: p.Name, node: p.Spec.NodeName}
		for _, c := range p.Status.ContainerStatuses {
			_, id, _ := strings.Cut(c.ContainerID, "://")
			rp.containers = append(rp.containers, id)
		}
		out = append(out, rp)
	}
	return out
}

// runningTasks is the containers containerd runs on a real node.
func runningTasks(node string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(inNode(node, "ctr", "-n", "k8s.io", "tasks", "ls"), "\n")[1:] {
		if f := strings.Fields(line); len(f) == 3 && f[2] == "RUNNING" {
			out[f[0]] = true
		}
	}
	return out
}

// expectRealWorkloadsRunning waits for every real workload to be back at
// full strength, each of its containers a process containerd runs on the
// pod's node.
func expectRealWorkloadsRunning(ctx context.Context) {
	Eventually(func(g Gomega) {
		for _, name := range []string{"real-echo", "real-web"} {
			dep := &appsv1.Deployment{}
			g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: "workloads", Name: name}, dep)).To(Succeed())
			g.Expect(dep.Status.ReadyReplicas).To(Equal(*dep.Spec.Replicas), name)
			g.Expect(dep.Status.UpdatedReplicas).To(Equal(*dep.Spec.Replicas), name)
		}
		tasks := map[string]map[string]bool{}
		for _, p := range realWorkloadPods(ctx, g) {
			if tasks[p.node] == nil {
				tasks[p.node] = runningTasks(p.node)
			}
			g.Expect(p.containers).NotTo(BeEmpty(), p.name)
			for _, c := range p.containers {
				g.Expect(tasks[p.node]).To(HaveKey(c), "pod %s: container %s does not run on %s", p.name, c, p.node)
			}
		}
	}).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
}

// kubeletVersion is what the binary of the kubelet that runs on node says
// it is (not what the Node object says).
func kubeletVersion(node string) string {
	return inNode(node, "sh", "-c", `exec /proc/$(systemctl show -p MainPID --value kubelet)/exe --version`)
}

// expectRealUpgrade checks a finished upgrade of the real nodes to version,
// from outside nodewave: the kubelets that run, the Node objects, the
// workload pods that were on the nodes before (gone, their containers
// stopped, replaced by running ones), the Jobs and the monitor's counts.
func expectRealUpgrade(ctx context.Context, cuName, version string, before []realPod) {
	Eventually(func(g Gomega) {
		cu := getCU(ctx, g, cuName)
		if cu.Status.Phase == upgradev1alpha1.PhaseFailed { // terminal: no use waiting out the timeout
			StopTrying(fmt.Sprintf("the upgrade failed: status %+v", cu.Status)).Now()
		}
		g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded), "status %+v", cu.Status)
		g.Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation))
	}).WithTimeout(realUpgradeTimeout).WithPolling(time.Second).Should(Succeed())
	for _, n := range rigNodeNames() {
		Expect(kubeletVersion(n)).To(Equal("Kubernetes "+version), "the kubelet running on %s", n)
		node := getNode(ctx, Default, n)
		Expect(node.Status.NodeInfo.KubeletVersion).To(Equal(version), n)
		Expect(node.Spec.Unschedulable).To(BeFalse(), n)
	}
	By("checking every pod that was on a real node was replaced, its containers stopped")
	tasks := map[string]map[string]bool{}
	for _, p := range before {
		err := admin.Get(ctx, client.ObjectKey{Namespace: "workloads", Name: p.name}, &corev1.Pod{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "pod %s, on %s before the upgrade, is still there (%v)", p.name, p.node, err)
		if tasks[p.node] == nil {
			tasks[p.node] = runningTasks(p.node)
		}
		for _, c := range p.containers {
			Expect(tasks[p.node]).NotTo(HaveKey(c), "the container %s of evicted pod %s still runs on %s", c, p.name, p.node)
		}
	}
	expectRealWorkloadsRunning(ctx)
	starts, jobs, complete := monitor.startsBy(cuName), monitor.jobsBy(cuName), monitor.completedJobs(cuName)
	for _, n := range rigNodeNames() {
		Expect(starts[n]).To(Equal(1), "%s started %d times", n, starts[n])
		Expect(jobs[n]).To(Equal(1), "%s got %d upgrade Jobs", n, jobs[n])
		Expect(complete[n]).To(BeTrue(), "the upgrade Job of %s was never seen Complete", n)
	}
	violations, _, _ := monitor.report()
	Expect(violations).To(BeEmpty())
}

// putBack installs the starting kubelet again on every real node and
// restarts it, as an admin would by hand, so the next scenario has nodes
// to upgrade.
func putBack(ctx context.Context) {
	bin := filepath.Join(run(nil, "hack/toolchain.sh", "dir"), "..", "kubernetes-"+realFrom, "kubelet")
	for _, n := range rigNodeNames() {
		data, err := os.ReadFile(bin)
		Expect(err).NotTo(HaveOccurred())
		root := filepath.Join(filepath.Dir(kubeconfig), "real", n, "root")
		Expect(os.WriteFile(filepath.Join(root, "usr", "bin", "kubelet.new"), data, 0o755)).To(Succeed())
		Expect(os.Rename(filepath.Join(root, "usr", "bin", "kubelet.new"), filepath.Join(root, "usr", "bin", "kubelet"))).To(Succeed())
		inNode(n, "systemctl", "restart", "kubelet")
	}
	Eventually(func(g Gomega) {
		for _, n := range rigNodeNames() {
			node := getNode(ctx, g, n)
			g.Expect(node.Status.NodeInfo.KubeletVersion).To(Equal(realFrom), n)
			g.Expect(node.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), n)
		}
	}).Should(Succeed())
	expectRealWorkloadsRunning(ctx)
}

// The real tier's scenarios, in this order: the nodes start at v1.36.3.
var _ = Describe("nodewave on real nodes", Ordered, Label("real"), func() {
	var releaseURL string
	BeforeAll(func(ctx SpecContext) {
		if !realTier {
			Skip("the real-node tier runs with make test-real (E2E_TIER=real)")
		}
		releaseURL = rigEnv("hack/realnodes.sh", "RELEASE_URL")
		for _, n := range rigNodeNames() {
			Expect(kubeletVersion(n)).To(Equal("Kubernetes " + realFrom))
		}
		realWorkloads(ctx)
		By("reading a real pod's log and running a command in it")
		pod := realWorkloadPods(ctx, Default)[0]
		kc := []string{"--kubeconfig", kubeconfig, "-n", "workloads"}
		Expect(run(nil, kubectl, append(kc, "logs", pod.name)...)).To(ContainSubstring("up on " + pod.name))
		Expect(run(nil, kubectl, append(kc, "exec", pod.name, "--", "cat", "/proc/1/cmdline")...)).To(ContainSubstring("while :; do sleep 1; done"))
	})
	AfterEach(func(ctx SpecContext) {
		violations, _, _ := monitor.report()
		Expect(violations).To(BeEmpty())
	})

	It("upgrades the real nodes' kubelets two at a time with the binary sample's Job (Concurrent)", func(ctx SpecContext) {
		before := realWorkloadPods(ctx, Default)
		Expect(before).NotTo(BeEmpty())
		managerBefore := managerPod(ctx)
		cu := binarySample("real-concurrent", releaseURL)
		Expect(cu.Spec.Strategy.MaxUnavailable.IntValue()).To(Equal(2), "the sample's budget")
		startUpgrade(ctx, cu, 2)
		expectRealUpgrade(ctx, cu.Name, realTo, before)
		// Every real node was drained, the manager's own among them.
		managerAfter := managerPod(ctx)
		Expect(managerAfter.Name).NotTo(Equal(managerBefore.Name), "the manager's pod was never evicted")
		_, peak, _ := monitor.report()
		finishScenario(ctx, getCU(ctx, Default, cu.Name))
		record(faultRecord{
			Fault: "the manager's own node drained (real nodes)",
			Injected: fmt.Sprintf("the manager runs as config/default's Deployment on %s, one of the 3 real nodes it upgrades "+
				"(binary sample's Job, Concurrent, count 2, v%s -> %s)", managerBefore.Spec.NodeName, realFrom[1:], realTo),
			Expected: "its pod is evicted like any other; the replacement takes the lease and carries the upgrade on",
			Observed: fmt.Sprintf("evicted from %s, back on %s; 3/3 real kubelets running %s, each node started once and given one Job, "+
				"each Job Complete after its own kubelet's restart; %d workload pods evicted, their containers stopped, "+
				"replacements running; at most %d nodes out at once", managerBefore.Spec.NodeName, managerAfter.Spec.NodeName,
				realTo, len(before), peak),
			Invariants: standardInvariants + "; one start and one Job per node; running kubelet's version read from its binary",
		})
	})

	It("upgrades them one at a time (Sequential)", func(ctx SpecContext) {
		putBack(ctx)
		before := realWorkloadPods(ctx, Default)
		cu := binarySample("real-sequential", releaseURL)
		cu.Spec.Strategy = upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.SequentialStrategy}
		cu.Spec.Health.SoakDuration = &metav1.Duration{Duration: 5 * time.Second}
		startUpgrade(ctx, cu, 1)
		expectRealUpgrade(ctx, cu.Name, realTo, before)
		finishScenario(ctx, getCU(ctx, Default, cu.Name))
	})

	It("fails a node whose new kubelet does not start, keeps it cordoned and halts", func(ctx SpecContext) {
		putBack(ctx)
		By("serving a release whose kubelet exits at once (Debian's false), with a valid checksum")
		dir := filepath.Join(rigEnv("hack/realnodes.sh", "RELEASES_DIR"), "broken", "release", realTo, "bin", "linux", "amd64")
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		data, err := os.ReadFile("/usr/bin/false")
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, "kubelet"), data, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "kubelet.sha256"), []byte(sha256Hex(data)+"\n"), 0o644)).To(Succeed())

		cu := binarySample("real-broken", strings.TrimSuffix(releaseURL, "/release")+"/broken/release")
		cu.Spec.Strategy = upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.SequentialStrategy}
		cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 90 * time.Second}
		startUpgrade(ctx, cu, 1)
		var broken string
		Eventually(func(g Gomega) {
			c := getCU(ctx, g, cu.Name)
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed), "status %+v", c.Status)
			g.Expect(c.Status.Failed).To(HaveLen(1))
			broken = c.Status.Failed[0].Name
			g.Expect(c.Status.Failed[0].Reason).To(Equal(plan.ReasonUpgradeTimeout))
			stalled := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonTooManyFailures))
		}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())

		By("checking " + broken + " is cordoned, its kubelet not running, and nothing else was touched")
		node := getNode(ctx, Default, broken)
		Expect(node.Spec.Unschedulable).To(BeTrue())
		Expect(node.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeFailed)))
		Expect(inNode(broken, "sh", "-c", "systemctl is-active kubelet || true")).NotTo(Equal("active"))
		starts := monitor.startsBy(cu.Name)
		for _, n := range rigNodeNames() {
			if n == broken {
				Expect(starts[n]).To(Equal(1), n)
				continue
			}
			Expect(starts[n]).To(BeZero(), "%s was started after the failure", n)
			Expect(getNode(ctx, Default, n).Spec.Unschedulable).To(BeFalse(), n)
			Expect(kubeletVersion(n)).To(Equal("Kubernetes "+realFrom), n)
		}
		By("waiting for kube-controller-manager to find " + broken + " NotReady; the halt holds meanwhile")
		// After kube-controller-manager's node-monitor grace period: 40 s
		// with real nodes (hack/sim.sh), as in Kubernetes.
		Eventually(func(g Gomega) {
			node = getNode(ctx, g, broken)
			g.Expect(nodeview.Ready(node)).To(BeFalse(), "%s is still Ready", broken)
		}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		Expect(monitor.startsBy(cu.Name)).To(HaveLen(1), "a node started after the halt")
		Expect(getNode(ctx, Default, broken).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeFailed)))

		failedAt := getCU(ctx, Default, cu.Name).Status.Failed[0].Time
		notReadySince := nodeview.ReadyCondition(node).LastTransitionTime

		By("an admin deleting the ClusterUpgrade, uncordoning " + broken + " and putting its old kubelet back")
		finishScenario(ctx, getCU(ctx, Default, cu.Name), broken)
		putBack(ctx)
		record(faultRecord{
			Fault: "new kubelet does not start (real node)",
			Injected: "the binary sample's Job installs a kubelet that exits at once (Debian's false, its checksum valid) on the first node; " +
				"Sequential, upgrade.timeout 90 s, maxFailedNodes 0",
			Expected: "the node goes NotReady; it fails at upgrade.timeout and stays cordoned; the upgrade halts and touches no other node",
			Observed: fmt.Sprintf("%s NotReady at %s, failed UpgradeTimeout at %s, cordoned; halted (TooManyFailures); the other 2 never started",
				broken, notReadySince.UTC().Format(time.TimeOnly), failedAt.UTC().Format(time.TimeOnly)),
			Invariants: standardInvariants + "; kubelet not running on the failed node",
		})
	})

	// Last: it takes the real nodes away.
	It("leaves no process, mount, cgroup, network device or file behind, also after a crash", func(ctx SpecContext) {
		realDir := filepath.Join(filepath.Dir(kubeconfig), "real")
		By("SIGKILLing every node's systemd-nspawn, as a crash of the session that started them would: the nodes run on")
		for _, n := range rigNodeNames() {
			pid, err := os.ReadFile(filepath.Join(realDir, n, "nspawn.pid"))
			Expect(err).NotTo(HaveOccurred())
			run(nil, "kill", "-9", strings.TrimSpace(string(pid)))
		}
		Expect(rigProcesses()).NotTo(BeEmpty(), "the nodes' processes went with systemd-nspawn; no crash to clean up after")
		By("hack/realnodes.sh down, twice")
		run(simEnv, "hack/realnodes.sh", "down")
		run(simEnv, "hack/realnodes.sh", "down")
		Expect(rigProcesses()).To(BeEmpty(), "processes of the real nodes are left")
		Expect(run(nil, "ip", "netns", "list")).NotTo(ContainSubstring("nwreal-"), "network namespaces are left")
		Expect(run(nil, "ip", "-o", "link", "show")).NotTo(ContainSubstring("nwreal"), "network devices are left")
		mounts, err := os.ReadFile("/proc/self/mounts")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(mounts)).NotTo(ContainSubstring(realDir), "mounts are left")
		Expect(run(nil, "find", "/sys/fs/cgroup", "-name", "nwreal-*")).To(BeEmpty(), "cgroups are left")
		_, err = os.Stat(realDir)
		Expect(os.IsNotExist(err)).To(BeTrue(), "%s is left (%v)", realDir, err)
	})
})

// rigProcesses lists the processes in the real nodes' cgroups.
func rigProcesses() []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cgroup")
	for _, f := range dirs {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "/nwreal-real-") {
			out = append(out, filepath.Base(filepath.Dir(f)))
		}
	}
	return out
}

// managerPod is the manager's running pod.
func managerPod(ctx context.Context) *corev1.Pod {
	var pod *corev1.Pod
	Eventually(func(g Gomega) {
		pods := &corev1.PodList{}
		g.Expect(admin.List(ctx, pods, client.InNamespace(jobNamespace),
			client.MatchingLabels{"control-plane": "controller-manager"})).To(Succeed())
		var running []corev1.Pod
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				running = append(running, p)
			}
		}
		g.Expect(running).To(HaveLen(1))
		pod = &running[0]
	}).Should(Succeed())
	return pod
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
