package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

// The fault scenarios. Each runs with the invariant monitor on and records
// its rows of docs/reliability.md once its assertions passed.

// leaseName is the manager's leader election Lease (cmd/main.go).
const leaseName = "nodewave.upgrade.nodewave.io"

// crashLoop SIGKILLs the manager at random 2-10 s intervals through a
// 50-node Concurrent upgrade.
func crashLoop(ctx SpecContext) {
	const name = "e2e-crash-loop"
	cu := concurrently(clusterUpgrade(name, "v1.36.6", selectorOf("pool", "general"), upgradev1alpha1.JobUpgrade), "20%")
	startUpgrade(ctx, cu, 10)
	rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 5))
	kills := 0
	for {
		time.Sleep(time.Duration(2000+rng.IntN(8000)) * time.Millisecond)
		if getCU(ctx, Default, name).Status.Phase == upgradev1alpha1.PhaseSucceeded {
			break
		}
		By("SIGKILLing the manager mid-upgrade")
		manager.kill()
		manager.start()
		kills++
	}
	Expect(kills).To(BeNumerically(">=", 2), "the upgrade ended before the manager was killed twice")
	expectUpgraded(ctx, name, nodeNames(0, workers), 10)
	record(faultRecord{
		Fault:      "manager crash loop",
		Injected:   "SIGKILL at random 2-10 s intervals, restarted at once; 50 nodes, Concurrent 20% (10), Job mode",
		Expected:   "continue: each restart resumes from the nodes' labels",
		Observed:   fmt.Sprintf("%d kills; 50/50 upgraded, each node started once and given one Job, at most 10 out at once", kills),
		Invariants: standardInvariants + "; one start and one Job per node",
	})
}

// leaderFailover runs two manager replicas with leader election and
// SIGKILLs the leader mid-upgrade.
func leaderFailover(ctx SpecContext) {
	const name = "e2e-leader"
	By("replacing the single manager by two replicas with leader election")
	manager.stop()
	// Shorter than the defaults (15 s, 10 s, 2 s) to keep the suite quick;
	// the takeover bound below follows from them.
	const lease, renew, retry = 8 * time.Second, 5 * time.Second, time.Second
	electing := []string{"--leader-elect", "--leader-election-namespace", jobNamespace,
		"--leader-election-lease-duration", lease.String(), "--leader-election-renew-deadline", renew.String(),
		"--leader-election-retry-period", retry.String()}
	first := newManagerProcess("replica-a", managerKubeconfig, electing...)
	second := newManagerProcess("replica-b", managerKubeconfig, electing...)
	DeferCleanup(func() {
		first.stop()
		second.stop()
		manager.start()
	})
	first.start()
	leaderA := waitLeader(ctx, "")
	second.start()
	Consistently(func(g Gomega) { g.Expect(leaseHolder(ctx, g)).To(Equal(leaderA)) }).
		WithTimeout(3*time.Second).Should(Succeed(), "the second replica took the lease from a live leader")

	cu := concurrently(clusterUpgrade(name, "v1.36.7", selectorOf(groupLabel, "e"), upgradev1alpha1.JobUpgrade), "3")
	startUpgrade(ctx, cu, 3)
	Eventually(func(g Gomega) { g.Expect(getCU(ctx, g, name).Status.UpgradedNodes).To(BeNumerically(">=", 2)) }).Should(Succeed())

	By("SIGKILLing the leader")
	killed := time.Now()
	first.kill()
	waitLeader(ctx, leaderA)
	takeover := time.Since(killed)
	// The standby takes the lease once it has not seen it change for the
	// lease duration, measured from when it saw the leader's last renewal
	// (up to one jittered retry period, 1.2 x, after the kill), and tries
	// every jittered retry period: lease + 2 x 1.2 x retry, plus 2 s for the
	// API round trips.
	bound := lease + 2*retry*12/10 + 2*time.Second
	Expect(takeover).To(BeNumerically("<=", bound), "takeover took %s, more than %s", takeover, bound)

	expectUpgraded(ctx, name, nodeNames(40, 50), 3)
	record(faultRecord{
		Fault:    "leader killed",
		Injected: "two replicas with --leader-elect; SIGKILL of the leader after 2 nodes were upgraded; 10 nodes, Concurrent 3, Job mode",
		Expected: fmt.Sprintf("the standby takes the lease within the lease duration plus two retry periods (%s here) and continues", bound),
		Observed: fmt.Sprintf("lease moved to the standby in %.1f s (lease %s, renew %s, retry %s); 10/10 upgraded, each node started once and given one Job",
			takeover.Seconds(), lease, renew, retry),
		Invariants: standardInvariants + "; one start and one Job per node",
	})
}

