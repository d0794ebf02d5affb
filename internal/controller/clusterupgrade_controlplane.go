package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// A ClusterUpgrade with spec.controlPlane upgrades its nodes in two waves
// (docs/design-decisions.md, "Control-plane upgrades"): the control-plane
// nodes first, one at a time, each checked before the next starts and
// before it counts as upgraded; then the others, by spec.strategy, once
// every control-plane node is at the target. A failed control-plane node
// halts both.

// ControlPlaneChecker checks one control-plane node, as nodewave does
// before it starts the node and before the node counts as upgraded.
// internal/controlplane.Checker is the real one.
type ControlPlaneChecker interface {
	// Check returns nil when node passes, or an error that says what did
	// not: its static pods Running and Ready (and, when target is set,
	// kube-apiserver, kube-controller-manager and kube-scheduler running
	// target's images), its API server ready, and etcd healthy with full
	// quorum.
	Check(ctx context.Context, node *corev1.Node, target string) error
}

// The values of NODEWAVE_CONTROL_PLANE_ROLE in a control-plane node's
// upgrade Job.
const (
	// RoleFirst: no control-plane node is at the target yet; this one
	// runs kubeadm upgrade apply.
	RoleFirst = "first"
	// RoleOther: another control-plane node is at the target; this one
	// runs kubeadm upgrade node.
	RoleOther = "other"
)

// controlPlaneCheckTimeout bounds one round of a node's checks (a few
// API reads, a GET /readyz and two etcdctl runs through pods/exec).
const controlPlaneCheckTimeout = 30 * time.Second

// waves are one pass's plans: the control plane's (empty without
// spec.controlPlane) and the other nodes', the workers'.
type waves struct {
	controlPlane, workers plan.Plan
	// checks holds the next control-plane node's start: the checks made
	// before it did not pass. Nil when nothing waits for them.
	checks *blocker
}

// controlPlaneDone reports whether every control-plane node is at the
// target (or newer) and none failed: the workers may start.
func (w waves) controlPlaneDone() bool {
	return w.controlPlane.Done && w.controlPlane.Failed == 0
}

// done reports whether no node of either wave is pending or in flight.
func (w waves) done() bool { return w.controlPlane.Done && w.workers.Done }

// failed is how many nodes of either wave failed.
func (w waves) failed() int { return w.controlPlane.Failed + w.workers.Failed }

// all is the two waves' counts and names together, control plane first.
func (w waves) all() plan.Plan {
	cp, wk := w.controlPlane, w.workers
	return plan.Plan{
		Pending: cp.Pending + wk.Pending, InFlight: cp.InFlight + wk.InFlight, Upgraded: cp.Upgraded + wk.Upgraded,
		Failed: cp.Failed + wk.Failed, Skipped: cp.Skipped + wk.Skipped,
		InFlightNodes: slices.Concat(cp.InFlightNodes, wk.InFlightNodes),
		FailedNodes:   slices.Concat(cp.FailedNodes, wk.FailedNodes),
		Halted:        cp.Halted || wk.Halted,
		Done:          w.done(),
	}
}

// planWaves plans the control plane's wave, checks the control plane
// before its next node starts, and plans the workers', which wait for the
// control plane to be done.
func (r *ClusterUpgradeReconciler) planWaves(ctx context.Context, s *scope) waves {
	var w waves
	w.controlPlane = plan.Compute(s.planInput(true, false))
	if len(w.controlPlane.Start) > 0 {
		next := w.controlPlane.Start[0]
		if err := r.checkControlPlane(ctx, s.nodes[next], ""); err != nil {
			w.checks = &blocker{reason: upgradev1alpha1.ReasonWaitingForChecks, transient: true,
				requeueAfter: plan.ControlPlaneCheckInterval,
				message:      fmt.Sprintf("control-plane node %s waits for the control plane's checks before it starts: %v", next, err)}
			w.controlPlane.Start = nil
		}
	}
	w.workers = plan.Compute(s.planInput(false, !w.controlPlaneDone() || s.holds.workers != nil))
	return w
}

// checkControlPlane runs the control plane's checks on n; target "" before
// its upgrade, the spec's target after it.
func (r *ClusterUpgradeReconciler) checkControlPlane(ctx context.Context, n *corev1.Node, target string) error {
	if r.ControlPlaneChecks == nil {
		return fmt.Errorf("the manager has no control-plane checker")
	}
	ctx, cancel := context.WithTimeout(ctx, controlPlaneCheckTimeout)
	defer cancel()
	return r.ControlPlaneChecks.Check(ctx, n, target)
}

// controlPlaneRole is NODEWAVE_CONTROL_PLANE_ROLE for node's upgrade Job:
// "" for a worker, RoleFirst while no other control-plane node is at the
// target (or past it), RoleOther after. It is judged from the nodes, not
// remembered: a first node retried before its kubelet reached the target
// is first again, and kubeadm upgrade apply to the version the cluster is
// already at is safe to repeat.
func controlPlaneRole(s *scope, node string) string {
	if !s.controlPlane[node] {
		return ""
	}
	for name := range s.controlPlane {
		if name != node && s.reached(s.nodes[name]) {
			return RoleOther
		}
	}
	return RoleFirst
}

// checkControlPlaneSelector refuses a spec.controlPlane.nodeSelector that
// does not parse or selects no node: the workers must not go ahead of a
// control plane that nodewave cannot find.
func checkControlPlaneSelector(s *scope) *blocker {
	switch {
	case s.cpSelectorErr != nil:
		return &blocker{reason: upgradev1alpha1.ReasonInvalidSpec,
			message: fmt.Sprintf("spec.controlPlane.nodeSelector is not a valid label selector: %v", s.cpSelectorErr)}
	case s.cpSelector != nil && len(s.controlPlane) == 0:
		return &blocker{reason: upgradev1alpha1.ReasonNoNodes,
			message: fmt.Sprintf("spec.controlPlane.nodeSelector matches no node (selector %q); nothing starts, workers included, "+
				"until it selects the control-plane nodes", s.cpSelector.String())}
	}
	return nil
}
