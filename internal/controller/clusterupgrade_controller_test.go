package controller

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// kstatusOf computes the status Argo CD and Flux would read from cu.
func kstatusOf(cu *upgradev1alpha1.ClusterUpgrade) status.Status {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cu)
	Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: obj})
	Expect(err).NotTo(HaveOccurred())
	return res.Status
}

var _ = Describe("ClusterUpgrade reconciler", func() {
	ctx := context.Background()

	It("records the observed generation and an honest not-ready state, with no progress", func() {
		cu := &upgradev1alpha1.ClusterUpgrade{
			ObjectMeta: metav1.ObjectMeta{Name: "observe-only"},
			Spec: upgradev1alpha1.ClusterUpgradeSpec{
				TargetVersion: "v1.37.2",
				Upgrade:       upgradev1alpha1.NodeUpgradeSpec{Type: upgradev1alpha1.ExternalUpgrade},
			},
		}
		Expect(env.Client.Create(ctx, cu)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(env.Client.Delete(ctx, cu))).To(Succeed()) })

		By("reading as in progress before and after the first reconcile")
		Expect(cu.Status.ObservedGeneration).To(Equal(int64(-1)), "a new object must default observedGeneration to -1")
		Expect(kstatusOf(cu)).To(Equal(status.InProgressStatus))

		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cu), cu)).To(Succeed())
			g.Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation))
		}).Should(Succeed())

		ready := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionReady)
		Expect(ready).NotTo(BeNil())
		Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		Expect(ready.ObservedGeneration).To(Equal(cu.Generation))
		Expect(ready.Message).To(ContainSubstring("no node has been touched"))
		reconciling := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionReconciling)
		Expect(reconciling).NotTo(BeNil())
		Expect(reconciling.Status).To(Equal(metav1.ConditionTrue))
		Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(BeNil())
		Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhasePending))
		Expect(cu.Status.UpgradedNodes).To(BeZero())
		Expect(cu.Status.StartedAt).To(BeNil())
		Expect(kstatusOf(cu)).To(Equal(status.InProgressStatus))

		By("following a spec change to its new generation")
		cu.Spec.Paused = true
		Expect(env.Client.Update(ctx, cu)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cu), cu)).To(Succeed())
			g.Expect(cu.Generation).To(Equal(int64(2)))
			g.Expect(cu.Status.ObservedGeneration).To(Equal(int64(2)))
			for _, c := range cu.Status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(int64(2)), "condition %s", c.Type)
			}
		}).Should(Succeed())
	})
})
