package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubectl/pkg/util/podutils"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// clusterUpgrade returns a ClusterUpgrade of the nodes sel selects, with a
// short soak; Job mode runs a pod that kwok completes. The drain timeout
// outlasts the disruption controller's 2-minute DeletionTimeout: a
// StatefulSet pod recreated under the same name counts as disrupted until
// then, so evictions of the db StatefulSet's pods are at most one per 2
// minutes (see docs/reliability.md).
func clusterUpgrade(name, target string, sel *metav1.LabelSelector, mode upgradev1alpha1.UpgradeType) *upgradev1alpha1.ClusterUpgrade {
	cu := &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: upgradev1alpha1.ClusterUpgradeSpec{
			TargetVersion: target,
			NodeSelector:  sel,
			Drain:         upgradev1alpha1.DrainSpec{Timeout: &metav1.Duration{Duration: 5 * time.Minute}},
			Upgrade:       upgradev1alpha1.NodeUpgradeSpec{Type: mode, Timeout: &metav1.Duration{Duration: 3 * time.Minute}},
			Health:        upgradev1alpha1.HealthSpec{SoakDuration: &metav1.Duration{Duration: time.Second}},
		},
	}
	if mode == upgradev1alpha1.JobUpgrade {
		cu.Spec.Upgrade.Job = &upgradev1alpha1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "upgrade", Image: "registry.example.com/kubelet-upgrader:v1"}},
		}}}
	}
	return cu
}

func concurrently(cu *upgradev1alpha1.ClusterUpgrade, maxUnavailable string) *upgradev1alpha1.ClusterUpgrade {
	v := intstr.Parse(maxUnavailable)
	cu.Spec.Strategy = upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: &v}
	return cu
}

// startUpgrade points the monitor at cu's nodes and budget, then creates cu.
func startUpgrade(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade, maxUnavailable int) {
	sel, err := cu.Selector()
	Expect(err).NotTo(HaveOccurred())
	monitor.expect(sel, maxUnavailable)
	Expect(admin.Create(ctx, cu)).To(Succeed())
}

// expectUpgraded waits for cu to succeed and checks the end state: every
// selected node at the target and schedulable, each started exactly once
// and given at most one Job by it, the budget never exceeded, no invariant
// broken, every workload back to full ready replicas, status counts and
// conditions exact.
func expectUpgraded(ctx context.Context, name string, nodes []string, maxUnavailable int) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: name}, cu)).To(Succeed())
		g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded), "status %+v", cu.Status)
	}).Should(Succeed())
	Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation))
	Expect(cu.Status.TotalNodes).To(BeEquivalentTo(len(nodes)))
	Expect(cu.Status.UpgradedNodes).To(BeEquivalentTo(len(nodes)))
	Expect(cu.Status.UpgradingNodes + cu.Status.PendingNodes + cu.Status.FailedNodes + cu.Status.SkippedNodes).To(BeZero())
	Expect(meta.IsStatusConditionTrue(cu.Status.Conditions, upgradev1alpha1.ConditionReady)).To(BeTrue())
	Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionReconciling)).To(BeNil())
	Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(BeNil())

	violations, maxSeen, _ := monitor.report()
	starts, jobs := monitor.startsBy(name), monitor.jobsBy(name)
	Expect(violations).To(BeEmpty())
	Expect(maxSeen).To(BeNumerically("<=", maxUnavailable))
	Expect(maxSeen).To(Equal(maxUnavailable), "the budget was never used in full: slots idled")
	for _, name := range nodes {
		n := &corev1.Node{}
		Expect(admin.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
		Expect(n.Status.NodeInfo.KubeletVersion).To(Equal(cu.Spec.TargetVersion), name)
		Expect(n.Spec.Unschedulable).To(BeFalse(), name)
		Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)), name)
		Expect(starts[name]).To(Equal(1), "%s was started %d times", name, starts[name])
		Expect(jobs[name]).To(BeNumerically("<=", 1), "%s got %d upgrade Jobs", name, jobs[name])
	}
	expectWorkloadsReady(ctx)
	expectPendingTaints(ctx, name, nodes, maxUnavailable)
	By("deleting the finished ClusterUpgrade: it leaves nothing behind")
	finishScenario(ctx, cu)
}

