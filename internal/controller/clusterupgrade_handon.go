package controller

import (
	"context"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
)

// handOnNext is what a pass may start as the nodes of finishing (the nodes
// in flight it advances before the starts) leave flight, one node per node
// that does so back in service, in order (plan.HandOn), counting on those
// whose kubelet is at the target and whose cordon is nodewave's (finishing
// uncordons them). It is nil unless each slot freed is any slot: every one
// of them a worker the spec selects (so that letting it go changes no
// budget), with the control plane done, no pre-flight
// hold, no health gate to judge first (gates are judged after the
// advance) and no pre-drain hook Job. When the starts need Jobs, the API
// server judges them first, as for any start.
func (r *ClusterUpgradeReconciler) handOnNext(ctx context.Context, s *scope, finishing []string) ([]string, error) {
	h := s.cu.Spec.Health
	if len(finishing) == 0 || s.holds.start != nil || s.holds.workers != nil ||
		drainEndHoldsStarts(s.cu) || len(h.Checks) > 0 || h.Prometheus != nil {
		return nil, nil
	}
	if cp := plan.Compute(s.planInput(true, false)); !cp.Done || cp.Failed > 0 {
		return nil, nil
	}
	finished := make([]plan.Node, 0, len(finishing))
	for _, name := range finishing {
		n := s.nodes[name]
		if s.controlPlane[name] || !s.selects(n) {
			return nil, nil
		}
		if !s.reached(n) || n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == annotationTrue {
			// It cannot finish in this pass, or its cordon stays when it
			// does: it frees no slot, and keeps the one it has.
			continue
		}
		done := *n // the struct only: its maps and slices stay the cache's, and are only read
		done.Labels = maps.Clone(n.Labels)
		done.Labels[upgradev1alpha1.NodeStateLabel] = string(upgradev1alpha1.NodeUpgraded)
		done.Spec.Unschedulable = false
		finished = append(finished, nodeview.PlanNode(&done, s.cu, s.target))
	}
	if len(finished) == 0 {
		return nil, nil // nothing frees a slot: no planner input to build
	}
	next := plan.HandOn(s.planInput(false, false), finished)
	if len(next) == 0 {
		return nil, nil
	}
	b, err := r.dryRunJob(ctx, s, next[0])
	if err != nil || b != nil {
		// A refused Job holds the starts: the plan after the advance
		// finds that again (the answer is remembered) and says so.
		return nil, err
	}
	return next, nil
}

// advanceHandingOn advances the named nodes as advanceNodes does, and each
// time one of them has left flight back in service, starts the next node
// of next in its slot, from the same goroutine, the moment its write
// returned: a freed slot does not wait for the other nodes' writes and a
// new plan. It returns how many nodes it started.
func (r *ClusterUpgradeReconciler) advanceHandingOn(ctx context.Context, s *scope, names, next []string) (time.Duration, int, error) {
	for _, name := range next {
		s.own(name) // before eachNode's goroutines read s.nodes
	}
	var (
		mu             sync.Mutex
		taken, started int
	)
	requeue, err := eachNode(s, names, func(_ int, n *corev1.Node) (time.Duration, error) {
		d, err := r.advanceNode(ctx, s, n)
		if err != nil || !backInService(n) {
			return d, err
		}
		mu.Lock()
		if taken == len(next) {
			mu.Unlock()
			return d, nil
		}
		m := s.nodes[next[taken]]
		taken++
		mu.Unlock()
		ok, more, err := r.startAndAdvance(ctx, s, m)
		if ok {
			mu.Lock()
			started++
			mu.Unlock()
		}
		return minRequeue(d, more), err
	})
	return requeue, started, err
}

// backInService reports whether n, written by this pass, is upgraded and
// uncordoned: its slot, and its place among the unavailable nodes, are
// free.
func backInService(n *corev1.Node) bool {
	return n.Labels[upgradev1alpha1.NodeStateLabel] == string(upgradev1alpha1.NodeUpgraded) && !n.Spec.Unschedulable
}