// leaseHolder reads the leader election Lease's holder.
func leaseHolder(ctx context.Context, g Gomega) string {
	lease := &coordinationv1.Lease{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: jobNamespace, Name: leaseName}, lease)).To(Succeed())
	return ptr.Deref(lease.Spec.HolderIdentity, "")
}

// waitLeader waits for the Lease to be held by someone other than previous.
func waitLeader(ctx context.Context, previous string) string {
	var holder string
	Eventually(func(g Gomega) {
		holder = leaseHolder(ctx, g)
		g.Expect(holder).NotTo(BeEmpty())
		g.Expect(holder).NotTo(Equal(previous))
	}).WithPolling(200 * time.Millisecond).Should(Succeed())
	return holder
}

// controlPlaneRestart restarts one control-plane component mid-upgrade.
func controlPlaneRestart(component, target string) func(SpecContext) {
	return func(ctx SpecContext) {
		name := "e2e-restart-" + component
		cu := concurrently(clusterUpgrade(name, target, selectorOf(groupLabel, "d"), upgradev1alpha1.ExternalUpgrade), "3")
		startUpgrade(ctx, cu, 3)
		// Mid-upgrade, but not mid-eviction: see "Found on the way" in
		// docs/reliability.md for what a kill during an eviction did once.
		Eventually(func(g Gomega) {
			st := getCU(ctx, g, name).Status
			g.Expect(st.UpgradedNodes).To(BeNumerically(">=", 1))
			g.Expect(st.InProgress).NotTo(BeEmpty())
			for _, n := range st.InProgress {
				g.Expect(n.State).To(Equal(upgradev1alpha1.NodeUpgrading))
			}
		}).WithPolling(50 * time.Millisecond).Should(Succeed())

		By("restarting " + component + " mid-upgrade")
		killed := time.Now()
		restartComponent(component, 2*time.Second)
		back := waitAPIReady(ctx)
		expectUpgraded(ctx, name, nodeNames(30, 40), 3)
		expectComponentsRunning()
		record(faultRecord{
			Fault:      component + " restarted",
			Injected:   "SIGKILL of the " + component + " process mid-upgrade, started again 2 s later; 10 nodes, Concurrent 3, External mode",
			Expected:   "continue: the manager's requests fail meanwhile, its watches resume",
			Observed:   fmt.Sprintf("API answered again after %.1f s; 10/10 upgraded, each node started once", back.Sub(killed).Seconds()),
			Invariants: standardInvariants + "; one start per node",
		})
	}
}

