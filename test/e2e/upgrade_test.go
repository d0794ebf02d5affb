package e2e

import (
	"context"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// clusterUpgrade returns a ClusterUpgrade of the nodes sel selects, with a
// short soak; Job mode runs a pod that kwok completes.
func clusterUpgrade(name, target string, sel *metav1.LabelSelector, mode upgradev1alpha1.UpgradeType) *upgradev1alpha1.ClusterUpgrade {
	cu := &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: upgradev1alpha1.ClusterUpgradeSpec{
			TargetVersion: target,
			NodeSelector:  sel,
			Drain:         upgradev1alpha1.DrainSpec{Timeout: &metav1.Duration{Duration: 2 * time.Minute}},
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
	sel, err := metav1.LabelSelectorAsSelector(cu.Spec.NodeSelector)
	Expect(err).NotTo(HaveOccurred())
	monitor.expect(sel, maxUnavailable)
	Expect(admin.Create(ctx, cu)).To(Succeed())
}

// expectUpgraded waits for cu to succeed and checks the end state: every
// selected node at the target and schedulable, each cordoned exactly once,
// the budget never exceeded, no invariant broken, every workload back to
// full ready replicas, status counts and conditions exact.
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

	violations, maxSeen, cordons := monitor.report()
	Expect(violations).To(BeEmpty())
	Expect(maxSeen).To(BeNumerically("<=", maxUnavailable))
	Expect(maxSeen).To(Equal(maxUnavailable), "the budget was never used in full: slots idled")
	for _, name := range nodes {
		n := &corev1.Node{}
		Expect(admin.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
		Expect(n.Status.NodeInfo.KubeletVersion).To(Equal(cu.Spec.TargetVersion), name)
		Expect(n.Spec.Unschedulable).To(BeFalse(), name)
		Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)), name)
		Expect(cordons[name]).To(Equal(1), "%s was cordoned %d times", name, cordons[name])
	}
	expectWorkloadsReady(ctx)
}

