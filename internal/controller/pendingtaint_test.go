package controller

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

var _ = Describe("The pending taint", func() {
	foreign := corev1.Taint{Key: "example.com/dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}

	It("is on each pending node until it is upgraded, and no one else's taint is touched", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "ptaint", 3)
		addTaint(ctx, nodes[2], foreign)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour})
		createCU(ctx, newCU("ptaint", "ptaint"))
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)
		for _, n := range nodes[1:] {
			expectPendingTaint(ctx, n, "ptaint")
		}
		Expect(pendingTaintOf(getNode(ctx, nodes[0]))).To(BeNil(), "the node started first was tainted")
		Expect(getNode(ctx, nodes[2]).Spec.Taints).To(ContainElement(foreign))

		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		expectSucceeded(ctx, "ptaint", nodes)
		for _, n := range nodes {
			Expect(pendingTaintOf(getNode(ctx, n))).To(BeNil(), "%s kept the pending taint after its upgrade", n)
		}
		Expect(getNode(ctx, nodes[2]).Spec.Taints).To(ContainElement(foreign), "someone else's taint was lost")
	})

	It("comes off a node the selector lets go of, and off every node when the ClusterUpgrade is deleted", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pgone", 3)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour})
		cu := newCU("pgone", "pgone")
		createCU(ctx, cu)
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)
		expectPendingTaint(ctx, nodes[1], "pgone")
		expectPendingTaint(ctx, nodes[2], "pgone")

		By("moving a pending node out of the pool")
		Eventually(func() error {
			n := getNode(ctx, nodes[2])
			base := n.DeepCopy()
			n.Labels[poolLabel] = "elsewhere"
			return env.Client.Patch(ctx, n, client.MergeFrom(base))
		}).Should(Succeed())
		Eventually(func() *corev1.Taint { return pendingTaintOf(getNode(ctx, nodes[2])) }).Should(BeNil())

		By("deleting the ClusterUpgrade")
		Expect(env.Client.Delete(ctx, cu)).To(Succeed())
		Eventually(func() *corev1.Taint { return pendingTaintOf(getNode(ctx, nodes[1])) }).Should(BeNil())
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
	})

	It("comes off every node at deletion though the Node cache has not yet seen it put on", func(ctx SpecContext) {
		withLaggingNodeCache(3 * time.Second)
		nodes := makeNodes(ctx, "plag", 3)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour})
		DeferCleanup(func() { kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond}) })
		cu := newCU("plag", "plag")
		createCU(ctx, cu)
		expectPendingTaint(ctx, nodes[2], "plag")
		Expect(env.Client.Delete(ctx, cu)).To(Succeed()) // within the lag: the cache still shows the nodes untainted
		Eventually(func() error { return env.Client.Get(ctx, client.ObjectKeyFromObject(cu), cu) }).ShouldNot(Succeed())
		for _, n := range nodes {
			Expect(pendingTaintOf(getNode(ctx, n))).To(BeNil(), "%s kept the pending taint of a deleted ClusterUpgrade", n)
		}
	})

	It("is not put on while the ClusterUpgrade is paused", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "ppaused", 2)
		cu := newCU("ppaused", "ppaused")
		cu.Spec.Paused = true
		createCU(ctx, cu)
		Eventually(func() string { return string(getCU(ctx, "ppaused").Status.Phase) }).ShouldNot(BeEmpty())
		Consistently(func() *corev1.Taint { return pendingTaintOf(getNode(ctx, nodes[1])) }).
			WithTimeout(2 * time.Second).Should(BeNil())

		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour})
		Eventually(func() error {
			cur := getCU(ctx, "ppaused")
			base := cur.DeepCopy()
			cur.Spec.Paused = false
			return env.Client.Patch(ctx, cur, client.MergeFrom(base))
		}).Should(Succeed())
		expectPendingTaint(ctx, nodes[1], "ppaused")
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		expectSucceeded(ctx, "ppaused", nodes)
		Expect(pendingTaintOf(getNode(ctx, nodes[1]))).To(BeNil())
	})

	It("is not put on by a ClusterUpgrade a pre-flight check holds (a Conflict)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pconflict", 2)
		older := newCU("pconflict-a", "pconflict")
		older.Spec.Paused = true
		createCU(ctx, older)
		Eventually(func() string { return readyReason(ctx, "pconflict-a") }).Should(Equal(upgradev1alpha1.ReasonPaused))
		createCU(ctx, newCU("pconflict-b", "pconflict"))
		Eventually(func() string { return readyReason(ctx, "pconflict-b") }).Should(Equal(upgradev1alpha1.ReasonConflict))
		Consistently(func() []*corev1.Taint {
			return []*corev1.Taint{pendingTaintOf(getNode(ctx, nodes[0])), pendingTaintOf(getNode(ctx, nodes[1]))}
		}).WithTimeout(2*time.Second).Should(HaveEach(BeNil()), "a held or paused ClusterUpgrade tainted its nodes")
	})

	It("is refused, not written over, when the node's taints changed since they were read", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pstale", 1)
		stale := getNode(ctx, nodes[0])
		addTaint(ctx, nodes[0], foreign)
		r := &ClusterUpgradeReconciler{Client: env.Client}
		const owner = "pstale"
		now := time.Now()
		Expect(r.addPendingTaint(ctx, owner, stale, now)).NotTo(Succeed())
		Expect(getNode(ctx, nodes[0]).Spec.Taints).To(ContainElement(foreign))
		Expect(pendingTaintOf(getNode(ctx, nodes[0]))).To(BeNil())

		fresh := getNode(ctx, nodes[0])
		others := slices.Clone(fresh.Spec.Taints) // the API server's not-ready taint, and the foreign one
		Expect(r.addPendingTaint(ctx, owner, fresh, now)).To(Succeed())
		Expect(getNode(ctx, nodes[0]).Spec.Taints).To(ConsistOf(append(others,
			corev1.Taint{Key: upgradev1alpha1.PendingTaintKey, Value: "pstale", Effect: corev1.TaintEffectPreferNoSchedule})))
		Expect(r.removePendingTaint(ctx, owner, fresh, now)).To(Succeed())
		Expect(getNode(ctx, nodes[0]).Spec.Taints).To(ConsistOf(others))

		By("a node with no taints at all: the test is of an absent list, and the last taint's removal removes the list")
		Eventually(func() error {
			n := getNode(ctx, nodes[0])
			base := n.DeepCopy()
			n.Spec.Taints = nil
			return env.Client.Patch(ctx, n, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		}).Should(Succeed())
		bare := getNode(ctx, nodes[0])
		Expect(bare.Spec.Taints).To(BeEmpty())
		Expect(r.addPendingTaint(ctx, owner, bare, now)).To(Succeed())
		Expect(getNode(ctx, nodes[0]).Spec.Taints).To(HaveLen(1))
		Expect(r.removePendingTaint(ctx, owner, bare, now)).To(Succeed())
		Expect(getNode(ctx, nodes[0]).Spec.Taints).To(BeEmpty())
		Expect(r.addPendingTaint(ctx, owner, stale, now)).NotTo(Succeed(), "a list that is gone on the server was not tested")
	})

	It("comes off though a taint after it came and went since the read (the cordon's), and only its own element is tested", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pafter", 1)
		r := &ClusterUpgradeReconciler{Client: env.Client}
		const owner = "pafter"
		now := time.Now()
		Expect(r.addPendingTaint(ctx, owner, getNode(ctx, nodes[0]), now)).To(Succeed())
		unschedulable := corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
		addTaint(ctx, nodes[0], unschedulable)
		read := getNode(ctx, nodes[0]) // as nodewave's uncordon left it: the lifecycle controller's taint still on
		removeTaint(ctx, nodes[0], unschedulable)
		Expect(r.removePendingTaint(ctx, owner, read, now)).To(Succeed())
		Expect(pendingTaintOf(getNode(ctx, nodes[0]))).To(BeNil())
		Expect(getNode(ctx, nodes[0]).Spec.Taints).NotTo(ContainElement(unschedulable), "a removed taint came back")

		By("a taint before it removed since the read: its index moved, the write is refused")
		addTaint(ctx, nodes[0], foreign)
		Expect(r.addPendingTaint(ctx, owner, getNode(ctx, nodes[0]), now)).To(Succeed())
		read = getNode(ctx, nodes[0])
		removeTaint(ctx, nodes[0], foreign)
		Expect(r.removePendingTaint(ctx, owner, read, now)).NotTo(Succeed())
		Expect(pendingTaintOf(getNode(ctx, nodes[0]))).NotTo(BeNil())
		Expect(r.removePendingTaint(ctx, owner, getNode(ctx, nodes[0]), now)).To(Succeed())
		Expect(pendingTaintOf(getNode(ctx, nodes[0]))).To(BeNil())
	})
})

