// Package nodeview is how nodewave reads the objects around a
// ClusterUpgrade: which nodes it selects, what the planner knows of each,
// and which older ClusterUpgrade it waits for. The controller and the
// kubectl plugin's forecast share it, so that a forecast sees the world
// exactly as the controller will. Pure functions of the objects.
package nodeview

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
)

// Selector is the node selector of cu:
// spec.nodeSelector, or, when it is absent, every node without the
// node-role.kubernetes.io/control-plane label. An error names the field.
func Selector(cu *upgradev1alpha1.ClusterUpgrade) (labels.Selector, error) {
	if cu.Spec.NodeSelector == nil {
		req, err := labels.NewRequirement(upgradev1alpha1.ControlPlaneLabel, selection.DoesNotExist, nil)
		if err != nil {
			return nil, err
		}
		return labels.NewSelector().Add(*req), nil
	}
	return metav1.LabelSelectorAsSelector(cu.Spec.NodeSelector)
}

// PlanNode is what the planner knows of node n within the ClusterUpgrade
// named cuName, whose target is target: the facts the controller gives it.
// A node that another ClusterUpgrade holds has no state here: its kubelet
// version decides, and the budget still counts it if it is cordoned.
func PlanNode(n *corev1.Node, cuName string, target version.Version) plan.Node {
	state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
	if HeldBy(n) != "" && HeldBy(n) != cuName {
		state = ""
	}
	kubelet, err := version.Parse(n.Status.NodeInfo.KubeletVersion)
	parsed := err == nil
	return plan.Node{
		Name:          n.Name,
		Zone:          n.Labels[upgradev1alpha1.ZoneLabel],
		State:         state,
		Unschedulable: n.Spec.Unschedulable,
		Ready:         Ready(n),
		AtTarget:      parsed && version.AtTarget(kubelet, target),
		Newer:         parsed && kubelet.NewerThan(target),
	}
}

// HeldBy is the name of the ClusterUpgrade that holds the node, "" when
// none does.
func HeldBy(n *corev1.Node) string {
	return n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]
}

// Ready reports whether the node's Ready condition is True.
func Ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WaitsFor reports whether cu must wait for other should they select a
// common node: other is another ClusterUpgrade, older, and not finished.
// Older is by creation time, then name; a ClusterUpgrade not applied yet
// (no creation time, as the plugin's plan -f reads one) is the newest.
func WaitsFor(cu, other *upgradev1alpha1.ClusterUpgrade) bool {
	return other.Name != cu.Name && olderThan(other, cu) && other.Status.Phase != upgradev1alpha1.PhaseSucceeded
}

func olderThan(a, b *upgradev1alpha1.ClusterUpgrade) bool {
	switch {
	case b.CreationTimestamp.IsZero():
		return !a.CreationTimestamp.IsZero()
	case a.CreationTimestamp.IsZero():
		return false
	case !a.CreationTimestamp.Equal(&b.CreationTimestamp):
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}