// nodeFaults breaks six nodes of one Concurrent upgrade in six ways.
func nodeFaults(ctx SpecContext) {
	const name = "e2e-node-faults"
	// Group c in plan order: zone-a 021 024 027, zone-b 022 025 028,
	// zone-c 020 023 026 029. The first three start together.
	const (
		notReadyDraining  = "worker-021"
		notReadyUpgrading = "worker-024"
		notReadyUpgraded  = "worker-027"
		deleted           = "worker-022"
		neverUpgraded     = "worker-025"
		wrongVersion      = "worker-028"
	)
	By("holding the drain of " + notReadyDraining + " with a pod that terminates only when let go")
	hold := pinnedDeployment("e2e", "hold", notReadyDraining)
	ensureNamespace(ctx, "e2e")
	Expect(admin.Create(ctx, hold)).To(Succeed())
	holdPod := waitPodRunning(ctx, "e2e", "hold")
	setPodFrozen(ctx, holdPod, true)

	agent.Set(notReadyUpgrading, nodeagent.Behaviour{Delay: 6 * time.Second})
	agent.Set(deleted, nodeagent.Behaviour{Never: true})
	agent.Set(neverUpgraded, nodeagent.Behaviour{Never: true})
	agent.Set(wrongVersion, nodeagent.Behaviour{Report: "v1.36.4"})
	DeferCleanup(func() {
		for _, n := range []string{notReadyUpgrading, deleted, neverUpgraded, wrongVersion} {
			agent.Set(n, nodeagent.Behaviour{})
		}
	})

	cu := concurrently(clusterUpgrade(name, "v1.36.10", selectorOf(groupLabel, "c"), upgradev1alpha1.ExternalUpgrade), "3")
	cu.Spec.MaxFailedNodes = 2
	cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 25 * time.Second}
	startUpgrade(ctx, cu, 3)

	var faults []chan struct{}
	fault := func(fn func()) {
		done := make(chan struct{})
		faults = append(faults, done)
		goFault(done, fn)
	}
	fault(func() {
		waitNodeState(ctx, notReadyDraining, upgradev1alpha1.NodeDraining)
		setNodeReady(ctx, notReadyDraining, false)
		time.Sleep(5 * time.Second)
		Expect(nodeState(ctx, notReadyDraining)).To(Equal(string(upgradev1alpha1.NodeDraining)))
		setNodeReady(ctx, notReadyDraining, true)
		setPodFrozen(ctx, holdPod, false)
	})
	fault(func() {
		waitNodeState(ctx, notReadyUpgrading, upgradev1alpha1.NodeUpgrading)
		setNodeReady(ctx, notReadyUpgrading, false)
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, g, notReadyUpgrading).Status.NodeInfo.KubeletVersion).To(Equal("v1.36.10"))
		}).Should(Succeed())
		time.Sleep(3 * time.Second)
		Expect(nodeState(ctx, notReadyUpgrading)).To(Equal(string(upgradev1alpha1.NodeUpgrading)),
			"a node at the target but NotReady went on to verify")
		setNodeReady(ctx, notReadyUpgrading, true)
	})
	fault(func() {
		waitNodeState(ctx, notReadyUpgraded, upgradev1alpha1.NodeUpgraded)
		setNodeReady(ctx, notReadyUpgraded, false)
		time.Sleep(8 * time.Second)
		setNodeReady(ctx, notReadyUpgraded, true)
	})
	fault(func() {
		waitNodeState(ctx, deleted, upgradev1alpha1.NodeUpgrading)
		deleteAndWait(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: deleted}})
	})
	for _, done := range faults {
		Eventually(done).WithTimeout(4 * time.Minute).Should(BeClosed())
	}

	got := waitFinished(ctx, name, upgradev1alpha1.PhaseFailed)
	stalled := meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionStalled)
	Expect(stalled).NotTo(BeNil())
	Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonNodesFailed))
	Expect(got.Status.TotalNodes).To(BeEquivalentTo(9), "the deleted node left the upgrade")
	Expect(got.Status.UpgradedNodes).To(BeEquivalentTo(7))
	Expect(got.Status.FailedNodes).To(BeEquivalentTo(2))
	Expect(got.Status.PendingNodes + got.Status.UpgradingNodes).To(BeZero())
	Expect(got.Status.Failed).To(ConsistOf(
		And(HaveField("Name", neverUpgraded), HaveField("Reason", "UpgradeTimeout")),
		And(HaveField("Name", wrongVersion), HaveField("Reason", "UpgradeTimeout"), HaveField("Message", ContainSubstring("v1.36.4"))),
	))
	violations, maxSeen, starts := monitor.report()
	Expect(violations).To(BeEmpty())
	// The node that goes NotReady after its upgrade may take the pool to 4
	// on its own; nodewave then starts nothing (a violation otherwise).
	Expect(maxSeen).To(BeNumerically("<=", 3))
	excursions, peak := monitor.overBudget()
	Expect(peak).To(BeNumerically("<=", 4))
	for _, n := range []string{"worker-020", notReadyDraining, deleted, "worker-023", notReadyUpgrading, neverUpgraded,
		"worker-026", notReadyUpgraded, wrongVersion, "worker-029"} {
		Expect(starts[n]).To(Equal(1), "%s was started %d times", n, starts[n])
	}
	for _, n := range []string{notReadyDraining, notReadyUpgrading, notReadyUpgraded} {
		node := getNode(ctx, Default, n)
		Expect(node.Status.NodeInfo.KubeletVersion).To(Equal("v1.36.10"), n)
		Expect(node.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)), n)
	}
	finishScenario(ctx, got, neverUpgraded, wrongVersion)
	deleteAndWait(ctx, hold)

	inv := standardInvariants + "; one start per node"
	record(faultRecord{Fault: "node NotReady while draining", Injected: "Ready=False for 5 s while a pod held its drain",
		Expected: "continue: the drain goes on; the node counts against the budget", Observed: "drained and upgraded once Ready", Invariants: inv})
	record(faultRecord{Fault: "node NotReady while upgrading", Injected: "Ready=False from the start of upgrading until the kubelet reported the target, +3 s",
		Expected: "wait: verify starts only once the node is Ready at the target", Observed: "stayed upgrading while NotReady at the target; upgraded once Ready", Invariants: inv})
	record(faultRecord{Fault: "node NotReady after upgrade", Injected: "Ready=False for 8 s once upgraded",
		Expected: "continue with one slot fewer: the NotReady node counts against the budget, and while it takes the pool over the budget nothing new starts",
		Observed: fmt.Sprintf("at most %d unavailable at once (budget 3), over budget in %d node updates, none of them a nodewave cordon", max(maxSeen, peak), excursions), Invariants: inv})
	record(faultRecord{Fault: "node deleted mid-upgrade", Injected: "Node object deleted while upgrading",
		Expected: "continue: it leaves the upgrade and frees its slot", Observed: "totalNodes 10 -> 9; not counted as failed", Invariants: inv})
	record(faultRecord{Fault: "kubelet never reports the target", Injected: "node agent never upgrades the node",
		Expected: "fail the node at upgrade.timeout (25 s), left cordoned; continue while failures <= maxFailedNodes", Observed: "failed UpgradeTimeout, cordoned; the rest went on", Invariants: inv})
	record(faultRecord{Fault: "kubelet reports another version", Injected: "node agent reports v1.36.4 for target v1.36.10",
		Expected: "fail the node at upgrade.timeout, naming the version it reports", Observed: "failed UpgradeTimeout, message names v1.36.4; phase Failed, Stalled NodesFailed", Invariants: inv})
}

