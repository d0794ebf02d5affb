package controller

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

var _ = Describe("Whose cordon it is", func() {
	It("keeps a cordon an admin adds after uncordoning a node nodewave holds", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "recordon", 1)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour})
		createCU(ctx, newCU("recordon", "recordon"))
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)

		By("an admin uncordoning the node, then cordoning it again for maintenance")
		setUnschedulable(ctx, nodes[0], false)
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, nodes[0]).Annotations).To(HaveKeyWithValue(upgradev1alpha1.WasUnschedulableAnnotation, "true"))
		}).Should(Succeed())
		setUnschedulable(ctx, nodes[0], true)

		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		expectSucceeded(ctx, "recordon", nodes)
		Expect(getNode(ctx, nodes[0]).Spec.Unschedulable).To(BeTrue(), "the admin's cordon was undone")
	})

	It("counts a node Karpenter or the Cluster Autoscaler tainted out of service against the budget", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "tainted", 3)
		Eventually(func() error {
			n := getNode(ctx, nodes[0])
			patch := client.MergeFrom(n.DeepCopy())
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectNoSchedule})
			return env.Client.Patch(ctx, n, patch)
		}).Should(Succeed())
		mon := watchBudget(ctx, clientset, "tainted")
		createCU(ctx, newCU("tainted", "tainted"))
		Expect(expectStalled(ctx, "tainted", upgradev1alpha1.ReasonBudgetExhausted).Message).To(ContainSubstring(nodes[0]))
		for _, n := range nodes[1:] {
			Expect(mon.touched(n)).To(BeFalse(), "%s started while the tainted node used the one slot", n)
		}
		Expect(mon.touched(nodes[0])).To(BeFalse(), "a node on its way out was started")
	})

	// kube-controller-manager's node lifecycle controller mirrors a cordon
	// as the node.kubernetes.io/unschedulable taint, and takes it off a
	// moment after the uncordon. The pass that uncordons a node still sees
	// the taint, so the node counts as unavailable until it goes: its going
	// must start the next pass. Seen in the e2e suite: Sequential stuck at
	// 6 of 10, BudgetExhausted naming an uncordoned node, for 3 minutes.
	It("starts the next node when the unschedulable taint of the last one's cordon goes", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "lifecycle", 3)
		playNodeLifecycle(ctx, nodes, time.Second)
		createCU(ctx, newCU("lifecycle", "lifecycle"))
		expectSucceeded(ctx, "lifecycle", nodes)
	})

	// The taint only trails nodewave's uncordon: the node lifecycle
	// controller keeps it equal to spec.unschedulable and takes off one
	// nobody's cordon backs. Waiting for it held every freed slot for as
	// long as kube-controller-manager took, seconds at 5,000 nodes.
	It("hands on the slot of a node it uncordoned without waiting for the cordon's taint to go", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "trail", 2)
		const lag = 20 * time.Second
		playNodeLifecycle(ctx, nodes, lag)
		mon := watchBudget(ctx, clientset, "trail")
		createCU(ctx, newCU("trail", "trail"))
		expectSucceeded(ctx, "trail", nodes)
		_, firstDone := mon.times(nodes[0])
		secondTaken, _ := mon.times(nodes[1])
		Expect(secondTaken.Sub(firstDone)).To(BeNumerically("<", lag/4),
			"%s waited for the unschedulable taint of %s's cordon to go", nodes[1], nodes[0])
		Expect(mon.max()).To(Equal(1))
	})
})

// playNodeLifecycle plays the node lifecycle controller's cordon taint on
// nodes until ctx ends: it adds node.kubernetes.io/unschedulable:NoSchedule
// to a cordoned node at once, and removes it lag after the uncordon.
func playNodeLifecycle(ctx context.Context, nodes []string, lag time.Duration) {
	taint := corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	isIt := func(t corev1.Taint) bool { return t.MatchTaint(&taint) }
	schedulableSince := map[string]time.Time{}
	go func() {
		defer GinkgoRecover()
		for ctx.Err() == nil {
			for _, name := range nodes {
				n := &corev1.Node{}
				if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
					continue
				}
				tainted := slices.ContainsFunc(n.Spec.Taints, isIt)
				if !n.Spec.Unschedulable && schedulableSince[name].IsZero() {
					schedulableSince[name] = time.Now()
				}
				if n.Spec.Unschedulable {
					schedulableSince[name] = time.Time{}
				}
				patch := client.MergeFrom(n.DeepCopy())
				switch {
				case n.Spec.Unschedulable && !tainted:
					n.Spec.Taints = append(n.Spec.Taints, taint)
				case !n.Spec.Unschedulable && tainted && time.Since(schedulableSince[name]) >= lag:
					n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, isIt)
				default:
					continue
				}
				_ = env.Client.Patch(ctx, n, patch) // a conflict is retried on the next round
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
}

// setUnschedulable cordons or uncordons a node, as kubectl would.
func setUnschedulable(ctx context.Context, name string, unschedulable bool) {
	Eventually(func() error {
		n := getNode(ctx, name)
		patch := client.MergeFrom(n.DeepCopy())
		n.Spec.Unschedulable = unschedulable
		return env.Client.Patch(ctx, n, patch)
	}).Should(Succeed())
}
