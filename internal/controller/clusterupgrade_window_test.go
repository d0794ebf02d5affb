package controller

import (
	"context"
	"time"
	_ "time/tzdata" // Europe/Berlin, whatever the machine's zoneinfo

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

// nudgeAnnotation is set by nudge; nodewave ignores it.
const nudgeAnnotation = "test.nodewave.io/nudge"

// nudge touches a ClusterUpgrade's annotations so the reconciler runs
// again at once: after a test jumps the clock, the requeue the reconciler
// asked for was computed from the old time (a real clock does not jump).
func nudge(ctx context.Context, name string) {
	Eventually(func() error {
		c := getCU(ctx, name)
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[nudgeAnnotation] = time.Now().Format(time.RFC3339Nano)
		return env.Client.Update(ctx, c)
	}).Should(Succeed())
}

// anyTouched reports whether nodewave ever labelled one of nodes.
func anyTouched(m *budgetMonitor, nodes []string) bool {
	for _, n := range nodes {
		if m.touched(n) {
			return true
		}
	}
	return false
}

// expectOutsideWindow waits until name's status says the window is closed,
// nodes wait, and it opens next at next, as message says it.
func expectOutsideWindow(ctx context.Context, name string, next time.Time, message string) {
	Eventually(func(g Gomega) {
		c := getCU(ctx, name)
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		g.Expect(c.Status.NextWindowOpens).NotTo(BeNil(), "status: %+v", c.Status)
		g.Expect(c.Status.NextWindowOpens.Time).To(BeTemporally("==", next))
		reconciling := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionReconciling)
		g.Expect(reconciling).NotTo(BeNil())
		g.Expect(reconciling.Reason).To(Equal(upgradev1alpha1.ReasonOutsideWindow))
		g.Expect(reconciling.Message).To(ContainSubstring("outside the maintenance window; the next opens at " + message))
		ready := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Message).To(Equal(reconciling.Message))
		g.Expect(kstatusOf(g, c)).To(Equal(status.InProgressStatus), "waiting for a window is in progress, not stalled")
	}).Should(Succeed())
}

