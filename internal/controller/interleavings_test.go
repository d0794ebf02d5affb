package controller

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/test/nodeagent"
)

// The interleavings of issue 12: each spec is a way a hostile operator (or
// an unlucky cluster) can make nodewave break a promise. Every spec here
// failed before its fix.
var _ = Describe("Under overlap, edits and crashes", func() {
	It("lets a newer ClusterUpgrade finish its node in flight when an older one reopens (1a)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "ova", 2)
		older := newCU("ova-older", "ova")
		older.Spec.TargetVersion = "v1.37.0"
		createCU(ctx, older)
		expectSucceeded(ctx, "ova-older", nodes)
		time.Sleep(1100 * time.Millisecond) // creation timestamps have one-second resolution

		By("a newer ClusterUpgrade holding a node in flight")
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Delay: time.Hour})
		}
		createCU(ctx, newCU("ova-newer", "ova"))
		inFlight := expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)
		Expect(inFlight.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]).To(Equal("ova-newer"))

		By("a node with an old kubelet joining: the older one reopens")
		makeNode(ctx, "ova-02", "ova", "zone-c", oldVersion, false)
		Eventually(func(g Gomega) {
			g.Expect(getCU(ctx, "ova-older").Status.Phase).NotTo(Equal(upgradev1alpha1.PhaseSucceeded))
		}).Should(Succeed())

		By("the newer one still carrying its node to the end")
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		expectUpgradedAndUncordoned(ctx, nodes[0])

		By("both finishing, older first")
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		}
		Eventually(func(g Gomega) {
			g.Expect(getCU(ctx, "ova-older").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
			g.Expect(getCU(ctx, "ova-newer").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
		}).WithTimeout(90 * time.Second).Should(Succeed())
		expectNoneCordoned(ctx, append(nodes, "ova-02"))
	})

	It("never lets an older ClusterUpgrade widened over a newer one's node take it (1b)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "ovb", 2)
		relabel(ctx, nodes[1], "test.nodewave.io/extra", "ovb")
		older := newCU("ovb-older", "ovb")
		older.Spec.TargetVersion = "v1.37.0"
		older.Spec.NodeSelector = &metav1.LabelSelector{MatchLabels: map[string]string{poolLabel: "ovb", corev1.LabelHostname: nodes[0]}}
		createCU(ctx, older)
		expectSucceeded(ctx, "ovb-older", nodes[:1])
		time.Sleep(1100 * time.Millisecond)

		By("a newer ClusterUpgrade holding the other node in upgrading, with its Job")
		kubelet.set(nodes[1], nodeagent.Behaviour{Delay: time.Hour})
		newer := newCU("ovb-newer", "ovb")
		newer.Spec.NodeSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"test.nodewave.io/extra": "ovb"}}
		createCU(ctx, withJob(newer))
		expectState(ctx, nodes[1], upgradev1alpha1.NodeUpgrading)

		By("widening the older one's selector over that node")
		updateCU(ctx, "ovb-older", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.NodeSelector = &metav1.LabelSelector{MatchLabels: map[string]string{poolLabel: "ovb"}}
		})
		Consistently(func(g Gomega) {
			n := getNode(ctx, nodes[1])
			g.Expect(n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]).To(Equal("ovb-newer"))
			g.Expect(n.Annotations).NotTo(HaveKey(upgradev1alpha1.WasUnschedulableAnnotation))
			g.Expect(jobsOfNode(ctx, nodes[1], "ovb-older")).To(BeEmpty(), "a second upgrade Job for a held node")
		}).WithTimeout(3 * time.Second).Should(Succeed())

		By("the newer one finishing it, and the older one never downgrading it")
		kubelet.set(nodes[1], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[1])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
			g.Expect(n.Spec.Unschedulable).To(BeFalse())
			g.Expect(getCU(ctx, "ovb-older").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
			g.Expect(getCU(ctx, "ovb-newer").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
		}).WithTimeout(90 * time.Second).Should(Succeed())
		Expect(getNode(ctx, nodes[1]).Status.NodeInfo.KubeletVersion).To(Equal(targetVersion))
		Expect(jobsOfNode(ctx, nodes[1], "ovb-older")).To(BeEmpty())
		expectNoneCordoned(ctx, nodes)
	})

	It("carries a node that left the selector mid-upgrade to the end, counting it against the budget (2)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "leave", 3)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour})
		mon := watchBudget(ctx, clientset, "leave")
		createCU(ctx, newCU("leave", "leave"))
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)

		relabel(ctx, nodes[0], "test.nodewave.io/extra", "left")
		relabel(ctx, nodes[0], poolLabel, "elsewhere")
		Consistently(func(g Gomega) {
			for _, n := range nodes[1:] {
				g.Expect(getNode(ctx, n).Spec.Unschedulable).To(BeFalse(), "Sequential started a second node")
			}
			g.Expect(getCU(ctx, "leave").Status.Phase).NotTo(Equal(upgradev1alpha1.PhaseSucceeded))
		}).WithTimeout(3 * time.Second).Should(Succeed())

		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[0])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
			g.Expect(n.Spec.Unschedulable).To(BeFalse())
			g.Expect(getCU(ctx, "leave").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
		}).WithTimeout(90 * time.Second).Should(Succeed())
		Expect(mon.max()).To(Equal(1), "more than one node was unavailable at once")
		expectNoneCordoned(ctx, nodes)
	})

	It("resolves its budget again when a node held outside its selector finishes, before it starts another in the same pass", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "shrink", 10)
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Delay: time.Hour})
		}
		createCU(ctx, concurrent(newCU("shrink", "shrink"), "30%")) // 3 of 10
		var inFlight []string
		Eventually(func(g Gomega) {
			inFlight = nil
			for _, n := range nodes {
				if getNode(ctx, n).Labels[upgradev1alpha1.NodeStateLabel] == string(upgradev1alpha1.NodeUpgrading) {
					inFlight = append(inFlight, n)
				}
			}
			g.Expect(inFlight).To(HaveLen(3))
		}).Should(Succeed())

		By("one of them leaving the selector: held, it counts, and the budget stays 3 of 10")
		left := inFlight[0]
		relabel(ctx, left, poolLabel, "elsewhere")
		mon := watchBudget(ctx, clientset, "shrink") // the 9 nodes it still selects
		By("that one finishing: let go, it leaves the budget's base, which is now 2 of 9")
		kubelet.set(left, nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		expectUpgradedAndUncordoned(ctx, left)
		Consistently(func(g Gomega) {
			g.Expect(mon.max()).To(BeNumerically("<=", 2), "a start took a slot of the budget it had before it let the node go")
		}).WithTimeout(3 * time.Second).Should(Succeed())

		By("the others finishing, 2 at a time")
		rest := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n == left })
		for _, n := range rest {
			kubelet.set(n, nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		}
		expectSucceeded(ctx, "shrink", rest)
		Expect(mon.max()).To(Equal(2))
		expectNoneCordoned(ctx, nodes)
	})

	It("verifies and uncordons a retried failed node whose kubelet is already at the target (3)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "retry", 1)
		kubelet.set(nodes[0], nodeagent.Behaviour{Never: true})
		cu := newCU("retry", "retry")
		cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		createCU(ctx, cu)
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)
		setNodeStatus(ctx, nodes[0], targetVersion, false) // at the target, NotReady
		expectFailedNode(ctx, nodes[0], "UpgradeTimeout")

		setNodeStatus(ctx, nodes[0], targetVersion, true)
		updateCU(ctx, "retry", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 30 * time.Second}
		})
		expectUpgradedAndUncordoned(ctx, nodes[0])
		expectSucceeded(ctx, "retry", nodes)
	})

	It("fails a node whose ForceDelete leaves a pod it will not delete, naming the pod (4)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "fdkeep", 2)
		Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fdkeep-test"}})).To(Succeed())
		bare := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "fdkeep-test", Name: "bare"},
			Spec:       corev1.PodSpec{NodeName: nodes[0], Containers: []corev1.Container{{Name: "c", Image: "example.com/app:v1"}}},
		}
		Expect(env.Client.Create(ctx, bare)).To(Succeed())
		cu := concurrent(newCU("fdkeep", "fdkeep"), "2") // the failed node keeps its slot
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		cu.Spec.Drain.OnTimeout = upgradev1alpha1.DrainTimeoutForceDelete
		cu.Spec.MaxFailedNodes = 1
		createCU(ctx, cu)

		expectFailedNode(ctx, nodes[0], "DrainTimeout")
		Expect(getNode(ctx, nodes[0]).Annotations[upgradev1alpha1.FailureAnnotation]).To(ContainSubstring("fdkeep-test/bare"))
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, nodes[1]).Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
		}).Should(Succeed())
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(bare), &corev1.Pod{})).To(Succeed(), "ForceDelete deleted a pod force: false keeps")
	})

	It("never evicts an upgrade Job's pod from a node still draining (5)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "jobpod", 1)
		pdb := protectedPod(ctx, "jobpod-test", "db", nodes[0])
		createCU(ctx, withJob(newCU("jobpod", "jobpod")))
		expectState(ctx, nodes[0], upgradev1alpha1.NodeDraining)

		By("the Job's pod on the node, as after a crash between the Job's creation and the upgrading label")
		jobName := nodeupgrade.JobName("jobpod", nodes[0], targetVersion)
		jobPod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: jobNamespace, Name: jobName + "-x1", Labels: map[string]string{
				upgradev1alpha1.JobNodeLabel: nodes[0], upgradev1alpha1.JobClusterUpgradeLabel: "jobpod",
				batchv1.JobNameLabel: jobName,
			}, OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: jobName,
				UID: "00000000-0000-0000-0000-000000000005", Controller: ptr.To(true)}}},
			Spec: corev1.PodSpec{NodeName: nodes[0], RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "upgrade", Image: "example.com/upgrader:v1"}}},
		}
		Expect(env.Client.Create(ctx, jobPod)).To(Succeed())
		DeferCleanup(func(ctx context.Context) {
			Expect(client.IgnoreNotFound(env.Client.Delete(ctx, jobPod, client.GracePeriodSeconds(0)))).To(Succeed())
		})
		jobPod.Status = corev1.PodStatus{Phase: corev1.PodRunning}
		Expect(env.Client.Status().Update(ctx, jobPod)).To(Succeed())

		setPDBStatus(ctx, pdb, 1)
		expectSucceeded(ctx, "jobpod", nodes)
		got := &corev1.Pod{}
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(jobPod), got)).To(Succeed(), "the drain evicted the upgrade Job's pod")
		Expect(got.DeletionTimestamp).To(BeNil())
	})

	It("never downgrades a node or deletes a running Job when the target is lowered mid-flight (6)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "lower", 2)
		kubelet.set(nodes[1], nodeagent.Behaviour{Never: true})
		cu := withJob(concurrent(newCU("lower", "lower"), "2"))
		cu.Spec.Health.SoakDuration = &metav1.Duration{Duration: time.Hour}
		createCU(ctx, cu)
		expectState(ctx, nodes[0], upgradev1alpha1.NodeVerifying) // at v1.37.2, soaking
		expectState(ctx, nodes[1], upgradev1alpha1.NodeUpgrading) // its Job running
		running := nodeupgrade.JobName("lower", nodes[1], targetVersion)

		updateCU(ctx, "lower", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.TargetVersion = "v1.37.0"
			c.Spec.Health.SoakDuration = &metav1.Duration{Duration: 0}
		})
		By("the node already past the new target finishing as upgraded, without a Job")
		expectUpgradedAndUncordoned(ctx, nodes[0])
		Expect(getNode(ctx, nodes[0]).Status.NodeInfo.KubeletVersion).To(Equal(targetVersion))
		Expect(jobExists(ctx, nodeupgrade.JobName("lower", nodes[0], "v1.37.0"))).To(BeFalse(), "a downgrade Job")

		By("the running Job of the other node left to run")
		Consistently(func(g Gomega) {
			g.Expect(jobExists(ctx, running)).To(BeTrue(), "a running Job was deleted")
			g.Expect(jobExists(ctx, nodeupgrade.JobName("lower", nodes[1], "v1.37.0"))).To(BeFalse())
		}).WithTimeout(2 * time.Second).Should(Succeed())

		By("once it ended, a Job for the new target")
		failJob(ctx, running)
		Eventually(func() bool { return jobExists(ctx, nodeupgrade.JobName("lower", nodes[1], "v1.37.0")) }).Should(BeTrue())
		kubelet.set(nodes[1], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[1])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
			g.Expect(n.Status.NodeInfo.KubeletVersion).To(Equal("v1.37.0"))
			g.Expect(getCU(ctx, "lower").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
		}).Should(Succeed())
	})

	It("fails a node whose upgrade Job cannot be built before cordoning it (7)", func(ctx SpecContext) {
		makeNode(ctx, "lname-00", "lname", "zone-a", oldVersion, false)
		long := "lname-" + strings.Repeat("x", 64)
		makeNode(ctx, long, "lname", "zone-b", oldVersion, false)
		mon := watchBudget(ctx, clientset, "lname")
		cu := withJob(newCU("lname", "lname"))
		cu.Spec.MaxFailedNodes = 1
		createCU(ctx, cu)

		expectState(ctx, long, upgradev1alpha1.NodeFailed)
		n := getNode(ctx, long)
		Expect(n.Spec.Unschedulable).To(BeFalse(), "cordoned before its Job was known to be buildable")
		Expect(n.Annotations[upgradev1alpha1.FailureAnnotation]).To(ContainSubstring("63"))
		Expect(mon.startCount(long)).To(BeZero())
		Eventually(func(g Gomega) {
			c := getCU(ctx, "lname")
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
			g.Expect(c.Status.UpgradedNodes).To(BeEquivalentTo(1))
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)).
				To(HaveField("Reason", upgradev1alpha1.ReasonNodesFailed))
		}).Should(Succeed())
	})

	It("holds the budget when the Node cache lags behind its own writes (8)", func(ctx SpecContext) {
		withLaggingNodeCache(1500 * time.Millisecond)

		nodes := makeNodes(ctx, "lag", 4)
		mon := watchBudget(ctx, clientset, "lag")
		createCU(ctx, newCU("lag", "lag"))
		Eventually(func(g Gomega) {
			g.Expect(getCU(ctx, "lag").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
		}).WithTimeout(90 * time.Second).Should(Succeed())
		Expect(mon.max()).To(Equal(1), "Sequential had more than one node out")
		for _, n := range nodes {
			Expect(mon.startCount(n)).To(Equal(1), "%s was started more than once", n)
		}
		expectNoneCordoned(ctx, nodes)
	})

	It("carries nodes in flight through transient errors reading the API server's version, without Stalled (9)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "vfail", 2)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 2 * time.Second})
		createCU(ctx, newCU("vfail", "vfail"))
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)

		versionFails.Store(true)
		DeferCleanup(func() { versionFails.Store(false) })
		Consistently(func(g Gomega) {
			c := getCU(ctx, "vfail")
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(BeFalse(),
				"a transient error made it Stalled")
		}).WithTimeout(3 * time.Second).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
		}).Should(Succeed())
		versionFails.Store(false)
		expectSucceeded(ctx, "vfail", nodes)
	})

	It("never loses a spec change's retry to a transient error (9)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "vretry", 1)
		kubelet.set(nodes[0], nodeagent.Behaviour{Never: true})
		cu := newCU("vretry", "vretry")
		cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: time.Second}
		createCU(ctx, cu)
		expectFailedNode(ctx, nodes[0], "UpgradeTimeout")

		stopManagerBriefly(func() { versionFails.Store(true) })
		DeferCleanup(func() { versionFails.Store(false) })
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		updateCU(ctx, "vretry", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 30 * time.Second}
		})
		Eventually(func(g Gomega) {
			c := getCU(ctx, "vretry")
			g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		}).Should(Succeed())
		time.Sleep(time.Second)
		versionFails.Store(false)
		expectSucceeded(ctx, "vretry", nodes)
	})
})