// expectPendingTaints checks that cu's pending taint was on every node
// but the ones its first pass started (at most maxUnavailable) before it
// started them, and is on none now; and that evicted pods were (but for
// one at most) never evicted again.
func expectPendingTaints(ctx context.Context, cu string, nodes []string, maxUnavailable int) {
	tainted := monitor.taintedPending(cu)
	var never []string
	for _, name := range nodes {
		n := &corev1.Node{}
		Expect(admin.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
		for _, t := range n.Spec.Taints {
			Expect(t.Key).NotTo(Equal(upgradev1alpha1.PendingTaintKey), "%s still has the pending taint %s", name, t.Value)
		}
		if !tainted[name] {
			never = append(never, name)
		}
	}
	Expect(len(never)).To(BeNumerically("<=", maxUnavailable), func() string {
		msg := fmt.Sprintf("nodes never seen with the pending taint before their start: %v (only the first pass's starts may be)", never)
		for _, name := range never {
			msg += fmt.Sprintf("\n%s, as the monitor saw it:\n  %s", name, monitor.trail(name))
		}
		return msg
	})
	// A pod evicted from an early node lands on a node outside the
	// upgrade or already upgraded, not on a tainted pending one: it is
	// not evicted again. PreferNoSchedule is a preference, so one may be;
	// with the manager's --no-pending-taint these two scenarios had 2 of
	// 36 and 3 of 38, with the taint 0 of 24 and 0 of 47.
	evictions, again := monitor.evictions()
	AddReportEntry("evictions", fmt.Sprintf("%d workload pods evicted, %d of them replacements evicted again", evictions, again))
	Expect(again).To(BeNumerically("<=", 1),
		"%d of %d evicted pods were replacements of pods evicted earlier in this upgrade", again, evictions)
}

// expectWorkloadsReady waits for every Deployment and StatefulSet to have
// all its replicas ready again: evicted pods came back elsewhere. When one
// does not, the failure lists the workloads' pods that are not ready.
func expectWorkloadsReady(ctx context.Context) {
	Eventually(func(g Gomega) {
		deps := &appsv1.DeploymentList{}
		g.Expect(admin.List(ctx, deps, client.InNamespace("workloads"))).To(Succeed())
		for _, d := range deps.Items {
			g.Expect(d.Status.ReadyReplicas).To(Equal(*d.Spec.Replicas), func() string {
				return "deployment " + d.Name + ": " + podsNotReady(ctx, d.Spec.Selector)
			})
		}
		sts := &appsv1.StatefulSetList{}
		g.Expect(admin.List(ctx, sts, client.InNamespace("workloads"))).To(Succeed())
		for _, s := range sts.Items {
			g.Expect(s.Status.ReadyReplicas).To(Equal(*s.Spec.Replicas), func() string {
				return "statefulset " + s.Name + ": " + podsNotReady(ctx, s.Spec.Selector)
			})
		}
	}).Should(Succeed())
}

// podsNotReady describes the pods of the workloads namespace that sel
// selects and that are not Ready: where each is, its phase, whether it is
// being deleted. It is for failure messages only.
func podsNotReady(ctx context.Context, sel *metav1.LabelSelector) string {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return err.Error()
	}
	pods := &corev1.PodList{}
	if err := admin.List(ctx, pods, client.InNamespace("workloads"), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return err.Error()
	}
	var out []string
	for _, p := range pods.Items {
		if podutils.IsPodReady(&p) {
			continue
		}
		out = append(out, fmt.Sprintf("%s on %q: %s, deleting %t, created %s",
			p.Name, p.Spec.NodeName, p.Status.Phase, p.DeletionTimestamp != nil, p.CreationTimestamp.Format(time.TimeOnly)))
	}
	return fmt.Sprintf("%d pods, not ready: %s", len(pods.Items), strings.Join(out, "; "))
}

// The scenarios share one cluster and run in this order: each moves its
// nodes to a newer version than the one before (the nodes start at v1.36.3).
//
//	group a (worker-000..009)  Sequential, v1.36.4; 25% with group b, v1.36.5
//	all 50                     manager crash loop: groups a b e, then b d e, v1.36.6,
//	                           and groups c d, v1.36.7 (group a partly, group d twice)
//	group e (040..049)         leader failover, v1.36.7
//	group d (030..039)         kube-apiserver restart, v1.36.8; etcd restart, v1.36.9
//	group c (020..029)         node faults, v1.36.10; worker-020: Job pod deleted, v1.36.11
//	group b (010..019)         drain faults, v1.36.12
var _ = Describe("nodewave on a simulated cluster", Ordered, func() {
	AfterEach(func(ctx SpecContext) {
		violations, _, _ := monitor.report()
		Expect(violations).To(BeEmpty())
	})

	It("upgrades 10 nodes one at a time through Jobs (Sequential)", func(ctx SpecContext) {
		startUpgrade(ctx, clusterUpgrade("e2e-sequential", "v1.36.4", selectorOf(groupLabel, "a"), upgradev1alpha1.JobUpgrade), 1)
		expectUpgraded(ctx, "e2e-sequential", nodeNames(0, 10), 1)
	})

	It("upgrades 20 nodes 25% at a time, External mode", func(ctx SpecContext) {
		cu := concurrently(clusterUpgrade("e2e-percent", "v1.36.5", groupsOf("a", "b"), upgradev1alpha1.ExternalUpgrade), "25%")
		startUpgrade(ctx, cu, 5)
		expectUpgraded(ctx, "e2e-percent", nodeNames(0, 20), 5)
	})

	Context("under faults", func() {
		It("upgrades 50 nodes under two overlapping ClusterUpgrades, one's selector edited mid-flight, while the manager is SIGKILLed every 2-10 s", crashLoop)
		It("hands over to the standby replica when the leader is SIGKILLed", leaderFailover)
		It("carries on through a kube-apiserver restart", controlPlaneRestart("kube-apiserver", "v1.36.8"))
		It("carries on through an etcd restart", controlPlaneRestart("etcd", "v1.36.9"))
		It("handles nodes going NotReady, deleted, never upgraded or at another version", nodeFaults)
		It("fails a node whose upgrade Job's pod is deleted", jobPodDeleted)
		It("fails nodes a PDB or an unmanaged pod blocks, drains through a terminating namespace, and halts", drainFaults)
	})

	It("starts no node while a Prometheus alert fires (spec.health.prometheus, a real Prometheus)", alertsGate)
	It("holds each node at its hook Jobs, failed by the Job controller at their deadline (spec.hooks)", hookJobs)
})
