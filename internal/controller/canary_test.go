package controller

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

var _ = Describe("A canary", func() {
	canary := func(cu *upgradev1alpha1.ClusterUpgrade, nodes intstr.IntOrString, soak time.Duration, pause bool) *upgradev1alpha1.ClusterUpgrade {
		cu.Spec.Strategy.Canary = &upgradev1alpha1.CanarySpec{Nodes: nodes, SoakDuration: &metav1.Duration{Duration: soak}, Pause: pause}
		return cu
	}

	It("goes alone, soaks, and only then do the rest start", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "canary", 5)
		mon := watchBudget(ctx, clientset, "canary")
		const soak = 4 * time.Second
		createCU(ctx, canary(concurrent(newCU("canary", "canary"), "2"), intstr.FromInt32(1), soak, false))
		Eventually(func() string { return readyReason(ctx, "canary") }).Should(Equal(upgradev1alpha1.ReasonCanarySoaking))
		soaking := getCU(ctx, "canary")
		Expect(soaking.Status.Phase).To(Equal(upgradev1alpha1.PhaseProgressing))
		Expect(kstatusOf(Default, soaking)).To(Equal(status.InProgressStatus))
		matchFixture("canary-soaking", soaking)
		expectSucceeded(ctx, "canary", nodes)

		_, canaryUpgraded := mon.times(nodes[0])
		Expect(canaryUpgraded).NotTo(BeZero(), "the canary was not the first node in plan order")
		for _, n := range nodes[1:] {
			touched, _ := mon.times(n)
			// The soak counts from the canary's state-since stamp, which has
			// whole seconds: up to a second before the monitor saw it.
			Expect(touched).To(BeTemporally(">=", canaryUpgraded.Add(soak-time.Second)),
				"%s started %s after the canary was upgraded, before its soak of %s", n, touched.Sub(canaryUpgraded), soak)
		}
		Expect(mon.max()).To(Equal(2), "after the canary, the rest did not go maxUnavailable at a time")
	})

	It("pauses after its soak until canary.pause is false", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "cpause", 4)
		mon := watchBudget(ctx, clientset, "cpause")
		createCU(ctx, canary(concurrent(newCU("cpause", "cpause"), "50%"), intstr.FromString("25%"), 0, true))
		Eventually(func(g Gomega) {
			cu := getCU(ctx, "cpause")
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhasePaused))
			g.Expect(readyReason(ctx, "cpause")).To(Equal(upgradev1alpha1.ReasonCanaryPaused))
			g.Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionReady).Message).
				To(ContainSubstring("Set spec.strategy.canary.pause to false"))
		}).Should(Succeed())
		Consistently(func() bool { return mon.touched(nodes[1]) || mon.touched(nodes[2]) || mon.touched(nodes[3]) }).
			WithTimeout(2 * time.Second).Should(BeFalse())
		matchFixture("canary-paused", getCU(ctx, "cpause"))

		Eventually(func() error {
			cu := getCU(ctx, "cpause")
			base := cu.DeepCopy()
			cu.Spec.Strategy.Canary.Pause = false
			return env.Client.Patch(ctx, cu, client.MergeFrom(base))
		}).Should(Succeed())
		expectSucceeded(ctx, "cpause", nodes)
	})

	It("holds the rest when a canary node fails, whatever maxFailedNodes says", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "cfail", 4)
		kubelet.set(nodes[0], nodeagent.Behaviour{Never: true})
		mon := watchBudget(ctx, clientset, "cfail")
		cu := canary(concurrent(newCU("cfail", "cfail"), "2"), intstr.FromInt32(1), 0, false)
		cu.Spec.MaxFailedNodes = 3
		cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		createCU(ctx, cu)
		stalled := expectStalled(ctx, "cfail", upgradev1alpha1.ReasonCanaryFailed)
		Expect(stalled.Message).To(ContainSubstring(nodes[0]))
		Expect(getCU(ctx, "cfail").Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
		matchFixture("canary-failed", getCU(ctx, "cfail"))
		Consistently(func() bool { return mon.touched(nodes[1]) || mon.touched(nodes[2]) || mon.touched(nodes[3]) }).
			WithTimeout(2*time.Second).Should(BeFalse(), "a node beyond the failed canary started")
	})
})

// readyReason is the reason of the ClusterUpgrade's Ready condition.
func readyReason(ctx context.Context, name string) string {
	c := meta.FindStatusCondition(getCU(ctx, name).Status.Conditions, upgradev1alpha1.ConditionReady)
	if c == nil {
		return ""
	}
	return c.Reason
}