// expectState waits for node to reach state, and returns it.
func expectState(ctx context.Context, name string, state upgradev1alpha1.NodeState) *corev1.Node {
	var n *corev1.Node
	Eventually(func(g Gomega) {
		n = getNode(ctx, name)
		g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(state)))
	}).Should(Succeed())
	return n
}

// expectUpgradedAndUncordoned waits for a node to be upgraded and uncordoned.
func expectUpgradedAndUncordoned(ctx context.Context, name string) {
	Eventually(func(g Gomega) {
		n := getNode(ctx, name)
		g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
		g.Expect(n.Spec.Unschedulable).To(BeFalse(), "%s was never uncordoned", name)
	}).Should(Succeed())
}

// expectNoneCordoned checks that no node of names is left cordoned.
func expectNoneCordoned(ctx context.Context, names []string) {
	for _, name := range names {
		Expect(getNode(ctx, name).Spec.Unschedulable).To(BeFalse(), "%s left cordoned", name)
	}
}

// relabel sets one label of a node.
func relabel(ctx context.Context, name, key, value string) {
	Eventually(func() error {
		n := getNode(ctx, name)
		patch := client.MergeFrom(n.DeepCopy())
		n.Labels[key] = value
		return env.Client.Patch(ctx, n, patch)
	}).Should(Succeed())
}

