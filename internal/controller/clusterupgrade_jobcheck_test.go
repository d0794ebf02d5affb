package controller

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

var _ = Describe("Job template checks", func() {
	It("refuses an image that is not on the manager's allow-list, touching nothing, and proceeds once the spec is fixed", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "imgdeny", 3)
		mon := watchBudget(ctx, clientset, "imgdeny")
		cu := withJob(newCU("imgdeny", "imgdeny"))
		pod := &cu.Spec.Upgrade.Job.Template.Spec
		pod.Containers[0].Image = "evil.example.org/upgrader:v1"
		pod.InitContainers = []corev1.Container{{Name: "prep", Image: "busybox:1.36"}} // docker.io/library/busybox
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "imgdeny", upgradev1alpha1.ReasonImageNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`"evil.example.org/upgrader:v1" (spec.upgrade.job.template.spec.containers[0], container upgrade)`))
		Expect(stalled.Message).To(ContainSubstring(`"busybox:1.36" (spec.upgrade.job.template.spec.initContainers[0], container prep)`))
		Expect(stalled.Message).To(ContainSubstring("--allowed-upgrade-images=" + suiteAllowedImages))
		expectUntouched(ctx, mon, "imgdeny", nodes)

		By("proceeding once the spec names allowed images (a new generation)")
		updateCU(ctx, "imgdeny", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Job.Template.Spec.Containers[0].Image = "registry.example.com/nodewave/upgrader:v1.37.2"
			c.Spec.Upgrade.Job.Template.Spec.InitContainers[0].Image = "example.com/prep@sha256:" + sha256Hex
		})
		expectSucceeded(ctx, "imgdeny", nodes)
		Expect(mon.max()).To(Equal(1))
	})

	It("refuses a Job template the API server rejects before cordoning any node, and upgrades once it is fixed", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "dryrun", 3)
		mon := watchBudget(ctx, clientset, "dryrun")
		cu := concurrent(withJob(newCU("dryrun", "dryrun")), "2")
		// Admission of the ClusterUpgrade cannot see that the mount names
		// no volume; the API server's Job validation does.
		cu.Spec.Upgrade.Job.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "host", MountPath: "/host"}}
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "dryrun", upgradev1alpha1.ReasonJobRejected)
		Expect(stalled.Message).To(ContainSubstring("the API server refused the upgrade Job"))
		Expect(stalled.Message).To(ContainSubstring(`spec.template.spec.containers[0].volumeMounts[0].name: Not found: "host"`))
		Expect(getCU(ctx, "dryrun").Status.PendingNodes).To(BeEquivalentTo(3))
		expectUntouched(ctx, mon, "dryrun", nodes)

		By("upgrading once the template is fixed (a new generation)")
		updateCU(ctx, "dryrun", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Job.Template.Spec.Volumes = []corev1.Volume{{Name: "host",
				VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
		})
		expectSucceeded(ctx, "dryrun", nodes)
		Expect(mon.max()).To(Equal(2))
	})

	It("finishes the nodes in flight but starts nothing new when the manager restarts with a stricter allow-list", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "stricter", 3)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour}) // upgraded only when the test says
		mon := watchBudget(ctx, clientset, "stricter")
		createCU(ctx, withJob(newCU("stricter", "stricter"))) // example.com/upgrader:v1
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgrading)))
		}).Should(Succeed())

		stopManager()
		stopManager = startManagerWith("registry.example.com/*")
		DeferCleanup(func() { stopManager(); stopManager = startManager() }) // even if the spec fails
		kubelet.set(nodes[0], nodeagent.Behaviour{})

		By("finishing the node whose Job already ran, and holding the rest")
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[0])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
			g.Expect(n.Spec.Unschedulable).To(BeFalse())
		}).Should(Succeed())
		stalled := expectStalled(ctx, "stricter", upgradev1alpha1.ReasonImageNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`"example.com/upgrader:v1"`))
		Expect(stalled.Message).To(ContainSubstring("--allowed-upgrade-images=registry.example.com/*"))
		expectUntouched(ctx, mon, "stricter", nodes[1:])

		By("resuming under the manager's former list")
		stopManager()
		stopManager = startManager()
		expectSucceeded(ctx, "stricter", nodes)
		Expect(mon.max()).To(Equal(1))
		for _, n := range nodes {
			Expect(mon.cordonCount(n)).To(Equal(1), n)
		}
	})
})

