package e2e

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// frozenLabel makes kwok leave a node's or pod's status alone (hack/sim.sh).
const frozenLabel = "sim.nodewave.io/frozen"

// getCU reads a ClusterUpgrade.
func getCU(ctx context.Context, g Gomega, name string) *upgradev1alpha1.ClusterUpgrade {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: name}, cu)).To(Succeed())
	return cu
}

// waitFinished waits for a ClusterUpgrade to reach phase and returns it.
func waitFinished(ctx context.Context, name string, phase upgradev1alpha1.Phase) *upgradev1alpha1.ClusterUpgrade {
	var cu *upgradev1alpha1.ClusterUpgrade
	Eventually(func(g Gomega) {
		cu = getCU(ctx, g, name)
		g.Expect(cu.Status.Phase).To(Equal(phase), "status %+v", cu.Status)
		g.Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation))
	}).Should(Succeed())
	return cu
}

// getNode reads a node.
func getNode(ctx context.Context, g Gomega, name string) *corev1.Node {
	n := &corev1.Node{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
	return n
}

// waitNodeState waits for a node's state label to read state.
func waitNodeState(ctx context.Context, name string, state upgradev1alpha1.NodeState) {
	Eventually(func(g Gomega) {
		g.Expect(getNode(ctx, g, name).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(state)))
	}).WithPolling(100*time.Millisecond).Should(Succeed(), "waiting for %s to be %s", name, state)
}

// nodeState reads a node's state label.
func nodeState(ctx context.Context, name string) string {
	return getNode(ctx, Default, name).Labels[upgradev1alpha1.NodeStateLabel]
}

// setNodeReady makes a node NotReady, as a kubelet that stops posting
// Ready would (kwok is told to leave its status alone and the Ready
// condition is set False), or hands it back to kwok, which makes it Ready.
func setNodeReady(ctx context.Context, name string, isReady bool) {
	n := getNode(ctx, Default, name)
	patch := client.MergeFrom(n.DeepCopy())
	if isReady {
		delete(n.Labels, frozenLabel)
		Expect(admin.Patch(ctx, n, patch)).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(ready(getNode(ctx, g, name))).To(BeTrue()) }).Should(Succeed())
		return
	}
	n.Labels[frozenLabel] = "true"
	Expect(admin.Patch(ctx, n, patch)).To(Succeed())
	n = getNode(ctx, Default, name)
	patch = client.MergeFrom(n.DeepCopy())
	for i := range n.Status.Conditions {
		if c := &n.Status.Conditions[i]; c.Type == corev1.NodeReady {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, "KubeletNotReady", "e2e: simulated kubelet outage"
			c.LastTransitionTime = metav1.Now()
		}
	}
	Expect(admin.Status().Patch(ctx, n, patch)).To(Succeed())
	Eventually(func(g Gomega) { g.Expect(ready(getNode(ctx, g, name))).To(BeFalse()) }).Should(Succeed())
}

// uncordon is what the human does once a failed node is dealt with.
func uncordon(ctx context.Context, name string) {
	n := getNode(ctx, Default, name)
	patch := client.MergeFrom(n.DeepCopy())
	n.Spec.Unschedulable = false
	Expect(admin.Patch(ctx, n, patch)).To(Succeed())
}

// deleteAndWait deletes an object and waits until it is gone.
func deleteAndWait(ctx context.Context, obj client.Object) {
	Expect(client.IgnoreNotFound(admin.Delete(ctx, obj))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(admin.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}).Should(BeTrue(), "%T %s is not gone", obj, obj.GetName())
}

// finishScenario deletes the ClusterUpgrade and checks what it leaves: its
// failed nodes still cordoned (for a human), every other selected node
// schedulable, no nodewave label left. The failed ones are then uncordoned
// and the monitor stops watching the scenario's nodes.
func finishScenario(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade, failed ...string) {
	sel, err := cu.Selector()
	Expect(err).NotTo(HaveOccurred())
	deleteAndWait(ctx, cu)
	nodes := &corev1.NodeList{}
	Expect(admin.List(ctx, nodes, client.MatchingLabelsSelector{Selector: sel})).To(Succeed())
	for _, n := range nodes.Items {
		Expect(n.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), n.Name)
		Expect(n.Spec.Unschedulable).To(Equal(slices.Contains(failed, n.Name)),
			"%s: only the failed nodes stay cordoned", n.Name)
	}
	monitor.expect(labels.Nothing(), 0)
	for _, name := range failed {
		uncordon(ctx, name)
	}
}

// goFault runs a fault injection next to the scenario's main line.
func goFault(done chan<- struct{}, fn func()) {
	go func() {
		defer GinkgoRecover()
		defer close(done)
		fn()
	}()
}