// jobPodDeleted deletes the pod of a node's upgrade Job.
func jobPodDeleted(ctx SpecContext) {
	const name, node = "e2e-job-pod", "worker-020"
	agent.Set(node, nodeagent.Behaviour{Never: true})
	DeferCleanup(func() { agent.Set(node, nodeagent.Behaviour{}) })
	cu := clusterUpgrade(name, "v1.36.11", selectorOf(corev1.LabelHostname, node), upgradev1alpha1.JobUpgrade)
	// kwok leaves the pod Pending, as if its image were still pulling.
	cu.Spec.Upgrade.Job.Template.Labels = map[string]string{frozenLabel: "true"}
	startUpgrade(ctx, cu, 1)

	By("deleting the upgrade Job's pod")
	pods := &corev1.PodList{}
	Eventually(func(g Gomega) {
		g.Expect(admin.List(ctx, pods, client.InNamespace(jobNamespace), client.MatchingLabels{upgradev1alpha1.JobNodeLabel: node})).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(1))
	}).Should(Succeed())
	Expect(admin.Delete(ctx, &pods.Items[0], client.GracePeriodSeconds(0))).To(Succeed())

	got := waitFinished(ctx, name, upgradev1alpha1.PhaseFailed)
	Expect(meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(
		HaveField("Reason", upgradev1alpha1.ReasonTooManyFailures))
	Expect(got.Status.Failed).To(ConsistOf(And(HaveField("Name", node), HaveField("Reason", "JobFailed"))))
	Expect(monitor.jobsPerNode()[node]).To(Equal(1), "the failed Job was retried")
	violations, _, _ := monitor.report()
	Expect(violations).To(BeEmpty())
	finishScenario(ctx, got, node)
	record(faultRecord{
		Fault:      "upgrade Job's pod deleted",
		Injected:   "the Job's only pod deleted while Pending",
		Expected:   "fail the node (Jobs run with backoffLimit 0: a half-run upgrade is not retried blindly); halt at maxFailedNodes 0",
		Observed:   "failed JobFailed: " + got.Status.Failed[0].Message + "; one Job, left cordoned",
		Invariants: standardInvariants,
	})
}

