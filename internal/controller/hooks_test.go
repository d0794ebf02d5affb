package controller

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/plan"
)

var _ = Describe("Hook annotations", func() {
	It("hold a node before its drain and before its uncordon until their controllers remove them", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "hooks", 2)
		preDrain := upgradev1alpha1.PreDrainHookPrefix + "ceph-noout"
		postUpgrade := upgradev1alpha1.PostUpgradeHookPrefix + "smoke-test"
		annotate(ctx, nodes[0], preDrain, "rook-ceph")
		annotate(ctx, nodes[0], postUpgrade, "smoke")
		makePod(ctx, "default", "hooks-web", nodes[0], nil)
		createCU(ctx, newCU("hooks", "hooks"))

		By("holding the cordoned node before its drain")
		Eventually(func(g Gomega) {
			g.Expect(progressMessage(ctx, "hooks", nodes[0])).To(ContainSubstring("held by the pre-drain hook ceph-noout"))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			n := getNode(ctx, nodes[0])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeCordoned)))
			g.Expect(n.Spec.Unschedulable).To(BeTrue())
			pod := &corev1.Pod{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "hooks-web"}, pod)).To(Succeed())
			g.Expect(pod.DeletionTimestamp).To(BeNil(), "the pod was evicted while a pre-drain hook held its node")
			g.Expect(getNode(ctx, nodes[1]).Labels[upgradev1alpha1.NodeStateLabel]).To(BeEmpty(), "a Sequential upgrade started a second node")
		}).WithTimeout(3 * time.Second).Should(Succeed())

		By("draining once the hook's controller removes it, then holding the soaked node before its uncordon")
		unannotate(ctx, nodes[0], preDrain)
		Eventually(func(g Gomega) {
			g.Expect(progressMessage(ctx, "hooks", nodes[0])).To(ContainSubstring("soaked; held by the post-upgrade hook smoke-test"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Consistently(func(g Gomega) {
			n := getNode(ctx, nodes[0])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeVerifying)))
			g.Expect(n.Status.NodeInfo.KubeletVersion).To(Equal(targetVersion))
			g.Expect(n.Spec.Unschedulable).To(BeTrue(), "uncordoned while a post-upgrade hook held it")
		}).WithTimeout(3 * time.Second).Should(Succeed())

		unannotate(ctx, nodes[0], postUpgrade)
		expectSucceeded(ctx, "hooks", nodes)
		Expect(getNode(ctx, nodes[0]).Annotations).NotTo(HaveKey(postUpgrade), "nodewave wrote a removed hook back")
	})
})

// annotate sets an annotation on a node.
func annotate(ctx context.Context, node, key, value string) {
	Eventually(func() error {
		n := getNode(ctx, node)
		base := n.DeepCopy()
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[key] = value
		return env.Client.Patch(ctx, n, client.MergeFrom(base))
	}).Should(Succeed())
}

// unannotate removes an annotation from a node, as a hook's controller does.
func unannotate(ctx context.Context, node, key string) {
	Eventually(func() error {
		n := getNode(ctx, node)
		base := n.DeepCopy()
		delete(n.Annotations, key)
		return env.Client.Patch(ctx, n, client.MergeFrom(base))
	}).Should(Succeed())
}

// progressMessage is status.inProgress's message for node, "" when the
// node is not in flight.
func progressMessage(ctx context.Context, cu, node string) string {
	for _, p := range getCU(ctx, cu).Status.InProgress {
		if p.Name == node {
			return p.Message
		}
	}
	return ""
}

