package plan

import (
	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Node is what the planner knows of one selected node: facts the controller
// observed on the Node object, nothing remembered.
type Node struct {
	// Name is the node's name.
	Name string
	// Zone is the node's topology.kubernetes.io/zone label, "" when absent.
	Zone string
	// State is the node's upgrade.nodewave.io/state label, "" when absent.
	State upgradev1alpha1.NodeState
	// Unschedulable is spec.unschedulable: the node is cordoned, by anyone.
	Unschedulable bool
	// Ready is the node's Ready condition being True.
	Ready bool
	// AtTarget is the kubelet reporting the target version.
	AtTarget bool
	// Newer is the kubelet reporting a version newer than the target.
	Newer bool
}

// Unavailable reports whether the node counts against the budget: cordoned
// by anyone, NotReady, or in flight. An admin who uncordons a node mid-drain
// or mid-upgrade does not give its slot back: its kubelet restart is still
// to come.
func (n Node) Unavailable() bool {
	return n.Unschedulable || !n.Ready || Classify(n) == ClassInFlight
}

// Class is where a node stands in one ClusterUpgrade.
type Class string

// The classes of a selected node.
const (
	// ClassPending: not started and not at the target.
	ClassPending Class = "pending"
	// ClassInFlight: cordoned, draining, upgrading or verifying.
	ClassInFlight Class = "inFlight"
	// ClassUpgraded: at the target and finished (or never needed touching).
	ClassUpgraded Class = "upgraded"
	// ClassFailed: failed; stays cordoned until a human retries it.
	ClassFailed Class = "failed"
	// ClassSkipped: newer than the target; never downgraded.
	ClassSkipped Class = "skipped"
)

// Classify places a node from its state label and kubelet version. The label
// says what nodewave was doing; the version says whether it still has to.
func Classify(n Node) Class {
	switch n.State {
	case upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining,
		upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying:
		return ClassInFlight
	case upgradev1alpha1.NodeFailed:
		return ClassFailed
	}
	// No label, upgraded, or a value nodewave does not write: the kubelet
	// version decides. An "upgraded" node whose target has since moved is
	// pending again.
	switch {
	case n.AtTarget:
		return ClassUpgraded
	case n.Newer:
		return ClassSkipped
	default:
		return ClassPending
	}
}