var _ = Describe("The pending taint's background writers", func() {
	It("write what the latest pass asked for, and once a deletion closes them no taint goes on for it", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pwriters", 3)
		r := &ClusterUpgradeReconciler{Client: env.Client, Clock: clock.RealClock{}}
		w := newTaintWrites(r)
		r.taints = w
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = w.Start(wctx) }()
		DeferCleanup(func() { stop(); <-done })
		const owner, uid = "pwriters", types.UID("pwriters-uid")

		By("a want replaced before it is written: only the latest counts")
		w.request(nodes[0], owner, uid, true)
		w.request(nodes[1], owner, uid, true)
		w.request(nodes[1], owner, uid, false)
		expectPendingTaint(ctx, nodes[0], owner)
		Consistently(func() *corev1.Taint { return pendingTaintOf(getNode(ctx, nodes[1])) }).
			WithTimeout(time.Second).Should(BeNil())

		By("closing: a taint queued before is written or dropped by the time close returns, none asked for after goes on")
		w.request(nodes[2], owner, uid, true)
		w.close(uid)
		closed := pendingTaintOf(getNode(ctx, nodes[2])) != nil
		w.request(nodes[1], owner, uid, true)
		Consistently(func() []bool {
			return []bool{pendingTaintOf(getNode(ctx, nodes[1])) != nil, pendingTaintOf(getNode(ctx, nodes[2])) != nil}
		}).WithTimeout(time.Second).Should(Equal([]bool{false, closed}), "a taint went on after close returned")
		By("taking them off still works, and close waits for it")
		w.request(nodes[0], owner, uid, false)
		w.request(nodes[2], owner, uid, false)
		w.close(uid)
		Expect(pendingTaintOf(getNode(ctx, nodes[0]))).To(BeNil())
		Expect(pendingTaintOf(getNode(ctx, nodes[2]))).To(BeNil())
	})
})

// expectPendingTaint waits for node to carry cu's pending taint.
func expectPendingTaint(ctx context.Context, node, cu string) {
	GinkgoHelper()
	Eventually(func() *corev1.Taint { return pendingTaintOf(getNode(ctx, node)) }).
		Should(HaveField("Value", cu), "node %s has no pending taint of %s", node, cu)
}

// removeTaint removes taint (by key and effect) from node, as another
// controller would.
func removeTaint(ctx context.Context, node string, taint corev1.Taint) {
	GinkgoHelper()
	Eventually(func() error {
		n := getNode(ctx, node)
		base := n.DeepCopy()
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.MatchTaint(&taint) })
		return env.Client.Patch(ctx, n, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	}).Should(Succeed())
}

// addTaint adds taint to node, as another controller would.
func addTaint(ctx context.Context, node string, taint corev1.Taint) {
	GinkgoHelper()
	Eventually(func() error {
		n := getNode(ctx, node)
		base := n.DeepCopy()
		n.Spec.Taints = append(n.Spec.Taints, taint)
		return env.Client.Patch(ctx, n, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	}).Should(Succeed())
}