var _ = Describe("Hook Jobs (spec.hooks)", func() {
	hookTemplate := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "hook", Image: image}}}}
	}

	It("runs the pre-drain Job before the drain and the post-upgrade Job before the uncordon", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "hookjob", 1)
		node := nodes[0]
		makePod(ctx, "default", "hookjob-web", node, nil)
		cu := newCU("hookjob", "hookjob")
		cu.Spec.Hooks = &upgradev1alpha1.HooksSpec{
			PreDrain: &upgradev1alpha1.HookJob{Template: hookTemplate("example.com/ceph-tools:v1")},
			PostUpgrade: &upgradev1alpha1.HookJob{Template: hookTemplate("example.com/smoke:v1"),
				FailurePolicy: upgradev1alpha1.HookIgnore},
		}
		createCU(ctx, cu)

		By("creating the pre-drain hook Job and holding the cordoned node until it succeeds")
		preDrain := nodeupgrade.HookJobName("hookjob", node, string(plan.PreDrain))
		job := getJob(ctx, preDrain)
		Expect(job.Labels).To(HaveKeyWithValue(upgradev1alpha1.JobHookLabel, string(plan.PreDrain)))
		Expect(job.Spec.Template.Spec.NodeName).To(BeEmpty(), "a hook Job is not pinned to its cordoned node")
		Expect(job.Spec.Template.Spec.Containers[0].Env).To(ContainElements(
			corev1.EnvVar{Name: nodeupgrade.EnvHook, Value: string(plan.PreDrain)},
			corev1.EnvVar{Name: nodeupgrade.EnvNodeName, Value: node}))
		Expect(*job.Spec.ActiveDeadlineSeconds).To(BeEquivalentTo(600), "the default timeout")
		Eventually(func() string { return progressMessage(ctx, "hookjob", node) }).
			Should(ContainSubstring("running its pre-drain hook Job " + preDrain))
		Consistently(func(g Gomega) {
			g.Expect(getNode(ctx, node).Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeCordoned)))
			pod := &corev1.Pod{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "hookjob-web"}, pod)).To(Succeed())
			g.Expect(pod.DeletionTimestamp).To(BeNil(), "evicted before its pre-drain hook Job succeeded")
		}).WithTimeout(2 * time.Second).Should(Succeed())
		succeedJob(ctx, preDrain)

		By("running the post-upgrade hook Job once the node is soaked, still cordoned")
		postUpgrade := nodeupgrade.HookJobName("hookjob", node, string(plan.PostUpgrade))
		getJob(ctx, postUpgrade)
		Eventually(func() string { return progressMessage(ctx, "hookjob", node) }).WithTimeout(30 * time.Second).
			Should(ContainSubstring("soaked; running its post-upgrade hook Job " + postUpgrade))
		Expect(getNode(ctx, node).Spec.Unschedulable).To(BeTrue())

		By("going on when it fails under failurePolicy Ignore, and deleting both Jobs")
		failJob(ctx, postUpgrade)
		expectSucceeded(ctx, "hookjob", nodes)
		expectJobsDeleted(ctx, "hookjob")
	})

	It("fails the node, still undrained, when its pre-drain hook Job fails", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "hookfail", 2)
		makePod(ctx, "default", "hookfail-web", nodes[0], nil)
		mon := watchBudget(ctx, clientset, "hookfail")
		cu := newCU("hookfail", "hookfail")
		cu.Spec.Hooks = &upgradev1alpha1.HooksSpec{PreDrain: &upgradev1alpha1.HookJob{Template: hookTemplate("example.com/ceph-tools:v1")}}
		createCU(ctx, cu)

		preDrain := nodeupgrade.HookJobName("hookfail", nodes[0], string(plan.PreDrain))
		getJob(ctx, preDrain)
		failJob(ctx, preDrain)
		expectFailedNode(ctx, nodes[0], plan.ReasonHookJobFailed)
		Expect(getNode(ctx, nodes[0]).Annotations[upgradev1alpha1.FailureAnnotation]).
			To(ContainSubstring("its pre-drain hook Job " + preDrain + " failed: BackoffLimitExceeded"))
		pod := &corev1.Pod{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "hookfail-web"}, pod)).To(Succeed())
		Expect(pod.DeletionTimestamp).To(BeNil(), "a node whose pre-drain hook failed was drained")
		Consistently(func() bool { return mon.touched(nodes[1]) }).WithTimeout(2*time.Second).Should(BeFalse(), "a node started after the halt")
	})

	It("refuses a hook template with an image the allow-list does not allow, touching nothing", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "hookimg", 2)
		mon := watchBudget(ctx, clientset, "hookimg")
		cu := newCU("hookimg", "hookimg")
		cu.Spec.Hooks = &upgradev1alpha1.HooksSpec{PostUpgrade: &upgradev1alpha1.HookJob{Template: hookTemplate("evil.example.org/smoke:v1")}}
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "hookimg", upgradev1alpha1.ReasonImageNotAllowed)
		Expect(stalled.Message).To(ContainSubstring(`"evil.example.org/smoke:v1" (spec.hooks.postUpgrade.template.spec.containers[0], container hook)`))
		expectUntouched(ctx, mon, "hookimg", nodes)
	})

	It("refuses a hook template the API server rejects before cordoning any node", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "hookdry", 2)
		mon := watchBudget(ctx, clientset, "hookdry")
		cu := newCU("hookdry", "hookdry")
		bad := hookTemplate("example.com/ceph-tools:v1")
		bad.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "missing", MountPath: "/x"}}
		cu.Spec.Hooks = &upgradev1alpha1.HooksSpec{PreDrain: &upgradev1alpha1.HookJob{Template: bad}}
		createCU(ctx, cu)

		stalled := expectStalled(ctx, "hookdry", upgradev1alpha1.ReasonJobRejected)
		Expect(stalled.Message).To(ContainSubstring("the API server refused the pre-drain hook Job built from spec.hooks.preDrain.template"))
		Expect(stalled.Message).To(ContainSubstring(`volumeMounts[0].name: Not found: "missing"`))
		expectUntouched(ctx, mon, "hookdry", nodes)
	})
})

// getJob waits for the Job name in the Job namespace and returns it.
func getJob(ctx context.Context, name string) *batchv1.Job {
	job := &batchv1.Job{}
	Eventually(func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: jobNamespace, Name: name}, job)
	}).WithTimeout(30*time.Second).Should(Succeed(), "no Job %s", name)
	return job
}

// succeedJob marks a Job succeeded, as the Job controller would.
func succeedJob(ctx context.Context, name string) {
	setJobStatus(ctx, name, func(j *batchv1.Job, now metav1.Time) {
		j.Status.CompletionTime = &now
		j.Status.Succeeded = 1
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastTransitionTime: now},
		}
	})
}