// setNodeStatus makes a node report kubelet, Ready or not, as a kubelet would.
func setNodeStatus(ctx context.Context, name, kubelet string, ready bool) {
	Eventually(func() error {
		n := getNode(ctx, name)
		patch := client.MergeFrom(n.DeepCopy())
		n.Status.NodeInfo.KubeletVersion = kubelet
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		return env.Client.Status().Patch(ctx, n, patch)
	}).Should(Succeed())
}

// jobsOfNode names the upgrade Jobs of cuName for node.
func jobsOfNode(ctx context.Context, node, cuName string) []string {
	jobs := &batchv1.JobList{}
	Expect(env.Client.List(ctx, jobs, client.InNamespace(jobNamespace), client.MatchingLabels{
		upgradev1alpha1.JobClusterUpgradeLabel: cuName, upgradev1alpha1.JobNodeLabel: node})).To(Succeed())
	names := make([]string, 0, len(jobs.Items))
	for _, j := range jobs.Items {
		names = append(names, j.Name)
	}
	return names
}

// jobExists reports whether the upgrade Job name exists and is not being deleted.
func jobExists(ctx context.Context, name string) bool {
	j := &batchv1.Job{}
	err := env.Client.Get(ctx, client.ObjectKey{Namespace: jobNamespace, Name: name}, j)
	Expect(client.IgnoreNotFound(err)).To(Succeed())
	return err == nil && j.DeletionTimestamp == nil
}

