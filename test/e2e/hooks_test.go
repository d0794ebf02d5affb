package e2e

import (
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

// hookJobs runs spec.hooks through the real Job controller: each node's
// pre-drain hook Job has a pod kwok never runs (the frozen label), so the
// node stays cordoned and undrained until the Job controller fails the Job
// at its activeDeadlineSeconds (the hook's timeout); failurePolicy Ignore
// then lets it go on. Its post-upgrade hook Job's pod kwok runs to
// completion, and the node is uncordoned only after it.
func hookJobs(ctx SpecContext) {
	const name, target, timeout = "e2e-hooks", "v1.36.14", 12 * time.Second
	nodes := []string{"worker-042", "worker-043"}
	cu := clusterUpgrade(name, target, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: corev1.LabelHostname, Operator: metav1.LabelSelectorOpIn, Values: nodes}}}, upgradev1alpha1.ExternalUpgrade)
	hook := func(labels map[string]string) *upgradev1alpha1.HookJob {
		return &upgradev1alpha1.HookJob{Timeout: &metav1.Duration{Duration: timeout}, FailurePolicy: upgradev1alpha1.HookIgnore,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "hook", Image: "registry.example.com/ceph-tools:v1"}}}}}
	}
	cu.Spec.Hooks = &upgradev1alpha1.HooksSpec{PreDrain: hook(map[string]string{frozenLabel: "true"}), PostUpgrade: hook(nil)}
	startUpgrade(ctx, cu, 1)

	first := nodes[0]
	preDrain := nodeupgrade.HookJobName(name, first, string(plan.PreDrain))
	By("holding the first node cordoned, undrained, while its pre-drain hook Job runs")
	Eventually(func(g Gomega) {
		g.Expect(getNode(ctx, g, first).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeCordoned)))
		job := &batchv1.Job{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: jobNamespace, Name: preDrain}, job)).To(Succeed())
		g.Expect(job.Spec.ActiveDeadlineSeconds).To(HaveValue(BeEquivalentTo(timeout / time.Second)))
	}).WithTimeout(time.Minute).Should(Succeed())
	Consistently(func(g Gomega) {
		g.Expect(getNode(ctx, g, first).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeCordoned)),
			"the node left cordoned while its pre-drain hook Job ran")
	}).WithTimeout(timeout / 2).Should(Succeed())

	By("failing the Job at its deadline (the Job controller), and going on under failurePolicy Ignore")
	Eventually(func(g Gomega) {
		job := &batchv1.Job{}
		err := admin.Get(ctx, client.ObjectKey{Namespace: jobNamespace, Name: preDrain}, job)
		if err == nil {
			g.Expect(job.Status.Conditions).To(ContainElement(And(
				HaveField("Type", batchv1.JobFailed), HaveField("Reason", batchv1.JobReasonDeadlineExceeded))))
		}
		g.Expect(getNode(ctx, g, first).Labels[upgradev1alpha1.NodeStateLabel]).NotTo(Equal(string(upgradev1alpha1.NodeCordoned)))
	}).WithTimeout(2 * time.Minute).Should(Succeed())
	expectUpgraded(ctx, name, nodes, 1)
}