// expectWorkloadsReady waits for every Deployment and StatefulSet to have
// all its replicas ready again: evicted pods came back elsewhere.
func expectWorkloadsReady(ctx context.Context) {
	Eventually(func(g Gomega) {
		deps := &appsv1.DeploymentList{}
		g.Expect(admin.List(ctx, deps, client.InNamespace("workloads"))).To(Succeed())
		for _, d := range deps.Items {
			g.Expect(d.Status.ReadyReplicas).To(Equal(*d.Spec.Replicas), "deployment %s", d.Name)
		}
		sts := &appsv1.StatefulSetList{}
		g.Expect(admin.List(ctx, sts, client.InNamespace("workloads"))).To(Succeed())
		for _, s := range sts.Items {
			g.Expect(s.Status.ReadyReplicas).To(Equal(*s.Spec.Replicas), "statefulset %s", s.Name)
		}
	}).Should(Succeed())
}

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
		cu := concurrently(clusterUpgrade("e2e-percent", "v1.36.5", selectorOf("pool", "general"), upgradev1alpha1.ExternalUpgrade), "25%")
		startUpgrade(ctx, cu, 5)
		expectUpgraded(ctx, "e2e-percent", nodeNames(0, 20), 5)
	})

	It("upgrades 20 nodes 3 at a time through Jobs while the manager is SIGKILLed three times", func(ctx SpecContext) {
		cu := concurrently(clusterUpgrade("e2e-count", "v1.37.0", selectorOf("pool", "general"), upgradev1alpha1.JobUpgrade), "3")
		startUpgrade(ctx, cu, 3)
		rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 3))
		for range 3 {
			time.Sleep(time.Duration(1500+rng.IntN(3000)) * time.Millisecond)
			By("SIGKILLing the manager mid-upgrade")
			manager.kill()
			manager.start()
		}
		expectUpgraded(ctx, "e2e-count", nodeNames(0, 20), 3)
	})

	It("fails a node whose drain a PodDisruptionBudget blocks past drain.timeout, and halts", func(ctx SpecContext) {
		// worker-012 comes first in group b (zone-a, then by name).
		blocked := "worker-012"
		dep := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "workloads", Name: "pinned"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: selectorOf("app", "pinned"),
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "pinned"}},
					Spec: corev1.PodSpec{NodeSelector: map[string]string{corev1.LabelHostname: blocked},
						Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/pinned:v1"}}},
				},
			},
		}
		pdb := &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Namespace: "workloads", Name: "pinned"},
			Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(0)), Selector: selectorOf("app", "pinned")},
		}
		monitor.exemptPDB("workloads/pinned", true)
		Expect(admin.Create(ctx, dep)).To(Succeed())
		Expect(admin.Create(ctx, pdb)).To(Succeed())
		expectWorkloadsReady(ctx)

		cu := clusterUpgrade("e2e-blocked", "v1.37.1", selectorOf(groupLabel, "b"), upgradev1alpha1.ExternalUpgrade)
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 10 * time.Second}
		startUpgrade(ctx, cu, 1)

		Eventually(func(g Gomega) {
			got := &upgradev1alpha1.ClusterUpgrade{}
			g.Expect(admin.Get(ctx, client.ObjectKey{Name: "e2e-blocked"}, got)).To(Succeed())
			g.Expect(got.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
			stalled := meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonTooManyFailures))
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionReconciling)).To(BeNil())
			g.Expect(got.Status.FailedNodes).To(BeEquivalentTo(1))
			g.Expect(got.Status.PendingNodes).To(BeEquivalentTo(9))
			g.Expect(got.Status.UpgradedNodes + got.Status.UpgradingNodes).To(BeZero())
			g.Expect(got.Status.Failed).To(ConsistOf(And(HaveField("Name", blocked), HaveField("Reason", "DrainTimeout"),
				HaveField("Message", ContainSubstring("blocked by PodDisruptionBudget workloads/pinned")))))
		}).Should(Succeed())
		n := &corev1.Node{}
		Expect(admin.Get(ctx, client.ObjectKey{Name: blocked}, n)).To(Succeed())
		Expect(n.Spec.Unschedulable).To(BeTrue(), "a failed node stays cordoned")
		Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeFailed)))
		pods := &corev1.PodList{}
		Expect(admin.List(ctx, pods, client.InNamespace("workloads"), client.MatchingLabels{"app": "pinned"})).To(Succeed())
		Expect(pods.Items).To(HaveLen(1))
		Expect(pods.Items[0].DeletionTimestamp).To(BeNil(), "the protected pod was deleted")
		Consistently(func(g Gomega) {
			_, _, cordons := monitor.report()
			g.Expect(cordons).To(HaveLen(1), "a node started after the halt")
		}).WithTimeout(3 * time.Second).Should(Succeed())

		By("deleting the ClusterUpgrade: the failed node stays cordoned for a human")
		Expect(admin.Delete(ctx, cu)).To(Succeed())
		Eventually(func() error { return admin.Get(ctx, client.ObjectKey{Name: "e2e-blocked"}, cu) }).
			Should(Satisfy(func(err error) bool { return client.IgnoreNotFound(err) == nil && err != nil }))
		Expect(admin.Get(ctx, client.ObjectKey{Name: blocked}, n)).To(Succeed())
		Expect(n.Spec.Unschedulable).To(BeTrue())
		Expect(n.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel))

		By("the human uncordons it and removes the blocker")
		monitor.expect(labels.Nothing(), 0)
		patch := client.MergeFrom(n.DeepCopy())
		n.Spec.Unschedulable = false
		Expect(admin.Patch(ctx, n, patch)).To(Succeed())
		Expect(admin.Delete(ctx, pdb)).To(Succeed())
		Expect(admin.Delete(ctx, dep)).To(Succeed())
		monitor.exemptPDB("workloads/pinned", false)
	})
})
