package controller

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/test/nodeagent"
)

// kstatusOf computes the status Argo CD and Flux would read from cu, and
// checks the kstatus rules nodewave promises on every read.
func kstatusOf(g Gomega, cu *upgradev1alpha1.ClusterUpgrade) status.Status {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cu)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: obj})
	g.Expect(err).NotTo(HaveOccurred())
	if cu.Status.ObservedGeneration == cu.Generation {
		reconciling := meta.IsStatusConditionTrue(cu.Status.Conditions, upgradev1alpha1.ConditionReconciling)
		stalled := meta.IsStatusConditionTrue(cu.Status.Conditions, upgradev1alpha1.ConditionStalled)
		g.Expect(reconciling && stalled).To(BeFalse(), "Reconciling and Stalled are both True")
		g.Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionReady)).NotTo(BeNil(), "Ready is missing")
		for _, c := range cu.Status.Conditions {
			g.Expect(c.ObservedGeneration).To(Equal(cu.Generation), "condition %s", c.Type)
		}
	}
	return res.Status
}

// expectSucceeded waits for cu to succeed and checks the end state users
// rely on: every node at the target, uncordoned unless an admin had
// cordoned it, counts exact, Ready True, kstatus Current.
func expectSucceeded(ctx context.Context, name string, nodes []string) *upgradev1alpha1.ClusterUpgrade {
	var cu *upgradev1alpha1.ClusterUpgrade
	Eventually(func(g Gomega) {
		cu = &upgradev1alpha1.ClusterUpgrade{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: name}, cu)).To(Succeed())
		g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded), "status: %+v", cu.Status)
	}).WithTimeout(90 * time.Second).Should(Succeed())
	Expect(kstatusOf(Default, cu)).To(Equal(status.CurrentStatus))
	Expect(meta.IsStatusConditionTrue(cu.Status.Conditions, upgradev1alpha1.ConditionReady)).To(BeTrue())
	Expect(cu.Status.TotalNodes).To(BeEquivalentTo(len(nodes)))
	Expect(cu.Status.UpgradedNodes + cu.Status.SkippedNodes).To(BeEquivalentTo(len(nodes)))
	Expect(cu.Status.UpgradingNodes + cu.Status.PendingNodes + cu.Status.FailedNodes).To(BeZero())
	Expect(cu.Status.InProgress).To(BeEmpty())
	Expect(cu.Status.StartedAt).NotTo(BeNil())
	Expect(cu.Status.CompletedAt).NotTo(BeNil())
	for _, name := range nodes {
		n := getNode(ctx, name)
		if n.Labels[upgradev1alpha1.NodeStateLabel] == "" {
			continue // untouched: already at or past the target
		}
		Expect(n.Status.NodeInfo.KubeletVersion).To(Equal(cu.Spec.TargetVersion), name)
		Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)), name)
		Expect(n.Spec.Unschedulable).To(Equal(n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == "true"), name)
		Expect(n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]).To(Equal(cu.Name), name)
		Expect(n.Annotations[upgradev1alpha1.TargetVersionAnnotation]).To(Equal(cu.Spec.TargetVersion), name)
	}
	return cu
}

// expectFailedNode waits for node to fail with reason and stay cordoned.
func expectFailedNode(ctx context.Context, name, reason string) {
	Eventually(func(g Gomega) {
		n := &corev1.Node{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
		g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeFailed)))
		g.Expect(n.Spec.Unschedulable).To(BeTrue(), "a failed node stays cordoned")
		g.Expect(n.Annotations[upgradev1alpha1.FailureAnnotation]).To(HavePrefix(reason + ": "))
	}).Should(Succeed())
}

