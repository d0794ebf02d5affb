package controller

import (
	"context"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
)

// clusterUpgradesForNode maps a Node event to every ClusterUpgrade that
// selects the node or holds it.
func (r *ClusterUpgradeReconciler) clusterUpgradesForNode(ctx context.Context, obj client.Object) []reconcile.Request {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil
	}
	all := &upgradev1alpha1.ClusterUpgradeList{}
	if err := r.List(ctx, all); err != nil {
		logf.FromContext(ctx).Error(err, "listing ClusterUpgrades for a node event", "node", n.Name)
		return nil
	}
	holder := n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]
	var reqs []reconcile.Request
	for i := range all.Items {
		cu := &all.Items[i]
		if cu.Name == holder || cu.Selects(labels.Set(n.Labels)) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(cu)})
		}
	}
	return reqs
}

// nodeChangePredicate lets through the Node events that can change a
// plan: creation and deletion, and updates to labels, annotations,
// spec.unschedulable, the taints that take a node out of scheduling, the
// kubelet version or the Ready condition. Status heartbeats that change
// nothing else are dropped.
func nodeChangePredicate() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, ok1 := e.ObjectOld.(*corev1.Node)
			cur, ok2 := e.ObjectNew.(*corev1.Node)
			if !ok1 || !ok2 {
				return true
			}
			return !reflect.DeepEqual(old.Labels, cur.Labels) ||
				!reflect.DeepEqual(old.Annotations, cur.Annotations) ||
				old.Spec.Unschedulable != cur.Spec.Unschedulable ||
				// The autoscalers' taints make a node unavailable too.
				nodeview.Leaving(old) != nodeview.Leaving(cur) ||
				old.Status.NodeInfo.KubeletVersion != cur.Status.NodeInfo.KubeletVersion ||
				readyState(old) != readyState(cur)
		},
	}
}

// readyState is the Ready condition's status and last transition, "" when absent.
func readyState(n *corev1.Node) string {
	c := nodeview.ReadyCondition(n)
	if c == nil {
		return ""
	}
	return string(c.Status) + "@" + c.LastTransitionTime.String()
}

// otherClusterUpgrades maps a ClusterUpgrade event to every other
// ClusterUpgrade: one that waits for it in Conflict looks again when it is
// done or gone.
func (r *ClusterUpgradeReconciler) otherClusterUpgrades(ctx context.Context, obj client.Object) []reconcile.Request {
	all := &upgradev1alpha1.ClusterUpgradeList{}
	if err := r.List(ctx, all); err != nil {
		logf.FromContext(ctx).Error(err, "listing ClusterUpgrades for another's phase change", "clusterUpgrade", obj.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for i := range all.Items {
		if all.Items[i].Name != obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&all.Items[i])})
		}
	}
	return reqs
}

// phaseChangePredicate lets through a ClusterUpgrade's deletion and the
// updates that change its phase; creations need no other to look.
func phaseChangePredicate() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, ok1 := e.ObjectOld.(*upgradev1alpha1.ClusterUpgrade)
			cur, ok2 := e.ObjectNew.(*upgradev1alpha1.ClusterUpgrade)
			return !ok1 || !ok2 || old.Status.Phase != cur.Status.Phase
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