// sha256Hex is a well-formed sha256 digest's hex part.
const sha256Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// expectStalled waits until the named ClusterUpgrade is Stalled for
// reason at its current generation, with kstatus Failed and no
// Reconciling, and returns the Stalled condition.
func expectStalled(ctx context.Context, name, reason string) *metav1.Condition {
	var stalled *metav1.Condition
	Eventually(func(g Gomega) {
		c := getCU(ctx, name)
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		stalled = meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionStalled)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(reason), "message: %s", stalled.Message)
		g.Expect(meta.FindStatusCondition(c.Status.Conditions, upgradev1alpha1.ConditionReconciling)).To(BeNil())
		g.Expect(kstatusOf(g, c)).To(Equal(status.FailedStatus))
	}).Should(Succeed())
	return stalled
}

// expectUntouched checks for a few seconds that no node of names is
// cordoned or labelled and that the ClusterUpgrade has no Job for them.
func expectUntouched(ctx context.Context, mon *budgetMonitor, cuName string, names []string) {
	Consistently(func(g Gomega) {
		for _, name := range names {
			n := getNode(ctx, name)
			g.Expect(n.Spec.Unschedulable).To(BeFalse(), "%s was cordoned", name)
			g.Expect(n.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), name)
			g.Expect(mon.touched(name)).To(BeFalse(), "%s was touched", name)
		}
		jobs := &batchv1.JobList{}
		g.Expect(env.Client.List(ctx, jobs, client.InNamespace(jobNamespace),
			client.MatchingLabels{upgradev1alpha1.JobClusterUpgradeLabel: cuName})).To(Succeed())
		for _, j := range jobs.Items {
			g.Expect(names).NotTo(ContainElement(j.Labels[upgradev1alpha1.JobNodeLabel]), "Job %s was created", j.Name)
		}
	}).WithTimeout(3 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
}

func TestDryRunMemo(t *testing.T) {
	var m dryRunMemo
	now := time.Unix(1_700_000_000, 0)
	cu := &upgradev1alpha1.ClusterUpgrade{ObjectMeta: metav1.ObjectMeta{UID: "uid-1", Generation: 1}}
	if _, known := m.lookup(cu, now); known {
		t.Fatal("an empty memo knows an outcome")
	}

	m.accept(cu)
	if b, known := m.lookup(cu, now); !known || b != nil {
		t.Fatalf("after an acceptance: %v, %v", b, known)
	}
	cu.Generation = 2
	if _, known := m.lookup(cu, now); known {
		t.Fatal("an acceptance outlived its generation")
	}

	refusal := &blocker{reason: upgradev1alpha1.ReasonJobRejected, message: "no"}
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute} {
		if got := m.refuse(cu, refusal, now); got != want {
			t.Fatalf("refusal %d: re-check after %s, want %s", i+1, got, want)
		}
		b, known := m.lookup(cu, now.Add(want/2))
		if !known || b == nil || b.reason != refusal.reason || b.requeueAfter != want-want/2 {
			t.Fatalf("refusal %d, half-way: %+v, %v", i+1, b, known)
		}
		if _, known := m.lookup(cu, now.Add(want)); known {
			t.Fatalf("refusal %d is not judged again after %s", i+1, want)
		}
	}

	cu.Generation = 3
	if _, known := m.lookup(cu, now); known {
		t.Fatal("a refusal outlived its generation")
	}
	if got := m.refuse(cu, refusal, now); got != 30*time.Second {
		t.Fatalf("the first refusal of a new generation waits %s", got)
	}
	m.forget(cu.UID)
	if _, known := m.lookup(cu, now); known {
		t.Fatal("a forgotten ClusterUpgrade is remembered")
	}
}