// withLaggingNodeCache restarts the suite's manager with its Node lists
// lagging lag behind its own writes (see laggingNodes), and restarts it
// as it was when the spec ends.
func withLaggingNodeCache(lag time.Duration) {
	withWrappedClient((&laggingNodes{lag: lag}).wrap)
}

// withWrappedClient restarts the suite's manager with its reconciler's
// client wrapped by wrap, and restarts it as it was when the spec ends.
func withWrappedClient(wrap func(client.Client) client.Client) {
	stopManager()
	wrapClient = wrap
	stopManager = startManager()
	DeferCleanup(func() {
		stopManager()
		wrapClient = nil
		stopManager = startManager()
	})
}

// laggingNodes wraps the reconciler's client so that its Node lists lag
// behind its own writes, as an informer cache that has not yet received
// them: for lag after each Node patch, a list shows the node as it was
// before the patch, unless the cache already shows a later write by
// someone else (events arrive in order, so the cache would then have ours
// too).
type laggingNodes struct {
	lag    time.Duration
	mu     sync.Mutex
	listed map[string]*corev1.Node
	stale  map[string]staleNode
}

type staleNode struct {
	before    *corev1.Node
	writtenRV int64
	until     time.Time
}

func (l *laggingNodes) wrap(c client.Client) client.Client { return &laggingClient{Client: c, l: l} }

