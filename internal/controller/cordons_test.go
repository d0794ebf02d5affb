package controller

import (
	"context"
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
})

// setUnschedulable cordons or uncordons a node, as kubectl would.
func setUnschedulable(ctx context.Context, name string, unschedulable bool) {
	Eventually(func() error {
		n := getNode(ctx, name)
		patch := client.MergeFrom(n.DeepCopy())
		n.Spec.Unschedulable = unschedulable
		return env.Client.Patch(ctx, n, patch)
	}).Should(Succeed())
}
