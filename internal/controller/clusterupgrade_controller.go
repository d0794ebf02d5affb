// Package controller holds the ClusterUpgrade reconciler: it observes the
// world, asks the planner what to do next, acts, and writes status once per
// pass.
package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// ClusterUpgradeReconciler reconciles ClusterUpgrade objects.
type ClusterUpgradeReconciler struct {
	client.Client

	// JobNamespace is the namespace of the per-node upgrade Jobs.
	JobNamespace string
}

// +kubebuilder:rbac:groups=upgrade.nodewave.io,resources=clusterupgrades,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=upgrade.nodewave.io,resources=clusterupgrades/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=upgrade.nodewave.io,resources=clusterupgrades/finalizers,verbs=update

// Reconcile brings one ClusterUpgrade's status up to date with its spec.
func (r *ClusterUpgradeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	if err := r.Get(ctx, req.NamespacedName, cu); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := cu.DeepCopy()
	markEngineUnavailable(&cu.Status, cu.Generation)
	if equality.Semantic.DeepEqual(before.Status, cu.Status) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Status().Patch(ctx, cu, client.MergeFrom(before))
}

// SetupWithManager registers the reconciler with the manager.
func (r *ClusterUpgradeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&upgradev1alpha1.ClusterUpgrade{}).
		Named("clusterupgrade").
		Complete(r)
}
