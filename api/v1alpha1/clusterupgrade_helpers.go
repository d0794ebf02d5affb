package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Selector is the node selector of cu: spec.nodeSelector, or, when it is
// absent, every node without the node-role.kubernetes.io/control-plane
// label. An error names the field.
func (cu *ClusterUpgrade) Selector() (labels.Selector, error) {
	if cu.Spec.NodeSelector == nil {
		req, err := labels.NewRequirement(ControlPlaneLabel, selection.DoesNotExist, nil)
		if err != nil {
			return nil, err
		}
		return labels.NewSelector().Add(*req), nil
	}
	return metav1.LabelSelectorAsSelector(cu.Spec.NodeSelector)
}

// ControlPlaneSelector is the selector of cu's control-plane nodes:
// spec.controlPlane.nodeSelector, or, when it is absent, every node with
// the node-role.kubernetes.io/control-plane label. It is nil when
// spec.controlPlane is absent: then no node is a control-plane node.
func (cu *ClusterUpgrade) ControlPlaneSelector() (labels.Selector, error) {
	switch {
	case cu.Spec.ControlPlane == nil:
		return nil, nil
	case cu.Spec.ControlPlane.NodeSelector == nil:
		req, err := labels.NewRequirement(ControlPlaneLabel, selection.Exists, nil)
		if err != nil {
			return nil, err
		}
		return labels.NewSelector().Add(*req), nil
	}
	return metav1.LabelSelectorAsSelector(cu.Spec.ControlPlane.NodeSelector)
}

// Selects reports whether cu selects a node with these labels, as a
// worker (Selector) or as a control-plane node (ControlPlaneSelector). A
// selector that does not parse selects nothing.
func (cu *ClusterUpgrade) Selects(set labels.Labels) bool {
	if sel, err := cu.Selector(); err == nil && sel.Matches(set) {
		return true
	}
	sel, err := cu.ControlPlaneSelector()
	return err == nil && sel != nil && sel.Matches(set)
}

// WaitsFor reports whether cu must wait for other before it starts a node,
// should they select a common node: other is another ClusterUpgrade, older,
// and not finished. Older is by creation time, then name; a ClusterUpgrade
// not applied yet (no creation time, as the plugin's plan -f reads one) is
// the newest.
func (cu *ClusterUpgrade) WaitsFor(other *ClusterUpgrade) bool {
	return other.Name != cu.Name && other.olderThan(cu) && other.Status.Phase != PhaseSucceeded
}

// olderThan orders ClusterUpgrades by creation time, then by name.
func (cu *ClusterUpgrade) olderThan(b *ClusterUpgrade) bool {
	switch {
	case b.CreationTimestamp.IsZero():
		return !cu.CreationTimestamp.IsZero()
	case cu.CreationTimestamp.IsZero():
		return false
	case !cu.CreationTimestamp.Equal(&b.CreationTimestamp):
		return cu.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return cu.Name < b.Name
}
