package controller

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/metrics"
)

// nodewaveAnnotations are every annotation nodewave writes on a Node.
var nodewaveAnnotations = []string{
	upgradev1alpha1.ClusterUpgradeAnnotation,
	upgradev1alpha1.TargetVersionAnnotation,
	upgradev1alpha1.WasUnschedulableAnnotation,
	upgradev1alpha1.StateSinceAnnotation,
	upgradev1alpha1.FailureAnnotation,
	upgradev1alpha1.UpgradeSinceAnnotation,
	upgradev1alpha1.EvictedOwnersAnnotation,
}

// reconcileDelete releases every node the ClusterUpgrade holds: it
// uncordons the ones nodewave cordoned (failed ones stay cordoned, for a
// human to look at), removes nodewave's label and annotations and its
// pending taint from every node, deletes the upgrade Jobs, and then lets
// the object go.
func (r *ClusterUpgradeReconciler) reconcileDelete(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) error {
	if !controllerutil.ContainsFinalizer(cu, upgradev1alpha1.Finalizer) {
		return nil
	}
	s := &scope{cu: cu, now: r.Clock.Now(), nodes: map[string]*corev1.Node{}}
	// No taint goes on for it any more, and the ones being written are
	// written before the nodes are read.
	r.taints.close(cu.UID)
	// Read-only views of the cached Nodes, as in observe: releaseNode
	// writes the scope's own copy of one through patchNode. Each as
	// nodewave last wrote it when the cache lags behind (the last pass's
	// taints would be missed, and left on the nodes for good).
	nodes := &corev1.NodeList{}
	if err := r.List(ctx, nodes, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	for i := range nodes.Items {
		n := r.nodeWrites.overlay(&nodes.Items[i])
		if n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] == cu.Name {
			s.nodes[n.Name] = n
			n = s.own(n.Name)
			if err := r.releaseNode(ctx, s, n); err != nil {
				return err
			}
		}
		if err := r.removePendingTaint(ctx, cu.Name, n, s.now); err != nil {
			return err
		}
	}
	if err := r.DeleteAllOf(ctx, &batchv1.Job{}, client.InNamespace(r.JobNamespace),
		client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(labels.Set{upgradev1alpha1.JobClusterUpgradeLabel: cu.Name})},
		client.PropagationPolicy("Background")); err != nil {
		return err
	}
	metrics.ClusterUpgrades.Delete(cu.Name)
	r.dryRuns.forget(cu.UID)
	r.alerts.forget(cu.UID)
	r.workloads.forget(cu.UID)
	r.statusWrites.forget(cu.UID)
	r.taints.forget(cu.UID)
	controllerutil.RemoveFinalizer(cu, upgradev1alpha1.Finalizer)
	return r.Update(ctx, cu)
}