var _ = Describe("Maintenance windows", func() {
	// Monday 7 January 2030. The window is Mondays 22:00 to 22:10 in
	// Europe/Berlin (CET, UTC+1): it opens at 21:00 UTC.
	opens := time.Date(2030, 1, 7, 21, 0, 0, 0, time.UTC)
	mondayWindow := func() *upgradev1alpha1.MaintenanceWindow {
		return &upgradev1alpha1.MaintenanceWindow{
			Days: []upgradev1alpha1.Weekday{upgradev1alpha1.Monday}, Start: "22:00", End: "22:10", TimeZone: "Europe/Berlin",
		}
	}

	It("starts nothing outside the window, starts when it opens, and finishes the nodes in flight when it closes", func(ctx SpecContext) {
		suiteClock.set(opens.Add(-9 * time.Hour))
		DeferCleanup(suiteClock.reset)
		nodes := makeNodes(ctx, "win", 4)
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Never: true}) // hold each node in upgrading
		}
		mon := watchBudget(ctx, clientset, "win")
		cu := concurrent(newCU("win", "win"), "2")
		cu.Spec.Window = mondayWindow()
		createCU(ctx, cu)

		By("saying when the window opens, in its zone and UTC, and touching nothing")
		expectOutsideWindow(ctx, "win", opens, "Mon 2030-01-07 22:00 CET (21:00 UTC)")
		c := getCU(ctx, "win")
		Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhasePending))
		Expect(c.Status.PendingNodes).To(BeEquivalentTo(4))
		Expect(c.Status.StartedAt).To(BeNil())
		Consistently(func() bool { return anyTouched(mon, nodes) }).WithTimeout(time.Second).Should(BeFalse())

		By("starting nodes at the opening, woken by the requeue it asked for")
		suiteClock.set(opens.Add(-3 * time.Second))
		nudge(ctx, "win") // now 3 s before the opening: it asks to be requeued then
		Consistently(func() bool { return anyTouched(mon, nodes) }).WithTimeout(time.Second).Should(BeFalse())
		var inFlight []string
		Eventually(func(g Gomega) {
			c := getCU(ctx, "win")
			g.Expect(c.Status.InProgress).To(HaveLen(2))
			g.Expect(c.Status.InProgress).To(HaveEach(HaveField("State", upgradev1alpha1.NodeUpgrading)))
			g.Expect(c.Status.NextWindowOpens).To(BeNil())
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionReconciling)).
				To(HaveField("Reason", upgradev1alpha1.ReasonProgressing))
			inFlight = []string{c.Status.InProgress[0].Name, c.Status.InProgress[1].Name}
		}).WithTimeout(20 * time.Second).Should(Succeed())
		started := getCU(ctx, "win").Status.StartedAt
		Expect(started).NotTo(BeNil())
		Expect(started.Time).To(BeTemporally(">=", opens), "a node was cordoned before the window opened")
		Expect(started.Time).To(BeTemporally("<", opens.Add(10*time.Second)))

		By("finishing the nodes in flight once the window has closed, and starting nothing new")
		suiteClock.set(opens.Add(10 * time.Minute)) // 22:10 CET: closed
		nudge(ctx, "win")
		nextWeek := opens.AddDate(0, 0, 7)
		expectOutsideWindow(ctx, "win", nextWeek, "Mon 2030-01-14 22:00 CET (21:00 UTC)")
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{})
		}
		Eventually(func(g Gomega) {
			c := getCU(ctx, "win")
			g.Expect(c.Status.UpgradedNodes).To(BeEquivalentTo(2))
			g.Expect(c.Status.UpgradingNodes).To(BeZero())
			g.Expect(c.Status.PendingNodes).To(BeEquivalentTo(2))
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseProgressing))
		}).Should(Succeed())
		for _, n := range inFlight {
			node := getNode(ctx, n)
			Expect(node.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)), n)
			Expect(node.Spec.Unschedulable).To(BeFalse(), n)
		}
		expectOutsideWindow(ctx, "win", nextWeek, "Mon 2030-01-14 22:00 CET (21:00 UTC)")
		var waiting []string
		for _, n := range nodes {
			if n != inFlight[0] && n != inFlight[1] {
				waiting = append(waiting, n)
			}
		}
		Consistently(func() bool { return anyTouched(mon, waiting) }).WithTimeout(time.Second).Should(BeFalse())

		By("going on in the next window")
		suiteClock.set(nextWeek)
		nudge(ctx, "win")
		expectSucceeded(ctx, "win", nodes)
		Expect(getCU(ctx, "win").Status.NextWindowOpens).To(BeNil())
		Expect(mon.max()).To(Equal(2))
	})

	It("stalls on a time zone it does not know, touching nothing", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "badtz", 2)
		mon := watchBudget(ctx, clientset, "badtz")
		cu := newCU("badtz", "badtz")
		cu.Spec.Window = mondayWindow()
		cu.Spec.Window.TimeZone = "Mars/Olympus"
		createCU(ctx, cu)
		Eventually(func(g Gomega) {
			c := getCU(ctx, "badtz")
			stalled := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonInvalidWindow))
			g.Expect(stalled.Message).To(ContainSubstring(`spec.window.timeZone: unknown time zone "Mars/Olympus"`))
			g.Expect(kstatusOf(g, c)).To(Equal(status.FailedStatus))
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhasePending))
			g.Expect(c.Status.NextWindowOpens).To(BeNil())
		}).Should(Succeed())
		Consistently(func() bool { return anyTouched(mon, nodes) }).WithTimeout(time.Second).Should(BeFalse())
	})

	It("finishes the nodes in flight when the window becomes unreadable mid-flight, starts nothing new, and resumes once fixed", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "tzflight", 3)
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Never: true})
		}
		mon := watchBudget(ctx, clientset, "tzflight")
		createCU(ctx, newCU("tzflight", "tzflight"))
		var first string
		Eventually(func(g Gomega) {
			c := getCU(ctx, "tzflight")
			g.Expect(c.Status.InProgress).To(HaveLen(1))
			g.Expect(c.Status.InProgress[0].State).To(Equal(upgradev1alpha1.NodeUpgrading))
			first = c.Status.InProgress[0].Name
		}).Should(Succeed())

		updateCU(ctx, "tzflight", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Window = mondayWindow()
			c.Spec.Window.TimeZone = "Europe/Atlantis"
		})
		Eventually(func(g Gomega) {
			c := getCU(ctx, "tzflight")
			g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)).
				To(HaveField("Reason", upgradev1alpha1.ReasonInvalidWindow))
		}).Should(Succeed())
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{})
		}
		Eventually(func(g Gomega) {
			c := getCU(ctx, "tzflight")
			g.Expect(c.Status.UpgradedNodes).To(BeEquivalentTo(1))
			g.Expect(c.Status.UpgradingNodes).To(BeZero())
			g.Expect(c.Status.PendingNodes).To(BeEquivalentTo(2))
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)).
				To(HaveField("Message", ContainSubstring(`spec.window.timeZone: unknown time zone "Europe/Atlantis"`)))
			g.Expect(kstatusOf(g, c)).To(Equal(status.FailedStatus))
		}).Should(Succeed())
		Expect(getNode(ctx, first).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)))
		var rest []string
		for _, n := range nodes {
			if n != first {
				rest = append(rest, n)
			}
		}
		Consistently(func() bool { return anyTouched(mon, rest) }).WithTimeout(time.Second).Should(BeFalse())

		updateCU(ctx, "tzflight", func(c *upgradev1alpha1.ClusterUpgrade) { c.Spec.Window = nil })
		expectSucceeded(ctx, "tzflight", nodes)
	})
})