var _ = Describe("ClusterUpgrade reconciler", func() {
	It("upgrades 10 nodes one at a time (Sequential)", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "seq", 10)
		mon := watchBudget(ctx, clientset, "seq")
		createCU(ctx, newCU("seq", "seq"))

		By("reading as in progress before the first reconcile")
		Eventually(func(g Gomega) {
			cu := getCU(ctx, "seq")
			g.Expect(kstatusOf(g, cu)).To(Equal(status.InProgressStatus))
			g.Expect(cu.Status.InProgress).To(HaveLen(1), "Sequential has exactly one node in flight")
		}).Should(Succeed())

		cu := expectSucceeded(ctx, "seq", nodes)
		Expect(mon.max()).To(Equal(1), "more than one node was unavailable at once")
		for _, n := range nodes {
			Expect(mon.startCount(n)).To(Equal(1), n)
		}
		Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation))

		By("recording events on the ClusterUpgrade and on each Node")
		Eventually(func(g Gomega) {
			evs := &eventsv1.EventList{}
			g.Expect(env.Client.List(ctx, evs)).To(Succeed())
			reasons := map[string]int{}
			for _, e := range evs.Items {
				if e.Regarding.Kind == "ClusterUpgrade" && e.Regarding.Name == "seq" {
					reasons["cu/"+e.Reason]++
				}
				if e.Regarding.Kind == "Node" && e.Regarding.Name == nodes[0] {
					reasons["node/"+e.Reason]++
				}
			}
			for _, r := range []string{"Cordoned", "Draining", "Upgrading", "Upgraded"} {
				g.Expect(reasons).To(HaveKeyWithValue("cu/"+r, 10), r)
				g.Expect(reasons).To(HaveKeyWithValue("node/"+r, 1), r)
			}
			// A zero soak leaves nothing to verify: upgrading to upgraded
			// in one write, never verifying.
			g.Expect(reasons).NotTo(HaveKey("cu/Verifying"))
		}).Should(Succeed())
	})

	It("upgrades with a count of 3 at once, keeping every slot busy, through Jobs", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "count", 12)
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Delay: 500 * time.Millisecond})
		}
		mon := watchBudget(ctx, clientset, "count")
		cu := concurrent(newCU("count", "count"), "3")
		withJob(cu)
		cu.Spec.Upgrade.Job.Template.Labels = map[string]string{"team": "platform"}
		cu.Spec.Upgrade.Job.Template.Annotations = map[string]string{"example.com/audit": "node-upgrade"}
		createCU(ctx, cu)

		By("running one pinned Job per node with the contract's labels and environment")
		Eventually(func(g Gomega) {
			c := getCU(ctx, "count")
			g.Expect(c.Status.UpgradingNodes).To(BeEquivalentTo(3), "three slots in use")
			jobs := &batchv1.JobList{}
			g.Expect(env.Client.List(ctx, jobs, client.InNamespace(jobNamespace),
				client.MatchingLabels{upgradev1alpha1.JobClusterUpgradeLabel: "count"})).To(Succeed())
			g.Expect(jobs.Items).NotTo(BeEmpty())
			j := jobs.Items[0]
			node := j.Labels[upgradev1alpha1.JobNodeLabel]
			g.Expect(j.Name).To(Equal(nodeupgrade.JobName("count", node, targetVersion)))
			g.Expect(j.Spec.Template.Spec.NodeName).To(Equal(node))
			g.Expect(j.OwnerReferences).To(ContainElement(HaveField("Name", "count")))
			g.Expect(j.Spec.Template.Labels).To(HaveKeyWithValue("team", "platform"), "the template's own labels are kept")
			g.Expect(j.Spec.Template.Annotations).To(HaveKeyWithValue("example.com/audit", "node-upgrade"))
			g.Expect(j.Spec.Template.Spec.Containers[0].Env).To(ContainElements(
				corev1.EnvVar{Name: nodeupgrade.EnvTargetVersion, Value: targetVersion},
				corev1.EnvVar{Name: nodeupgrade.EnvNodeName, Value: node}))
		}).Should(Succeed())

		expectSucceeded(ctx, "count", nodes)
		Expect(mon.max()).To(Equal(3))
		By("deleting each node's Job once the node is upgraded")
		expectJobsDeleted(ctx, "count")
	})

	It("upgrades 25% of 12 nodes at once, counting an admin's cordon against the budget and keeping it", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pct", 11)
		makeNode(ctx, "pct-admin", "pct", "zone-a", oldVersion, true)
		nodes = append(nodes, "pct-admin")
		mon := watchBudget(ctx, clientset, "pct")
		createCU(ctx, concurrent(newCU("pct", "pct"), "25%"))

		expectSucceeded(ctx, "pct", nodes)
		Expect(mon.max()).To(Equal(3), "a quarter of 12 is 3, the admin's cordoned node included")
		admin := getNode(ctx, "pct-admin")
		Expect(admin.Spec.Unschedulable).To(BeTrue(), "nodewave uncordoned a node an admin had cordoned")
		Expect(admin.Annotations).To(HaveKeyWithValue(upgradev1alpha1.WasUnschedulableAnnotation, "true"))
	})

	It("leaves nodes at or past the target untouched", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "mixed", 3)
		makeNode(ctx, "mixed-done", "mixed", "zone-a", targetVersion, false)
		makeNode(ctx, "mixed-newer", "mixed", "zone-a", "v1.37.3", false)
		mon := watchBudget(ctx, clientset, "mixed")
		createCU(ctx, concurrent(newCU("mixed", "mixed"), "2"))

		cu := expectSucceeded(ctx, "mixed", append(nodes, "mixed-done", "mixed-newer"))
		Expect(cu.Status.SkippedNodes).To(BeEquivalentTo(1))
		Expect(cu.Status.UpgradedNodes).To(BeEquivalentTo(4))
		for _, name := range []string{"mixed-done", "mixed-newer"} {
			Expect(mon.touched(name)).To(BeFalse(), name)
			n := getNode(ctx, name)
			Expect(n.Spec.Unschedulable).To(BeFalse())
			Expect(n.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel))
		}
		Expect(getNode(ctx, "mixed-newer").Status.NodeInfo.KubeletVersion).To(Equal("v1.37.3"), "never downgraded")
	})

	It("retries evictions blocked by a PodDisruptionBudget, and finishes once it allows", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pdb", 1)
		pdb := protectedPod(ctx, "pdb-test", "web", nodes[0])
		createCU(ctx, newCU("pdb", "pdb"))

		Eventually(func(g Gomega) {
			cu := getCU(ctx, "pdb")
			g.Expect(cu.Status.InProgress).To(ConsistOf(And(
				HaveField("State", upgradev1alpha1.NodeDraining),
				HaveField("Message", ContainSubstring("blocked by PodDisruptionBudget pdb-test/web")))))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "pdb-test", Name: "web-0"}, &corev1.Pod{})).To(Succeed())
		}).WithTimeout(2*time.Second).Should(Succeed(), "the pod left despite its PodDisruptionBudget")

		setPDBStatus(ctx, pdb, 1)
		expectSucceeded(ctx, "pdb", nodes)
	})

	It("fails a node whose drain outlives drain.timeout, halts, and reports it", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "dtf", 3)
		first := nodes[0] // zone-a, first in plan order
		protectedPod(ctx, "dtf-test", "db", first)
		cu := newCU("dtf", "dtf")
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		createCU(ctx, cu)

		expectFailedNode(ctx, first, "DrainTimeout")
		Eventually(func(g Gomega) {
			c := getCU(ctx, "dtf")
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
			g.Expect(kstatusOf(g, c)).To(Equal(status.FailedStatus))
			stalled := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonTooManyFailures))
			g.Expect(c.Status.Failed).To(ConsistOf(And(HaveField("Name", first), HaveField("Reason", "DrainTimeout"),
				HaveField("Message", ContainSubstring("blocked by PodDisruptionBudget dtf-test/db")))))
			g.Expect(c.Status.FailedNodes).To(BeEquivalentTo(1))
			g.Expect(c.Status.PendingNodes).To(BeEquivalentTo(2))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			for _, n := range nodes[1:] {
				g.Expect(getNode(ctx, n).Spec.Unschedulable).To(BeFalse(), "a node started after the halt")
			}
		}).WithTimeout(2 * time.Second).Should(Succeed())
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "dtf-test", Name: "db-0"}, &corev1.Pod{})).To(Succeed())
	})

	It("deletes what is left without eviction when drain.onTimeout is ForceDelete", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "dtfd", 1)
		protectedPod(ctx, "dtfd-test", "db", nodes[0])
		cu := newCU("dtfd", "dtfd")
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		cu.Spec.Drain.OnTimeout = upgradev1alpha1.DrainTimeoutForceDelete
		createCU(ctx, cu)

		expectSucceeded(ctx, "dtfd", nodes)
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "dtfd-test", Name: "db-0"}, &corev1.Pod{})).
			To(Satisfy(func(err error) bool { return client.IgnoreNotFound(err) == nil && err != nil }))
	})

	It("fails a node whose upgrade Job fails, unless the kubelet already reports the target", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "jobfail", 2)
		kubelet.set(nodes[0], nodeagent.Behaviour{Never: true})
		kubelet.set(nodes[1], nodeagent.Behaviour{Delay: time.Hour}) // reports the target only when the test says
		cu := concurrent(newCU("jobfail", "jobfail"), "2")
		cu.Spec.MaxFailedNodes = 1
		withJob(cu)
		createCU(ctx, cu)

		By("failing the Job of a node whose kubelet stays old")
		failJob(ctx, nodeupgrade.JobName("jobfail", nodes[0], targetVersion))
		expectFailedNode(ctx, nodes[0], "JobFailed")

		By("failing the Job of a node whose kubelet already reports the target")
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[1])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgrading)))
		}).Should(Succeed())
		stopManagerBriefly(func() {
			n := getNode(ctx, nodes[1])
			patch := client.MergeFrom(n.DeepCopy())
			n.Status.NodeInfo.KubeletVersion = targetVersion
			Expect(env.Client.Status().Patch(ctx, n, patch)).To(Succeed())
			failJob(ctx, nodeupgrade.JobName("jobfail", nodes[1], targetVersion))
		})
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[1])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
			g.Expect(n.Spec.Unschedulable).To(BeFalse())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			c := getCU(ctx, "jobfail")
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
			stalled := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonNodesFailed), "within maxFailedNodes: done, with a failure")
		}).Should(Succeed())

		By("retrying the failed node (its state label removed): it gets a fresh Job, not the failed one")
		jobKey := client.ObjectKey{Namespace: jobNamespace, Name: nodeupgrade.JobName("jobfail", nodes[0], targetVersion)}
		failed := &batchv1.Job{}
		Expect(env.Client.Get(ctx, jobKey, failed)).To(Succeed())
		// Its kubelet takes a while, so the fresh Job is there to be seen
		// before the finished node's Job is deleted.
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 3 * time.Second})
		n := getNode(ctx, nodes[0])
		patch := client.MergeFrom(n.DeepCopy())
		delete(n.Labels, upgradev1alpha1.NodeStateLabel)
		Expect(env.Client.Patch(ctx, n, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			fresh := &batchv1.Job{}
			g.Expect(env.Client.Get(ctx, jobKey, fresh)).To(Succeed())
			g.Expect(fresh.UID).NotTo(Equal(failed.UID))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
			g.Expect(getCU(ctx, "jobfail").Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
		}).Should(Succeed())
	})

	It("fails a node that is not Ready at the target within upgrade.timeout, and halts past maxFailedNodes", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "uto", 4)
		kubelet.set(nodes[0], nodeagent.Behaviour{Never: true})       // zone-a
		kubelet.set(nodes[3], nodeagent.Behaviour{Report: "v1.37.1"}) // zone-a: reports another version
		cu := concurrent(newCU("uto", "uto"), "2")
		cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		cu.Spec.MaxFailedNodes = 1
		createCU(ctx, cu)

		expectFailedNode(ctx, nodes[0], "UpgradeTimeout")
		expectFailedNode(ctx, nodes[3], "UpgradeTimeout")
		Eventually(func(g Gomega) {
			c := getCU(ctx, "uto")
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)).
				To(HaveField("Reason", upgradev1alpha1.ReasonTooManyFailures))
			g.Expect(c.Status.Failed).To(HaveLen(2), "bounded by maxFailedNodes+1")
			g.Expect(c.Status.PendingNodes).To(BeEquivalentTo(2))
		}).Should(Succeed())

		By("retrying the failed nodes after a spec change")
		kubelet.set(nodes[0], nodeagent.Behaviour{})
		kubelet.set(nodes[3], nodeagent.Behaviour{})
		updateCU(ctx, "uto", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Timeout = &metav1.Duration{Duration: time.Minute}
		})
		expectSucceeded(ctx, "uto", nodes)
	})

	It("starts nothing while paused, and resumes", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "pause", 3)
		mon := watchBudget(ctx, clientset, "pause")
		cu := newCU("pause", "pause")
		cu.Spec.Paused = true
		createCU(ctx, cu)
		Eventually(func(g Gomega) {
			c := getCU(ctx, "pause")
			g.Expect(c.Status.Phase).To(Equal(upgradev1alpha1.PhasePaused))
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionReconciling)).To(BeNil())
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionReady)).
				To(HaveField("Reason", upgradev1alpha1.ReasonPaused))
		}).Should(Succeed())
		Consistently(func() bool { return mon.touched(nodes[0]) }).WithTimeout(time.Second).Should(BeFalse())

		updateCU(ctx, "pause", func(c *upgradev1alpha1.ClusterUpgrade) { c.Spec.Paused = false })
		expectSucceeded(ctx, "pause", nodes)
	})

	It("converges to a new target set mid-flight", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "retarget", 4)
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Delay: time.Second})
		}
		cu := newCU("retarget", "retarget")
		cu.Spec.TargetVersion = "v1.37.0"
		createCU(ctx, cu)
		Eventually(func(g Gomega) {
			g.Expect(getCU(ctx, "retarget").Status.UpgradedNodes).To(BeNumerically(">=", 1))
		}).Should(Succeed())

		updateCU(ctx, "retarget", func(c *upgradev1alpha1.ClusterUpgrade) { c.Spec.TargetVersion = targetVersion })
		expectSucceeded(ctx, "retarget", nodes)
	})

	It("makes the newer of two ClusterUpgrades that share nodes wait", func(ctx SpecContext) {
		makeNodes(ctx, "conflict", 2)
		older := newCU("conflict-older", "conflict")
		older.Spec.Paused = true
		createCU(ctx, older)
		Eventually(func(g Gomega) {
			g.Expect(getCU(ctx, "conflict-older").Status.Phase).To(Equal(upgradev1alpha1.PhasePaused))
		}).Should(Succeed())
		time.Sleep(1100 * time.Millisecond) // creation timestamps have one-second resolution
		createCU(ctx, newCU("conflict-newer", "conflict"))
		Eventually(func(g Gomega) {
			c := getCU(ctx, "conflict-newer")
			stalled := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonConflict))
			g.Expect(stalled.Message).To(ContainSubstring("conflict-older"))
			g.Expect(kstatusOf(g, c)).To(Equal(status.FailedStatus))
		}).Should(Succeed())
		Expect(getNode(ctx, "conflict-00").Spec.Unschedulable).To(BeFalse())
	})

	It("refuses a target newer than the API server, touching nothing", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "skew", 2)
		mon := watchBudget(ctx, clientset, "skew")
		cu := newCU("skew", "skew")
		cu.Spec.TargetVersion = "v1.38.0"
		createCU(ctx, cu)
		Eventually(func(g Gomega) {
			c := getCU(ctx, "skew")
			stalled := meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonVersionSkew))
			g.Expect(stalled.Message).To(ContainSubstring("v1.38.0 is newer than the API server (v1.37.2)"))
		}).Should(Succeed())
		Consistently(func() bool { return mon.touched(nodes[0]) || mon.touched(nodes[1]) }).
			WithTimeout(time.Second).Should(BeFalse())
	})

	It("says when the selector matches no node", func(ctx SpecContext) {
		createCU(ctx, newCU("nonodes", "no-such-pool"))
		Eventually(func(g Gomega) {
			c := getCU(ctx, "nonodes")
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)).
				To(HaveField("Reason", upgradev1alpha1.ReasonNoNodes))
		}).Should(Succeed())
	})

	It("releases its nodes when deleted mid-flight", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "del", 3)
		kubelet.set(nodes[0], nodeagent.Behaviour{Never: true})
		cu := concurrent(newCU("del", "del"), "1")
		withJob(cu)
		createCU(ctx, cu)
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgrading)))
		}).Should(Succeed())

		Expect(env.Client.Delete(ctx, getCU(ctx, "del"))).To(Succeed())
		Eventually(func(g Gomega) {
			err := env.Client.Get(ctx, client.ObjectKey{Name: "del"}, &upgradev1alpha1.ClusterUpgrade{})
			g.Expect(client.IgnoreNotFound(err)).To(Succeed())
			g.Expect(err).To(HaveOccurred())
		}).Should(Succeed())
		for _, name := range nodes {
			n := getNode(ctx, name)
			Expect(n.Spec.Unschedulable).To(BeFalse(), name)
			Expect(n.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), name)
			for _, k := range nodewaveAnnotations {
				Expect(n.Annotations).NotTo(HaveKey(k), name)
			}
		}
		expectJobsDeleted(ctx, "del")
	})

	It("resumes after a manager restart without draining a finished node again", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "restart", 6)
		for _, n := range nodes {
			kubelet.set(n, nodeagent.Behaviour{Delay: 700 * time.Millisecond})
		}
		mon := watchBudget(ctx, clientset, "restart")
		createCU(ctx, concurrent(newCU("restart", "restart"), "2"))
		Eventually(func(g Gomega) {
			c := getCU(ctx, "restart")
			g.Expect(c.Status.UpgradedNodes).To(BeNumerically(">=", 2))
			g.Expect(c.Status.UpgradingNodes).To(BeNumerically(">=", 1))
		}).Should(Succeed())

		stopManager()
		stopManager = startManager()

		expectSucceeded(ctx, "restart", nodes)
		Expect(mon.max()).To(Equal(2))
		for _, n := range nodes {
			Expect(mon.startCount(n)).To(Equal(1), "%s was started more than once", n)
		}
	})
})

