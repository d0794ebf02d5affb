package plan

import (
	"time"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Node is what the planner knows of one node of a ClusterUpgrade: facts the
// controller observed on the Node object, nothing remembered.
type Node struct {
	// Name is the node's name.
	Name string
	// Zone is the node's zone: its spec.strategy.zones.topologyKey label
	// (topology.kubernetes.io/zone by default), "" when absent.
	Zone string
	// Priority is the node's spec.priority value, 0 without one.
	Priority int
	// State is the node's upgrade.nodewave.io/state label under this
	// ClusterUpgrade, "" when absent or when another ClusterUpgrade holds
	// the node.
	State upgradev1alpha1.NodeState
	// HeldElsewhere is the node's state under another ClusterUpgrade that
	// holds it (in flight or failed), "" when none does. Such a node is
	// never started, written or given a Job by this one: it waits for the
	// other to finish or release it.
	HeldElsewhere upgradev1alpha1.NodeState
	// Retried is a node this ClusterUpgrade cordoned and then let go of its
	// state (a retry: a spec change, or its state label removed by hand)
	// while it is still cordoned. It is pending whatever its kubelet
	// reports, so it is verified and uncordoned, never left cordoned as
	// "upgraded".
	Retried bool
	// Unschedulable is the node being out of scheduling by anyone's hand:
	// spec.unschedulable (a cordon), or a taint with which an autoscaler
	// or Karpenter takes it out of service.
	Unschedulable bool
	// Leaving is the node being taken out of service by an autoscaler
	// (Karpenter's or the Cluster Autoscaler's taint): it counts against
	// the budget, and is never started (it is on its way out).
	Leaving bool
	// Ready is the node's Ready condition being True.
	Ready bool
	// AtTarget is the kubelet reporting the target version.
	AtTarget bool
	// Newer is the kubelet reporting a version newer than the target.
	Newer bool
	// Since is when the node entered its state (its
	// upgrade.nodewave.io/state-since), zero when unknown.
	Since time.Time
}

// Reached reports whether the kubelet is at or past the target: a node in
// flight that reports as much needs no upgrade (nodewave never downgrades).
func (n Node) Reached() bool { return n.AtTarget || n.Newer }

// Unavailable reports whether the node counts against the budget: out of
// scheduling by anyone, NotReady, or in flight. An admin who uncordons a
// node mid-drain or mid-upgrade does not give its slot back: its kubelet
// restart is still to come. A blocked node does not count: it keeps
// running the pods that would not leave, and drain.maxBlockedNodes bounds
// how many there are.
func (n Node) Unavailable() bool {
	class := Classify(n)
	if class == ClassBlocked {
		return false
	}
	return n.Unschedulable || !n.Ready || class == ClassInFlight || InFlight(n.HeldElsewhere)
}

// Class is where a node stands in one ClusterUpgrade.
type Class string

// The classes of a node.
const (
	// ClassPending: not started and not at the target (or retried, or held
	// by another ClusterUpgrade until it lets go).
	ClassPending Class = "pending"
	// ClassInFlight: cordoned, draining, upgrading or verifying.
	ClassInFlight Class = "inFlight"
	// ClassUpgraded: at the target and finished (or never needed touching).
	ClassUpgraded Class = "upgraded"
	// ClassFailed: failed; stays cordoned until a human retries it.
	ClassFailed Class = "failed"
	// ClassBlocked: its drain did not finish (drain.onTimeout Cordon);
	// stays cordoned until a human retries it, outside the budget.
	ClassBlocked Class = "blocked"
	// ClassSkipped: newer than the target; never downgraded.
	ClassSkipped Class = "skipped"
)

// InFlight reports whether state is one of the states of a node in flight.
func InFlight(state upgradev1alpha1.NodeState) bool {
	switch state {
	case upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining,
		upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying:
		return true
	}
	return false
}

// Stopped reports whether state is one in which nodewave holds a node that
// is not in flight: failed or blocked. Such a node stays cordoned until a
// human retries it (or the spec changes), and no other ClusterUpgrade takes
// it meanwhile.
func Stopped(state upgradev1alpha1.NodeState) bool {
	return state == upgradev1alpha1.NodeFailed || state == upgradev1alpha1.NodeBlocked
}

// Classify places a node from its state label and kubelet version. The label
// says what nodewave was doing; the version says whether it still has to.
func Classify(n Node) Class {
	switch {
	case InFlight(n.State):
		return ClassInFlight
	case n.State == upgradev1alpha1.NodeFailed:
		return ClassFailed
	case n.State == upgradev1alpha1.NodeBlocked:
		return ClassBlocked
	case n.Retried:
		return ClassPending
	case n.State == upgradev1alpha1.NodeUpgraded && n.Newer:
		// Upgraded by this ClusterUpgrade under a higher target that has
		// since been lowered: it stays upgraded, never downgraded.
		return ClassUpgraded
	}
	// No label, upgraded, or a value nodewave does not write: the kubelet
	// version decides. An "upgraded" node whose target has since moved up
	// is pending again.
	switch {
	case n.AtTarget:
		return ClassUpgraded
	case n.Newer:
		return ClassSkipped
	default:
		return ClassPending
	}
}

// Startable reports whether the planner may start a pending node: Ready,
// not held by another ClusterUpgrade, and not on its way out.
func (n Node) Startable() bool {
	return n.Ready && n.HeldElsewhere == "" && !n.Leaving
}
