package controller

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

var _ = Describe("Shaping the order", func() {
	It("keeps each zone within its budget, and takes the zones one at a time", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "zoned", 9) // three zones of three
		mon := watchBudget(ctx, clientset, "zoned")
		cu := concurrent(newCU("zoned", "zoned"), "6")
		one := intstr.FromInt32(2)
		cu.Spec.Strategy.Zones = &upgradev1alpha1.ZoneStrategy{MaxUnavailable: &one, OneAtATime: true}
		createCU(ctx, cu)
		expectSucceeded(ctx, "zoned", nodes)
		perZone, zones := mon.zoneMaxima()
		Expect(perZone).To(Equal(2), "a zone went over its budget of 2, or never used it")
		Expect(zones).To(Equal(1), "nodes of two zones were out at once")
	})

	It("upgrades by the priority on the nodes, lower first", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "prio", 3)
		setPriority(ctx, nodes[0], "10") // the database primary: last
		setPriority(ctx, nodes[1], "1")  // (a label value cannot start with "-")
		mon := watchBudget(ctx, clientset, "prio")
		cu := newCU("prio", "prio")
		cu.Spec.Priority = &upgradev1alpha1.PrioritySpec{Label: "example.com/upgrade-priority"}
		createCU(ctx, cu)
		expectSucceeded(ctx, "prio", nodes)
		first, _ := mon.times(nodes[2])
		second, _ := mon.times(nodes[1])
		last, _ := mon.times(nodes[0])
		Expect(first).To(BeTemporally("<", second), "the node without a priority (0) did not go before priority 1")
		Expect(second).To(BeTemporally("<", last), "priority 10 did not go last")
	})

	It("holds the upgrade, naming the node, while a priority is not an integer", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "badprio", 2)
		setPriority(ctx, nodes[1], "high")
		mon := watchBudget(ctx, clientset, "badprio")
		cu := newCU("badprio", "badprio")
		cu.Spec.Priority = &upgradev1alpha1.PrioritySpec{Label: "example.com/upgrade-priority"}
		createCU(ctx, cu)
		stalled := expectStalled(ctx, "badprio", upgradev1alpha1.ReasonInvalidPriority)
		Expect(stalled.Message).To(ContainSubstring(`node badprio-01: its label example.com/upgrade-priority is "high", not an integer`))
		Consistently(func() bool { return mon.touched(nodes[0]) || mon.touched(nodes[1]) }).
			WithTimeout(2 * time.Second).Should(BeFalse())

		setPriority(ctx, nodes[1], "3")
		expectSucceeded(ctx, "badprio", nodes)
	})
})

// setPriority sets a node's example.com/upgrade-priority label, as an
// admin would.
func setPriority(ctx context.Context, node, value string) {
	const key = "example.com/upgrade-priority"
	GinkgoHelper()
	Eventually(func() error {
		n := getNode(ctx, node)
		base := n.DeepCopy()
		n.Labels[key] = value
		return env.Client.Patch(ctx, n, client.MergeFrom(base))
	}).Should(Succeed())
}