// updateCU changes the spec of the named ClusterUpgrade, retrying on conflicts
// with the manager's own writes.
func updateCU(ctx context.Context, name string, change func(*upgradev1alpha1.ClusterUpgrade)) {
	Eventually(func() error {
		c := getCU(ctx, name)
		change(c)
		return env.Client.Update(ctx, c)
	}).Should(Succeed())
}

// withJob switches cu to Job mode with a minimal upgrade pod, and returns it.
func withJob(cu *upgradev1alpha1.ClusterUpgrade) *upgradev1alpha1.ClusterUpgrade {
	cu.Spec.Upgrade = upgradev1alpha1.NodeUpgradeSpec{Type: upgradev1alpha1.JobUpgrade, Job: &upgradev1alpha1.JobSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "upgrade", Image: "example.com/upgrader:v1"}}}},
	}}
	return cu
}

// expectJobsDeleted waits until every upgrade Job of cuName is being deleted.
func expectJobsDeleted(ctx context.Context, cuName string) {
	Eventually(func(g Gomega) {
		jobs := &batchv1.JobList{}
		g.Expect(env.Client.List(ctx, jobs, client.InNamespace(jobNamespace),
			client.MatchingLabels{upgradev1alpha1.JobClusterUpgradeLabel: cuName})).To(Succeed())
		for _, j := range jobs.Items {
			g.Expect(j.DeletionTimestamp).NotTo(BeNil(), "job %s not deleted", j.Name)
		}
	}).Should(Succeed())
}

