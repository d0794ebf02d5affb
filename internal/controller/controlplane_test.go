package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/test/nodeagent"
	"github.com/nodewave/nodewave/test/wavewatch"
)

// fakeChecks stands in for internal/controlplane.Checker, which needs
// kubeadm's static pods, their API servers and etcd (the kubeadm e2e tier
// runs the real one): a check passes unless the test made it fail, and
// every call is recorded with the cluster as it stood.
type fakeChecks struct {
	mu sync.Mutex
	// failing are the problems of the nodes whose checks fail, before
	// and after their upgrades; failingAfter only after.
	failing, failingAfter map[string]string
	calls                 []checkCall
}

// checkCall is one Check: the node, the target ("" before its upgrade),
// and whether it passed.
type checkCall struct {
	node, target string
	passed       bool
}

func (f *fakeChecks) Check(_ context.Context, n *corev1.Node, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	problem, failing := f.failing[n.Name]
	if p, ok := f.failingAfter[n.Name]; ok && target != "" {
		problem, failing = p, true
	}
	f.calls = append(f.calls, checkCall{node: n.Name, target: target, passed: !failing})
	if failing {
		return errors.New(problem)
	}
	return nil
}

// fail makes node's checks fail with problem; pass("") makes them pass.
func (f *fakeChecks) fail(node, problem string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing == nil {
		f.failing = map[string]string{}
	}
	f.failing[node] = problem
}

// failAfterUpgrade makes node's checks fail with problem once it is
// upgraded (target set), not before.
func (f *fakeChecks) failAfterUpgrade(node, problem string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failingAfter == nil {
		f.failingAfter = map[string]string{}
	}
	f.failingAfter[node] = problem
}

func (f *fakeChecks) pass(node string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.failing, node)
	delete(f.failingAfter, node)
}

// reset makes every check pass again.
func (f *fakeChecks) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing, f.failingAfter = nil, nil
}

// of returns the calls about node.
func (f *fakeChecks) of(node string) []checkCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []checkCall
	for _, c := range f.calls {
		if c.node == node {
			out = append(out, c)
		}
	}
	return out
}

// watchWaves tracks pool's waves (see test/wavewatch) until the spec ends.
func watchWaves(ctx context.Context, pool string) *wavewatch.Tracker {
	nodes := labels.SelectorFromSet(labels.Set{poolLabel: pool})
	cp := labels.SelectorFromSet(labels.Set{poolLabel: pool, upgradev1alpha1.ControlPlaneLabel: ""})
	t, err := wavewatch.Start(ctx, clientset, nodes, cp)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(t.Stop)
	return t
}

// makeControlPlane creates count Ready control-plane nodes of pool at
// oldVersion, labelled as kubeadm labels them.
func makeControlPlane(ctx context.Context, pool string, count int) []string {
	names := make([]string, 0, count)
	for i := range count {
		name := fmt.Sprintf("%s-cp-%d", pool, i)
		makeNode(ctx, name, pool, fmt.Sprintf("zone-%c", 'a'+i%3), oldVersion, false)
		n := getNode(ctx, name)
		n.Labels[upgradev1alpha1.ControlPlaneLabel] = ""
		Expect(env.Client.Update(ctx, n)).To(Succeed())
		names = append(names, name)
	}
	return names
}

// withControlPlane sets spec.controlPlane, selecting pool's control-plane nodes.
func withControlPlane(cu *upgradev1alpha1.ClusterUpgrade, pool string) *upgradev1alpha1.ClusterUpgrade {
	cu.Spec.ControlPlane = &upgradev1alpha1.ControlPlaneSpec{NodeSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{poolLabel: pool, upgradev1alpha1.ControlPlaneLabel: ""}}}
	return cu
}

// condition is cu's condition of type t, or nil.
func condition(cu *upgradev1alpha1.ClusterUpgrade, t string) *metav1.Condition {
	return meta.FindStatusCondition(cu.Status.Conditions, t)
}

