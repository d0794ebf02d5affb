// Package nodeview is how nodewave reads the Nodes around a
// ClusterUpgrade: what the planner knows of each, who holds it, and whether
// it is out of service. The controller and the
// kubectl plugin's forecast share it, so that a forecast sees the world
// exactly as the controller will. Pure functions of the objects.
package nodeview

import (
	"time"

	"slices"

	corev1 "k8s.io/api/core/v1"

	nodeutil "k8s.io/component-helpers/node/util"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
)

// PlanNode is what the planner knows of node n within the ClusterUpgrade
// cu, whose target is target: the facts the controller gives it, its zone
// (see Zone) and its priority (see Priority; 0 when it is not an integer,
// which the controller holds the upgrade for). A node that another
// ClusterUpgrade holds (in flight or failed) has no state here, only
// HeldElsewhere: this one never starts it, and the budget counts it while
// it is out.
func PlanNode(n *corev1.Node, cu *upgradev1alpha1.ClusterUpgrade, target version.Version) plan.Node {
	cuName := cu.Name
	state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
	kubelet, err := version.Parse(n.Status.NodeInfo.KubeletVersion)
	parsed := err == nil
	pn := plan.Node{
		Name:          n.Name,
		Zone:          Zone(n, cu),
		State:         state,
		Unschedulable: OutOfScheduling(n),
		Leaving:       Leaving(n),
		Ready:         Ready(n),
		AtTarget:      parsed && version.AtTarget(kubelet, target),
		Newer:         parsed && kubelet.NewerThan(target),
	}
	pn.Priority, _ = Priority(n, cu)
	// A node that never started has no stamp: not parsed, as an error
	// for each of 5,000 nodes on every pass was a twentieth of the
	// manager's allocations.
	if stamp := n.Annotations[upgradev1alpha1.StateSinceAnnotation]; stamp != "" {
		if since, err := time.Parse(time.RFC3339, stamp); err == nil {
			pn.Since = since
		}
	}
	switch holder := HeldBy(n); {
	case holder != "" && holder != cuName:
		pn.State = ""
		if plan.InFlight(state) || plan.Stopped(state) {
			pn.HeldElsewhere = state
		}
	case holder == cuName && state == "" && n.Spec.Unschedulable:
		pn.Retried = true
	}
	return pn
}

// Holds reports whether the ClusterUpgrade named cuName holds node n: its
// annotation names it and the node is in flight, failed or blocked under
// it (a failed or blocked node stays cordoned by it until retried or
// released).
func Holds(n *corev1.Node, cuName string) bool {
	state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
	return HeldBy(n) == cuName && (plan.InFlight(state) || plan.Stopped(state))
}

// outOfServiceTaints are the taints with which other tools take a node out
// of service before they drain it: Karpenter's disruption taint and the
// Cluster Autoscaler's scale-down taint. A node carrying one is as
// unavailable as a cordoned one.
var outOfServiceTaints = []string{"karpenter.sh/disrupted", "ToBeDeletedByClusterAutoscaler"}

// Leaving reports whether an autoscaler is taking the node out of
// service (Karpenter's or the Cluster Autoscaler's taint).
func Leaving(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) && slices.Contains(outOfServiceTaints, t.Key) {
			return true
		}
	}
	return false
}

// OutOfScheduling reports whether the node is out of scheduling by anyone's
// hand: cordoned (spec.unschedulable), or tainted NoSchedule or NoExecute
// by Karpenter or the Cluster Autoscaler on their way to drain it.
//
// The node.kubernetes.io/unschedulable taint does not count: it is the
// node lifecycle controller's mirror of spec.unschedulable (it adds it
// after a cordon and takes it off after an uncordon, including one put on
// by hand with no cordon behind it), so it only ever trails the cordon.
// Counting it kept the slot of every node nodewave had just uncordoned
// for as long as kube-controller-manager took to catch up: seconds at
// 5,000 nodes.
func OutOfScheduling(n *corev1.Node) bool {
	return n.Spec.Unschedulable || Leaving(n)
}

// HeldBy is the name of the ClusterUpgrade that holds the node, "" when
// none does.
func HeldBy(n *corev1.Node) string {
	return n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]
}

// Ready reports whether the node's Ready condition is True.
func Ready(n *corev1.Node) bool {
	c := ReadyCondition(n)
	return c != nil && c.Status == corev1.ConditionTrue
}

// ReadyCondition is the node's Ready condition, or nil.
func ReadyCondition(n *corev1.Node) *corev1.NodeCondition {
	_, c := nodeutil.GetNodeCondition(&n.Status, corev1.NodeReady)
	return c
}