// protectedPod creates namespace ns with one pod <app>-0 on node, and a
// PodDisruptionBudget <app> that allows no disruption of it.
func protectedPod(ctx context.Context, ns, app, node string) *policyv1.PodDisruptionBudget {
	Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	makePod(ctx, ns, app+"-0", node, map[string]string{"app": app})
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptrIntStr(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}
	Expect(env.Client.Create(ctx, pdb)).To(Succeed())
	setPDBStatus(ctx, pdb, 0)
	return pdb
}

// setPDBStatus writes what the disruption controller would: the budget
// allows `allowed` disruptions.
func setPDBStatus(ctx context.Context, pdb *policyv1.PodDisruptionBudget, allowed int32) {
	Eventually(func() error {
		cur := &policyv1.PodDisruptionBudget{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pdb), cur); err != nil {
			return err
		}
		cur.Status = policyv1.PodDisruptionBudgetStatus{
			ObservedGeneration: cur.Generation, DisruptionsAllowed: allowed,
			CurrentHealthy: 1, DesiredHealthy: 1 - allowed, ExpectedPods: 1,
		}
		return env.Client.Status().Update(ctx, cur)
	}).Should(Succeed())
}

// failJob marks a Job failed, as the Job controller would.
func failJob(ctx context.Context, name string) {
	setJobStatus(ctx, name, func(j *batchv1.Job, now metav1.Time) {
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
		}
		j.Status.Failed = 1
		j.Status.CompletionTime = nil
	})
}

// setJobStatus writes a Job's status as the Job controller would: started
// now, then what set adds.
func setJobStatus(ctx context.Context, name string, set func(j *batchv1.Job, now metav1.Time)) {
	Eventually(func() error {
		j := &batchv1.Job{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: jobNamespace, Name: name}, j); err != nil {
			return err
		}
		now := metav1.Now()
		j.Status.StartTime = &now
		set(j, now)
		return env.Client.Status().Update(ctx, j)
	}).Should(Succeed())
}

// stopManagerBriefly stops the manager while f changes the world, so the
// reconciler sees the change as one, then starts it again (also when f
// fails the spec, so the later specs have a manager).
func stopManagerBriefly(f func()) {
	stopManager()
	defer func() { stopManager = startManager() }()
	f()
}

func ptrIntStr(v intstr.IntOrString) *intstr.IntOrString { return &v }
