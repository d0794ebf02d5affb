package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

var _ = Describe("Undrainable nodes (drain.onTimeout Cordon)", func() {
	cordonOnTimeout := func(cu *upgradev1alpha1.ClusterUpgrade, maxBlocked *int32) *upgradev1alpha1.ClusterUpgrade {
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		cu.Spec.Drain.OnTimeout = upgradev1alpha1.DrainTimeoutCordon
		cu.Spec.Drain.MaxBlockedNodes = maxBlocked
		return cu
	}

	It("leaves a node it cannot drain cordoned and blocked, frees its slot, and upgrades the rest", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "blk", 3)
		first := nodes[0]
		pdb := protectedPod(ctx, "blk-test", "db", first)
		mon := watchBudget(ctx, clientset, "blk")
		createCU(ctx, cordonOnTimeout(newCU("blk", "blk"), nil)) // Sequential: the default cap is 1

		var cu *upgradev1alpha1.ClusterUpgrade
		Eventually(func(g Gomega) {
			cu = getCU(ctx, "blk")
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed), "status: %+v", cu.Status)
		}).WithTimeout(60 * time.Second).Should(Succeed())
		stalled := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled)
		Expect(stalled).NotTo(BeNil())
		Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonNodesBlocked))
		Expect(stalled.Message).To(ContainSubstring("2 of 3 nodes upgraded"))
		Expect(stalled.Message).To(ContainSubstring(first))
		Expect(cu.Status.UpgradedNodes).To(BeEquivalentTo(2))
		Expect(cu.Status.BlockedNodes).To(BeEquivalentTo(1))
		Expect(cu.Status.FailedNodes).To(BeZero(), "a blocked node counted as failed")
		Expect(cu.Status.Failed).To(BeEmpty())
		Expect(cu.Status.Blocked).To(ConsistOf(And(HaveField("Name", first), HaveField("Reason", "DrainTimeout"),
			HaveField("Message", ContainSubstring("blocked by PodDisruptionBudget blk-test/db")))))

		n := getNode(ctx, first)
		Expect(n.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeBlocked)))
		Expect(n.Spec.Unschedulable).To(BeTrue(), "a blocked node must stay cordoned")
		Expect(n.Status.NodeInfo.KubeletVersion).To(Equal(oldVersion), "a blocked node was upgraded")
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "blk-test", Name: "db-0"}, &corev1.Pod{})).To(Succeed(),
			"the pod that would not leave was removed")
		for _, name := range nodes[1:] {
			Expect(getNode(ctx, name).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)))
		}
		// The blocked node stays out of service beside the one Sequential
		// upgrades: maxUnavailable 1 plus maxBlockedNodes 1.
		Expect(mon.max()).To(Equal(2), "Sequential took more than one node out besides the blocked one")

		By("retrying the blocked node once its budget allows the eviction")
		setPDBStatus(ctx, pdb, 1)
		Eventually(func() error {
			n := getNode(ctx, first)
			base := n.DeepCopy()
			delete(n.Labels, upgradev1alpha1.NodeStateLabel)
			return env.Client.Patch(ctx, n, client.MergeFrom(base))
		}).Should(Succeed())
		expectSucceeded(ctx, "blk", nodes)
	})

	It("halts with TooManyBlockedNodes once more nodes are blocked than maxBlockedNodes", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "blkmax", 3)
		protectedPod(ctx, "blkmax-test", "db", nodes[0])
		mon := watchBudget(ctx, clientset, "blkmax")
		createCU(ctx, cordonOnTimeout(newCU("blkmax", "blkmax"), new(int32)))

		stalled := expectStalled(ctx, "blkmax", upgradev1alpha1.ReasonTooManyBlockedNodes)
		Expect(stalled.Message).To(ContainSubstring("more than drain.maxBlockedNodes 0"))
		Expect(getCU(ctx, "blkmax").Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
		Consistently(func() bool { return mon.touched(nodes[1]) || mon.touched(nodes[2]) }).
			WithTimeout(2*time.Second).Should(BeFalse(), "a node started past maxBlockedNodes")
	})
})