// drainFaults: a PodDisruptionBudget that never allows disruption, a pod
// with no controller (force: false), and a namespace terminating mid-drain.
func drainFaults(ctx SpecContext) {
	const name = "e2e-drain-faults"
	// Group b's zone-a nodes start first, together.
	const pdbBlocked, unmanaged, terminating = "worker-012", "worker-015", "worker-018"
	ensureNamespace(ctx, "e2e")
	pinned := pinnedDeployment("workloads", "pinned", pdbBlocked)
	pinnedPDB := blockingPDB("workloads", "pinned")
	bare := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "e2e", Name: "bare", Labels: map[string]string{"app": "bare"}},
		Spec: corev1.PodSpec{NodeName: unmanaged,
			Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/bare:v1"}}},
	}
	doomedNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}
	doomed := pinnedDeployment("doomed", "doomed", terminating)
	doomedPDB := blockingPDB("doomed", "doomed")
	monitor.exemptPDB("workloads/pinned", true)
	monitor.exemptPDB("doomed/doomed", true)
	Expect(admin.Create(ctx, doomedNS)).To(Succeed())
	for _, obj := range []client.Object{pinned, pinnedPDB, bare, doomed, doomedPDB} {
		Expect(admin.Create(ctx, obj)).To(Succeed())
	}
	waitPodRunning(ctx, "workloads", "pinned")
	waitPodRunning(ctx, "e2e", "bare")
	waitPodRunning(ctx, "doomed", "doomed")
	for _, pdb := range []*policyv1.PodDisruptionBudget{pinnedPDB, doomedPDB} {
		Eventually(func(g Gomega) {
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(pdb), pdb)).To(Succeed())
			g.Expect(pdb.Status.ObservedGeneration).To(Equal(pdb.Generation))
			g.Expect(pdb.Status.CurrentHealthy).To(BeEquivalentTo(1))
		}).Should(Succeed())
	}

	cu := concurrently(clusterUpgrade(name, "v1.36.12", selectorOf(groupLabel, "b"), upgradev1alpha1.ExternalUpgrade), "3")
	// Halt at the first failure: with maxFailedNodes 1, whichever of the
	// two blocked nodes was failed first (they time out together, but may
	// be failed in separate reconciles) freed a slot for a fourth node,
	// whose own drain could then outlast the short drain.timeout on a busy
	// machine.
	cu.Spec.MaxFailedNodes = 0
	cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 20 * time.Second}
	startUpgrade(ctx, cu, 3)

	By("deleting namespace doomed while its PodDisruptionBudget blocks the drain of " + terminating)
	Eventually(func(g Gomega) {
		msg := nodeMessage(getCU(ctx, g, name), terminating)
		g.Expect(msg).To(ContainSubstring("doomed/doomed"))
	}).Should(Succeed())
	Expect(admin.Delete(ctx, doomedNS)).To(Succeed())

	got := waitFinished(ctx, name, upgradev1alpha1.PhaseFailed)
	Expect(meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(
		HaveField("Reason", upgradev1alpha1.ReasonTooManyFailures))
	// The halt (at the first failure) stops new starts; the nodes already in
	// flight are finished after it: the other blocked node fails too, and
	// the one whose namespace is going away is upgraded.
	Eventually(func(g Gomega) {
		got = getCU(ctx, g, name)
		g.Expect(got.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
		g.Expect(got.Status.UpgradingNodes).To(BeZero(), "status %+v", got.Status)
		g.Expect(got.Status.FailedNodes).To(BeEquivalentTo(2), "status %+v", got.Status)
		g.Expect(got.Status.UpgradedNodes+got.Status.PendingNodes).To(BeEquivalentTo(8), "status %+v", got.Status)
	}).Should(Succeed())
	// status.failed lists maxFailedNodes+1 failures (here one); each failed
	// node carries its own reason.
	Expect(got.Status.Failed).To(ConsistOf(HaveField("Reason", "DrainTimeout")))
	for node, why := range map[string]string{pdbBlocked: "blocked by PodDisruptionBudget workloads/pinned",
		unmanaged: "pod e2e/bare has no controller"} {
		n := getNode(ctx, Default, node)
		Expect(n.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeFailed)))
		Expect(n.Annotations[upgradev1alpha1.FailureAnnotation]).To(And(HavePrefix("DrainTimeout: "), ContainSubstring(why)), node)
	}
	Expect(getNode(ctx, Default, terminating).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)))
	for _, key := range []client.ObjectKey{{Namespace: "e2e", Name: "bare"}} {
		pod := &corev1.Pod{}
		Expect(admin.Get(ctx, key, pod)).To(Succeed())
		Expect(pod.DeletionTimestamp).To(BeNil(), "the pod without a controller was deleted")
	}
	pods := &corev1.PodList{}
	Expect(admin.List(ctx, pods, client.InNamespace("workloads"), client.MatchingLabels{"app": "pinned"})).To(Succeed())
	Expect(pods.Items).To(HaveLen(1))
	Expect(pods.Items[0].DeletionTimestamp).To(BeNil(), "the protected pod was deleted")
	_, _, before := monitor.report()
	Consistently(func(g Gomega) {
		_, _, starts := monitor.report()
		g.Expect(starts).To(Equal(before), "a node started after the halt")
	}).WithTimeout(3 * time.Second).Should(Succeed())
	violations, _, _ := monitor.report()
	Expect(violations).To(BeEmpty())

	finishScenario(ctx, got, pdbBlocked, unmanaged)
	for _, obj := range []client.Object{pinnedPDB, pinned, bare} {
		deleteAndWait(ctx, obj)
	}
	monitor.exemptPDB("workloads/pinned", false)
	record(faultRecord{Fault: "PodDisruptionBudget never allows disruption", Injected: "PDB maxUnavailable 0 over a pod on the node; drain.timeout 20 s",
		Expected: "fail the node at drain.timeout (onTimeout Fail), left cordoned, the pod untouched", Observed: "failed DrainTimeout, message names workloads/pinned; pod not deleted", Invariants: standardInvariants})
	record(faultRecord{Fault: "pod with no controller, force: false", Injected: "a bare pod on the node",
		Expected: "never evicted; fail the node at drain.timeout, naming the pod; halt once failures > maxFailedNodes (0)", Observed: "failed DrainTimeout naming e2e/bare; pod not deleted; phase Failed, Stalled TooManyFailures, nothing new started", Invariants: standardInvariants})
	record(faultRecord{Fault: "namespace terminating during drain", Injected: "namespace deleted while its PDB (maxUnavailable 0) blocked the drain",
		Expected: "continue: the namespace's pods go with it and the drain completes", Observed: "drained and upgraded", Invariants: standardInvariants})
}