var _ = Describe("Control-plane upgrades", func() {
	AfterEach(func() {
		cpChecks.reset()
		serverVersionOverride.Store(nil)
	})

	It("upgrades the control plane one node at a time, each checked, then the workers at 50%", func(ctx SpecContext) {
		cps := makeControlPlane(ctx, "cpw", 3)
		workers := makeNodes(ctx, "cpw", 4)
		for _, n := range append(slices.Clone(cps), workers...) {
			kubelet.set(n, nodeagent.Behaviour{Delay: 300 * time.Millisecond})
		}
		mon := watchWaves(ctx, "cpw")
		budget := watchBudget(ctx, clientset, "cpw")
		// The workers' selector also selects the control-plane nodes: each
		// is upgraded once, in the control-plane wave.
		cu := withJob(withControlPlane(concurrent(newCU("cpw", "cpw"), "50%"), "cpw"))
		createCU(ctx, cu)

		By("giving the first control-plane node role first, the others other, and the workers none")
		roles := map[string]string{}
		Eventually(func(g Gomega) {
			jobs := &batchv1.JobList{}
			g.Expect(env.Client.List(ctx, jobs, client.InNamespace(jobNamespace),
				client.MatchingLabels{upgradev1alpha1.JobClusterUpgradeLabel: "cpw"})).To(Succeed())
			for _, j := range jobs.Items {
				role := "(none)"
				for _, e := range j.Spec.Template.Spec.Containers[0].Env {
					if e.Name == nodeupgrade.EnvControlPlaneRole {
						role = e.Value
					}
				}
				roles[j.Labels[upgradev1alpha1.JobNodeLabel]] = role
			}
			g.Expect(roles).To(HaveLen(7))
		}).WithTimeout(90 * time.Second).Should(Succeed())
		Expect(roles).To(HaveKeyWithValue(cps[0], RoleFirst))
		Expect(roles).To(HaveKeyWithValue(cps[1], RoleOther))
		Expect(roles).To(HaveKeyWithValue(cps[2], RoleOther))
		for _, w := range workers {
			Expect(roles).To(HaveKeyWithValue(w, "(none)"))
		}

		got := expectSucceeded(ctx, "cpw", workers)
		Expect(got.Status.ControlPlane).To(Equal(&upgradev1alpha1.ControlPlaneStatus{TotalNodes: 3, UpgradedNodes: 3}))
		c := condition(got, upgradev1alpha1.ConditionControlPlaneUpgraded)
		Expect(c).NotTo(BeNil())
		Expect(c.Status).To(Equal(metav1.ConditionTrue))

		By("never having two control-plane nodes out, nor a worker started before the control plane was done")
		report := mon.Report()
		Expect(report.Early).To(BeEmpty())
		Expect(report.MaxControlPlaneOut).To(Equal(1))
		Expect(budget.max()).To(Equal(2), "half of the 4 workers at once; the control plane is not in their budget")
		for i := 1; i < len(cps); i++ {
			Expect(report.Started[cps[i]]).To(BeTemporally(">=", report.Upgraded[cps[i-1]]),
				"%s started before %s was upgraded", cps[i], cps[i-1])
		}

		By("checking each control-plane node before it started and before it counted as upgraded")
		for _, n := range cps {
			calls := cpChecks.of(n)
			Expect(calls).NotTo(BeEmpty(), n)
			Expect(calls[0]).To(Equal(checkCall{node: n, target: "", passed: true}), "the first check of %s is before its start", n)
			Expect(calls).To(ContainElement(checkCall{node: n, target: targetVersion, passed: true}), n)
		}
		for _, n := range workers {
			Expect(cpChecks.of(n)).To(BeEmpty(), "a worker is not a control-plane node")
		}
	})

	It("keeps a control-plane node verifying while its checks fail, and starts nothing else until they pass", func(ctx SpecContext) {
		cps := makeControlPlane(ctx, "cpchk", 2)
		workers := makeNodes(ctx, "cpchk", 2)
		cpChecks.failAfterUpgrade(cps[0], "etcd: 2 members answered endpoint status, 3 expected")
		createCU(ctx, withControlPlane(newCU("cpchk", "cpchk"), "cpchk"))

		Eventually(func(g Gomega) {
			c := getCU(ctx, "cpchk")
			g.Expect(c.Status.InProgress).To(ConsistOf(And(
				HaveField("Name", cps[0]), HaveField("State", upgradev1alpha1.NodeVerifying),
				HaveField("Message", ContainSubstring("etcd: 2 members answered")))))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(getNode(ctx, cps[1]).Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), "the next control-plane node started")
			for _, w := range workers {
				g.Expect(getNode(ctx, w).Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), "a worker started")
			}
			c := getCU(ctx, "cpchk")
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseProgressing))
			g.Expect(condition(c, upgradev1alpha1.ConditionReady).Reason).To(Equal(upgradev1alpha1.ReasonWaitingForControlPlane))
			g.Expect(condition(c, upgradev1alpha1.ConditionStalled)).To(BeNil())
		}).WithTimeout(3 * time.Second).Should(Succeed())

		cpChecks.pass(cps[0])
		expectSucceeded(ctx, "cpchk", workers)
	})

	It("waits before the next control-plane node while the control plane's checks fail", func(ctx SpecContext) {
		cps := makeControlPlane(ctx, "cppre", 1)
		workers := makeNodes(ctx, "cppre", 1)
		cpChecks.fail(cps[0], "API server 10.0.0.10:6443 is not ready: GET /readyz answered 500")
		createCU(ctx, withControlPlane(newCU("cppre", "cppre"), "cppre"))

		Eventually(func(g Gomega) {
			c := getCU(ctx, "cppre")
			cond := condition(c, upgradev1alpha1.ConditionControlPlaneUpgraded)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Reason).To(Equal(upgradev1alpha1.ReasonWaitingForChecks))
			g.Expect(cond.Message).To(ContainSubstring("GET /readyz answered 500"))
			g.Expect(c.Status.ControlPlane).To(Equal(&upgradev1alpha1.ControlPlaneStatus{TotalNodes: 1, PendingNodes: 1}))
			g.Expect(condition(c, upgradev1alpha1.ConditionStalled)).To(BeNil(), "waiting for checks is not stalled")
		}).Should(Succeed())
		Expect(getNode(ctx, cps[0]).Spec.Unschedulable).To(BeFalse(), "cordoned while its checks failed")

		cpChecks.pass(cps[0])
		expectSucceeded(ctx, "cppre", workers)
	})

	It("halts everything when a control-plane node fails, and says what to do", func(ctx SpecContext) {
		cps := makeControlPlane(ctx, "cpfail", 3)
		workers := makeNodes(ctx, "cpfail", 2)
		kubelet.set(cps[0], nodeagent.Behaviour{Never: true})
		cu := withControlPlane(newCU("cpfail", "cpfail"), "cpfail")
		cu.Spec.MaxFailedNodes = 5 // no matter: a control-plane failure halts
		cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		createCU(ctx, cu)

		expectFailedNode(ctx, cps[0], "UpgradeTimeout")
		cond := expectStalled(ctx, "cpfail", upgradev1alpha1.ReasonControlPlaneFailed)
		Expect(cond.Message).To(And(ContainSubstring(cps[0]), ContainSubstring("UpgradeTimeout"),
			ContainSubstring("etcd keeps its quorum"), ContainSubstring("removing its "+upgradev1alpha1.NodeStateLabel)))
		c := getCU(ctx, "cpfail")
		Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
		Expect(c.Status.ControlPlane.FailedNodes).To(BeEquivalentTo(1))
		Expect(condition(c, upgradev1alpha1.ConditionControlPlaneUpgraded).Reason).To(Equal(upgradev1alpha1.ReasonControlPlaneFailed))
		Expect(c.Status.Failed).To(ConsistOf(HaveField("Name", cps[0])))
		Consistently(func(g Gomega) {
			for _, n := range append(slices.Clone(cps[1:]), workers...) {
				g.Expect(getNode(ctx, n).Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), "%s started after a control-plane failure", n)
			}
		}).WithTimeout(3 * time.Second).Should(Succeed())
		Expect(getNode(ctx, cps[0]).Spec.Unschedulable).To(BeTrue(), "the failed node stays cordoned")
	})

	It("lets the control plane go while the API server is older than the target, and the workers once it reports it", func(ctx SpecContext) {
		makeControlPlane(ctx, "cpskew", 1)
		workers := makeNodes(ctx, "cpskew", 2)
		old := oldVersion
		serverVersionOverride.Store(&old)
		// Past the reconciler's memory of the version an earlier spec read.
		suiteClock.set(time.Now().Add(2 * serverVersionRecheck))
		DeferCleanup(suiteClock.reset)
		createCU(ctx, withControlPlane(newCU("cpskew", "cpskew"), "cpskew"))

		Eventually(func(g Gomega) {
			c := getCU(ctx, "cpskew")
			g.Expect(c.Status.ControlPlane).NotTo(BeNil())
			g.Expect(c.Status.ControlPlane.UpgradedNodes).To(BeEquivalentTo(1))
			g.Expect(condition(c, upgradev1alpha1.ConditionStalled)).To(BeNil(), "a skew the object itself is fixing is not stalled")
			g.Expect(condition(c, upgradev1alpha1.ConditionReady).Message).To(ContainSubstring("wait for the API server to report " + targetVersion))
		}).Should(Succeed())
		for _, w := range workers {
			Expect(getNode(ctx, w).Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), "a worker started ahead of the API server")
		}

		serverVersionOverride.Store(nil) // read again within controlPlaneVersionRecheck
		expectSucceeded(ctx, "cpskew", workers)
	})

	It("refuses a control-plane selector that selects no node, touching nothing", func(ctx SpecContext) {
		workers := makeNodes(ctx, "cpnone", 2)
		mon := watchBudget(ctx, clientset, "cpnone")
		createCU(ctx, withControlPlane(newCU("cpnone", "cpnone"), "cpnone"))
		cond := expectStalled(ctx, "cpnone", upgradev1alpha1.ReasonNoNodes)
		Expect(cond.Message).To(ContainSubstring("spec.controlPlane.nodeSelector matches no node"))
		expectUntouched(ctx, mon, "cpnone", workers)
	})
})