type laggingClient struct {
	client.Client
	l *laggingNodes
}

func (c *laggingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	n, isNode := obj.(*corev1.Node)
	c.l.mu.Lock()
	before := c.l.listed[obj.GetName()]
	c.l.mu.Unlock()
	if err := c.Client.Patch(ctx, obj, patch, opts...); err != nil || !isNode || before == nil {
		return err
	}
	rv, _ := strconv.ParseInt(n.ResourceVersion, 10, 64)
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	if _, already := c.l.stale[n.Name]; !already {
		c.l.stale[n.Name] = staleNode{before: before, writtenRV: rv, until: time.Now().Add(c.l.lag)}
	}
	return nil
}

func (c *laggingClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := c.Client.List(ctx, list, opts...); err != nil {
		return err
	}
	nodes, ok := list.(*corev1.NodeList)
	if !ok {
		return nil
	}
	for i := range nodes.Items {
		c.l.lagged(&nodes.Items[i])
	}
	return nil
}

// Get lags as List does: a cache shows a node the same way to both (the
// taint writers read one node with Get).
func (c *laggingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	if n, ok := obj.(*corev1.Node); ok {
		c.l.lagged(n)
	}
	return nil
}

// viewNode lags a Node the pass reads from the cache's store in place
// (nodeIndex) as List and Get do; the store's object itself stays as it
// is.
func (c *laggingClient) viewNode(n *corev1.Node) *corev1.Node {
	view := n.DeepCopy()
	c.l.lagged(view)
	return view
}

// lagged replaces n, just read, by the node before nodewave's write while
// that write is within the lag, and remembers it as read otherwise.
func (l *laggingNodes) lagged(n *corev1.Node) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.listed == nil {
		l.listed, l.stale = map[string]*corev1.Node{}, map[string]staleNode{}
	}
	rv, _ := strconv.ParseInt(n.ResourceVersion, 10, 64)
	if st, ok := l.stale[n.Name]; ok {
		if time.Now().Before(st.until) && rv <= st.writtenRV {
			*n = *st.before.DeepCopy()
			return
		}
		delete(l.stale, n.Name)
	}
	l.listed[n.Name] = n.DeepCopy()
}
