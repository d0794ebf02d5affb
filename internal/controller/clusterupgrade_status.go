package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// engineUnavailableMessage says, on the object itself, that this build only
// observes ClusterUpgrades, so nobody mistakes a quiet status for progress.
const engineUnavailableMessage = "this nodewave build records ClusterUpgrades but does not upgrade nodes yet; no node has been touched"

// markEngineUnavailable records that generation was observed and that the
// upgrade has not been carried out: Reconciling True (work remains) and
// Ready False, with a message that says why. It reports no progress.
func markEngineUnavailable(status *upgradev1alpha1.ClusterUpgradeStatus, generation int64) {
	status.ObservedGeneration = generation
	if status.Phase == "" {
		status.Phase = upgradev1alpha1.PhasePending
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type:               upgradev1alpha1.ConditionReconciling,
		Status:             metav1.ConditionTrue,
		Reason:             upgradev1alpha1.ReasonEngineUnavailable,
		Message:            engineUnavailableMessage,
		ObservedGeneration: generation,
	})
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type:               upgradev1alpha1.ConditionReady,
		Status:             metav1.ConditionFalse,
		Reason:             upgradev1alpha1.ReasonEngineUnavailable,
		Message:            engineUnavailableMessage,
		ObservedGeneration: generation,
	})
	meta.RemoveStatusCondition(&status.Conditions, upgradev1alpha1.ConditionStalled)
}
