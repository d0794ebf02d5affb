package controller

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
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