// nodeMessage is what the ClusterUpgrade's status says about a node in flight.
func nodeMessage(cu *upgradev1alpha1.ClusterUpgrade, node string) string {
	for _, n := range cu.Status.InProgress {
		if n.Name == node {
			return n.Message
		}
	}
	return ""
}

func ensureNamespace(ctx context.Context, name string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(client.IgnoreAlreadyExists(admin.Create(ctx, ns))).To(Succeed())
}

// pinnedDeployment is one replica labelled app=name on one node.
func pinnedDeployment(namespace, name, node string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: selectorOf("app", name),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{NodeSelector: map[string]string{corev1.LabelHostname: node},
					Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/" + name + ":v1"}}},
			},
		},
	}
}

// blockingPDB allows no disruption of the pods labelled app=name.
func blockingPDB(namespace, name string) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			Selector: selectorOf("app", name)},
	}
}

// waitPodRunning waits for the pod labelled app=app to run and returns it.
func waitPodRunning(ctx context.Context, namespace, app string) *corev1.Pod {
	pods := &corev1.PodList{}
	Eventually(func(g Gomega) {
		g.Expect(admin.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{"app": app})).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(1))
		g.Expect(pods.Items[0].Status.Phase).To(Equal(corev1.PodRunning))
	}).Should(Succeed())
	return &pods.Items[0]
}

// setPodFrozen tells kwok to leave a pod alone (it then never finishes
// terminating), or hands it back.
func setPodFrozen(ctx context.Context, pod *corev1.Pod, frozen bool) {
	Expect(admin.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
	patch := client.MergeFrom(pod.DeepCopy())
	if frozen {
		pod.Labels[frozenLabel] = "true"
	} else {
		delete(pod.Labels, frozenLabel)
	}
	Expect(admin.Patch(ctx, pod, patch)).To(Succeed())
}
