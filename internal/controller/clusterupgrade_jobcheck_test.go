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
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
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

	It("refuses an image volume that is not on the manager's allow-list, touching nothing", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "imgvol", 2)
		mon := watchBudget(ctx, clientset, "imgvol")
		cu := withJob(newCU("imgvol", "imgvol"))
		pod := &cu.Spec.Upgrade.Job.Template.Spec
		pod.Volumes = []corev1.Volume{
			{Name: "pkgs", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example.com/pkgs:v1.37.2"}}},
			{Name: "tools", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "evil.example.org/tools:v1"}}},
		}
		pod.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "pkgs", MountPath: "/pkgs"}, {Name: "tools", MountPath: "/tools"}}
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "imgvol", upgradev1alpha1.ReasonImageNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`image "evil.example.org/tools:v1" (spec.upgrade.job.template.spec.volumes[1].image.reference, image volume tools) is not allowed`))
		Expect(stalled.Message).NotTo(ContainSubstring("pkgs"))
		expectUntouched(ctx, mon, "imgvol", nodes)
	})

	It("refuses a template that runs as the manager's ServiceAccount, touching nothing", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "mgrsa", 2)
		mon := watchBudget(ctx, clientset, "mgrsa")
		cu := withJob(newCU("mgrsa", "mgrsa"))
		cu.Spec.Upgrade.Job.Template.Spec.ServiceAccountName = "nodewave-controller-manager"
		cu.Spec.Upgrade.Job.Template.Spec.AutomountServiceAccountToken = ptr.To(true)
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "mgrsa", upgradev1alpha1.ReasonCredentialNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`ServiceAccount "nodewave-controller-manager" (spec.upgrade.job.template.spec.serviceAccountName)`))
		Expect(stalled.Message).To(ContainSubstring("runs as the ServiceAccount nodewave-upgrade, which has no permissions"))
		expectUntouched(ctx, mon, "mgrsa", nodes)
	})

	It("refuses a template that uses a Secret of the Job namespace, touching nothing", func(ctx SpecContext) {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: jobNamespace, Name: "apt-proxy"},
			StringData: map[string]string{"url": "http://user:password@proxy.example.com:3128"}}
		Expect(env.Client.Create(ctx, secret)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(env.Client.Delete(ctx, secret)).To(Succeed()) })
		nodes := makeNodes(ctx, "secret", 2)
		mon := watchBudget(ctx, clientset, "secret")
		cu := withJob(newCU("secret", "secret"))
		pod := &cu.Spec.Upgrade.Job.Template.Spec
		pod.Volumes = []corev1.Volume{{Name: "proxy", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "apt-proxy"}}}}
		pod.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "proxy", MountPath: "/proxy"}}
		pod.Containers[0].Env = []corev1.EnvVar{{Name: "HTTP_PROXY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "apt-proxy"}, Key: "url"}}}}
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "secret", upgradev1alpha1.ReasonCredentialNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`Secret "apt-proxy" (spec.upgrade.job.template.spec.volumes[0].secret.secretName)`))
		Expect(stalled.Message).To(ContainSubstring(`Secret "apt-proxy" (spec.upgrade.job.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name)`))
		Expect(stalled.Message).To(ContainSubstring("of the Job namespace " + jobNamespace))
		expectUntouched(ctx, mon, "secret", nodes)
	})

	It("runs a template that uses a Secret the manager allows, and refuses the others", func(ctx SpecContext) {
		stopManager()
		var err error
		suiteAllowedSecrets, err = nodeupgrade.ParseCredentialPolicy("apt-proxy,upgrader-pull")
		Expect(err).NotTo(HaveOccurred())
		stopManager = startManager()
		DeferCleanup(func() { // even if the spec fails
			stopManager()
			suiteAllowedSecrets = nodeupgrade.CredentialPolicy{}
			stopManager = startManager()
		})
		nodes := makeNodes(ctx, "allowed", 2)
		mon := watchBudget(ctx, clientset, "allowed")
		cu := withJob(newCU("allowed", "allowed"))
		pod := &cu.Spec.Upgrade.Job.Template.Spec
		pod.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "upgrader-pull"}}
		pod.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "apt-proxy"}}}}
		pod.Containers[0].Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-admin"}, Key: "token"}}}}
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "allowed", upgradev1alpha1.ReasonCredentialNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`Secret "db-admin" (spec.upgrade.job.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name)`))
		Expect(stalled.Message).NotTo(ContainSubstring(`Secret "apt-proxy"`))
		Expect(stalled.Message).NotTo(ContainSubstring(`Secret "upgrader-pull"`))
		Expect(stalled.Message).To(ContainSubstring("--allowed-upgrade-secrets=apt-proxy,upgrader-pull"))
		expectUntouched(ctx, mon, "allowed", nodes)

		By("upgrading once only allowed Secrets are left")
		updateCU(ctx, "allowed", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Job.Template.Spec.Containers[0].Env = nil
		})
		expectSucceeded(ctx, "allowed", nodes)
	})

	It("runs a template that names no ServiceAccount as the upgrade ServiceAccount, without its token", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "upgradesa", 1)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour}) // the Job stays until the test has read it
		DeferCleanup(func() { kubelet.set(nodes[0], nodeagent.Behaviour{}) })
		createCU(ctx, withJob(newCU("upgradesa", "upgradesa")))

		var job batchv1.Job
		Eventually(func(g Gomega) {
			jobs := &batchv1.JobList{}
			g.Expect(env.Client.List(ctx, jobs, client.InNamespace(jobNamespace),
				client.MatchingLabels{upgradev1alpha1.JobClusterUpgradeLabel: "upgradesa"})).To(Succeed())
			g.Expect(jobs.Items).To(HaveLen(1))
			job = jobs.Items[0]
		}).Should(Succeed())
		pod := job.Spec.Template.Spec
		Expect(pod.ServiceAccountName).To(Equal("nodewave-upgrade"))
		Expect(pod.AutomountServiceAccountToken).To(HaveValue(BeFalse()))

		kubelet.set(nodes[0], nodeagent.Behaviour{})
		expectSucceeded(ctx, "upgradesa", nodes)
	})

	It("finishes the nodes in flight but starts nothing new when the spec names the manager's ServiceAccount mid-flight", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "midsa", 3)
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour}) // upgraded only when the test says
		DeferCleanup(func() { kubelet.set(nodes[0], nodeagent.Behaviour{}) })
		mon := watchBudget(ctx, clientset, "midsa")
		createCU(ctx, withJob(newCU("midsa", "midsa")))
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgrading)))
		}).Should(Succeed())

		updateCU(ctx, "midsa", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Job.Template.Spec.ServiceAccountName = "nodewave-controller-manager"
		})
		stalled := expectStalled(ctx, "midsa", upgradev1alpha1.ReasonCredentialNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`ServiceAccount "nodewave-controller-manager"`))

		By("finishing the node whose Job already ran, and holding the rest")
		kubelet.set(nodes[0], nodeagent.Behaviour{})
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[0])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeUpgraded)))
			g.Expect(n.Spec.Unschedulable).To(BeFalse())
		}).Should(Succeed())
		expectStalled(ctx, "midsa", upgradev1alpha1.ReasonCredentialNotAllowed)
		expectUntouched(ctx, mon, "midsa", nodes[1:])

		By("proceeding once the field is removed")
		updateCU(ctx, "midsa", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Job.Template.Spec.ServiceAccountName = ""
		})
		expectSucceeded(ctx, "midsa", nodes)
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
			Expect(mon.startCount(n)).To(Equal(1), n)
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
