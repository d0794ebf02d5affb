package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/metrics"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
)

// annotationTrue is how a boolean annotation nodewave writes says yes.
const annotationTrue = "true"

// heldByIndex is the value of the index heldByIndexName for a Node: the
// ClusterUpgrade that holds it (in flight or failed), so a pass finds its
// nodes that left the selector without reading every node.
func heldByIndex(obj any) ([]string, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil, nil
	}
	holder := n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]
	state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
	if holder == "" || state == "" || state == upgradev1alpha1.NodeUpgraded {
		return nil, nil
	}
	return []string{holder}, nil
}

// nodeWrites remembers the Nodes nodewave wrote until the cache shows them,
// as the ReplicaSet controller's "expectations" remember its own creations:
// a pass that reads a Node older than one an earlier pass wrote uses what
// it wrote instead. Without it, a pass whose cache lags behind the previous
// pass's cordon sees the node pending and starts it (or another) again.
type nodeWrites struct {
	mu     sync.Mutex
	byName map[string]writtenNode
}

// writtenNode is a Node as the API server returned it after a write.
type writtenNode struct {
	node *corev1.Node
	rv   uint64
	at   time.Time
}

// writeMemory bounds how long a write is remembered: a cache that has not
// shown a write after this long has missed it (the node was deleted and
// made again, say), and the pass goes back to trusting it.
const writeMemory = 2 * time.Minute

// wrote remembers n as written, unless a newer write of it is remembered:
// the pass and the taint writers write a node at once, and the write the
// API server made first may be recorded last.
func (w *nodeWrites) wrote(n *corev1.Node, now time.Time) {
	rv, ok := parseResourceVersion(n.ResourceVersion)
	if !ok {
		return // an API server whose versions are not numbers: no ordering to go by
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byName == nil {
		w.byName = map[string]writtenNode{}
	}
	if old, ok := w.byName[n.Name]; ok && old.rv > rv && old.node.UID == n.UID {
		return
	}
	w.byName[n.Name] = writtenNode{node: n, rv: rv, at: now}
}

// overlay returns cached, or the node as nodewave last wrote it when the
// cache has not caught up with that write. The etcd-backed API server's
// resourceVersions increase with every write, which is what the
// comparison relies on; the watch cache's own bookmarks and the
// ReplicaSet controller rely on the same.
func (w *nodeWrites) overlay(cached *corev1.Node) *corev1.Node {
	w.mu.Lock()
	defer w.mu.Unlock()
	written, ok := w.byName[cached.Name]
	if !ok {
		return cached
	}
	if olderThan(cached.ResourceVersion, written.rv) && time.Since(written.at) < writeMemory && cached.UID == written.node.UID {
		return written.node.DeepCopy()
	}
	delete(w.byName, cached.Name)
	return cached
}

// startNode cordons a pending node and takes hold of it, recording whether
// its cordon is someone else's so nodewave never undoes it; when no
// pre-drain hook can hold the node, the same write begins its drain. What can be
// checked before the cordon is checked first: a node whose upgrade Job
// cannot be built fails untouched. It reports whether the node started.
func (r *ClusterUpgradeReconciler) startNode(ctx context.Context, s *scope, n *corev1.Node) (bool, error) {
	if jobMode(s.cu) {
		if _, err := r.buildJob(s, n.Name, s.cu.Spec.TargetVersion); err != nil {
			return false, r.refuseNode(ctx, s, n, plan.ReasonJobNotBuildable,
				fmt.Sprintf("its upgrade Job cannot be built, so it was not cordoned: %v", err))
		}
	}
	for _, p := range hookPoints(s.cu) {
		if _, err := r.buildHookJob(s, p, n.Name); err != nil {
			return false, r.refuseNode(ctx, s, n, plan.ReasonJobNotBuildable,
				fmt.Sprintf("its %s hook Job cannot be built, so it was not cordoned: %v", p, err))
		}
	}
	// A retried node's Job from its failed try would fail it again at
	// once: a start begins with no Job of this node. One still running
	// (its deadline not reached) is let run to its end first.
	for _, job := range s.jobsOf(n.Name) {
		if phase, _ := nodeupgrade.JobPhase(job); phase == nodeupgrade.JobRunning && job.DeletionTimestamp == nil {
			return false, nil
		}
		if err := r.deleteJob(ctx, s, job.Name); err != nil {
			return false, err
		}
	}
	retry := n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] == s.cu.Name &&
		n.Labels[upgradev1alpha1.NodeStateLabel] == ""
	// With no pre-drain hook to wait for, the cordon begins the drain in
	// the same write: a start costs one Node write, not two.
	state := upgradev1alpha1.NodeCordoned
	if hookFree(s, n, plan.PreDrain) {
		state = upgradev1alpha1.NodeDraining
	}
	if err := r.patchNode(ctx, s, n, func(n *corev1.Node) {
		if !retry {
			// A retried node is still cordoned by nodewave from its first
			// try: what was recorded then stands.
			delete(n.Annotations, upgradev1alpha1.WasUnschedulableAnnotation)
			if n.Spec.Unschedulable {
				setAnnotation(n, upgradev1alpha1.WasUnschedulableAnnotation, annotationTrue)
			}
		}
		n.Spec.Unschedulable = true
		markState(n, state, s.now)
		setAnnotation(n, upgradev1alpha1.ClusterUpgradeAnnotation, s.cu.Name)
		delete(n.Annotations, upgradev1alpha1.TargetVersionAnnotation)
		delete(n.Annotations, upgradev1alpha1.UpgradeSinceAnnotation)
		delete(n.Annotations, upgradev1alpha1.FailureAnnotation)
		delete(n.Annotations, upgradev1alpha1.EvictedOwnersAnnotation)
	}); err != nil {
		return false, err
	}
	r.nodeEvent(s, n, corev1.EventTypeNormal, "Cordoned", "Cordon", "cordoned node %s to upgrade it to %s", n.Name, s.cu.Spec.TargetVersion)
	if state == upgradev1alpha1.NodeDraining {
		r.drainingEvent(s, n)
	}
	return true, nil
}

// refuseNode fails a pending node that a check made before its cordon
// refused: it is marked failed and held, but never cordoned or drained.
func (r *ClusterUpgradeReconciler) refuseNode(ctx context.Context, s *scope, n *corev1.Node, reason, message string) error {
	if err := r.patchNode(ctx, s, n, func(n *corev1.Node) {
		markState(n, upgradev1alpha1.NodeFailed, s.now)
		setAnnotation(n, upgradev1alpha1.ClusterUpgradeAnnotation, s.cu.Name)
		setAnnotation(n, upgradev1alpha1.FailureAnnotation, reason+": "+message)
		delete(n.Annotations, upgradev1alpha1.TargetVersionAnnotation)
		delete(n.Annotations, upgradev1alpha1.UpgradeSinceAnnotation)
		if n.Spec.Unschedulable {
			setAnnotation(n, upgradev1alpha1.WasUnschedulableAnnotation, annotationTrue)
		} else {
			delete(n.Annotations, upgradev1alpha1.WasUnschedulableAnnotation)
		}
	}); err != nil {
		return err
	}
	metrics.NodeUpgradesTotal.WithLabelValues(metrics.ResultFailed).Inc()
	r.nodeEvent(s, n, corev1.EventTypeWarning, reason, "Fail", "node %s failed before it was cordoned: %s", n.Name, message)
	return nil
}

// finishNode uncordons a verified node unless its cordon is not
// nodewave's, marks it upgraded and deletes its Jobs.
func (r *ClusterUpgradeReconciler) finishNode(ctx context.Context, s *scope, n *corev1.Node) error {
	if err := r.patchNode(ctx, s, n, func(n *corev1.Node) {
		markState(n, upgradev1alpha1.NodeUpgraded, s.now)
		delete(n.Annotations, upgradev1alpha1.UpgradeSinceAnnotation)
		if n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] != annotationTrue {
			n.Spec.Unschedulable = false
		}
	}); err != nil {
		return err
	}
	metrics.NodeUpgradesTotal.WithLabelValues(metrics.ResultSucceeded).Inc()
	r.nodeEvent(s, n, corev1.EventTypeNormal, "Upgraded", "Uncordon", "node %s is upgraded to %s", n.Name, s.cu.Spec.TargetVersion)
	for _, job := range s.jobsOf(n.Name) {
		if err := r.deleteJob(ctx, s, job.Name); err != nil {
			return err
		}
	}
	return nil
}

// stopNode moves a node in flight to a state that stops it there, failed
// or blocked (plan.Stopped), recording why on the node; it stays cordoned.
func (r *ClusterUpgradeReconciler) stopNode(ctx context.Context, s *scope, n *corev1.Node,
	state upgradev1alpha1.NodeState, reason, message string) error {
	return r.setState(ctx, s, n, state, map[string]string{upgradev1alpha1.FailureAnnotation: reason + ": " + message})
}

// failNode marks a node failed and leaves it cordoned.
func (r *ClusterUpgradeReconciler) failNode(ctx context.Context, s *scope, n *corev1.Node, reason, message string) error {
	if err := r.stopNode(ctx, s, n, upgradev1alpha1.NodeFailed, reason, message); err != nil {
		return err
	}
	metrics.NodeUpgradesTotal.WithLabelValues(metrics.ResultFailed).Inc()
	r.nodeEvent(s, n, corev1.EventTypeWarning, reason, "Fail", "node %s failed and stays cordoned: %s", n.Name, message)
	return nil
}

// blockNode marks a node whose drain did not finish blocked
// (drain.onTimeout Cordon): it stays cordoned with the pods that would not
// leave, and its slot is free for the next node.
func (r *ClusterUpgradeReconciler) blockNode(ctx context.Context, s *scope, n *corev1.Node, reason, message string) error {
	if err := r.stopNode(ctx, s, n, upgradev1alpha1.NodeBlocked, reason, message); err != nil {
		return err
	}
	metrics.NodeUpgradesTotal.WithLabelValues(metrics.ResultBlocked).Inc()
	r.nodeEvent(s, n, corev1.EventTypeWarning, "Blocked", "Block",
		"node %s is blocked and stays cordoned (drain.onTimeout Cordon); the upgrade goes on without it: %s", n.Name, message)
	return nil
}

// retryFailedNodes lets go of the failed (or blocked) state of this
// ClusterUpgrade's failed and blocked nodes after a spec change, so the
// planner starts them again. Such a node that the selector no longer
// selects is released instead.
func (r *ClusterUpgradeReconciler) retryFailedNodes(ctx context.Context, s *scope) error {
	for _, name := range s.order {
		n := s.nodes[name]
		state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
		if nodeview.HeldBy(n) != s.cu.Name || !plan.Stopped(state) {
			continue
		}
		n = s.own(name)
		if !s.selects(n) {
			if err := r.releaseNode(ctx, s, n); err != nil {
				return err
			}
			continue
		}
		if err := r.patchNode(ctx, s, n, func(n *corev1.Node) {
			delete(n.Labels, upgradev1alpha1.NodeStateLabel)
			delete(n.Annotations, upgradev1alpha1.FailureAnnotation)
		}); err != nil {
			return err
		}
		r.nodeEvent(s, n, corev1.EventTypeNormal, "Retrying", "Retry", "retrying %s node %s after a spec change", state, n.Name)
	}
	return nil
}

// releaseNode gives a node back as nodewave found it, except that a failed
// or blocked node stays cordoned.
func (r *ClusterUpgradeReconciler) releaseNode(ctx context.Context, s *scope, n *corev1.Node) error {
	state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
	cordonedByUs := n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] != annotationTrue
	if err := r.patchNode(ctx, s, n, func(n *corev1.Node) {
		if cordonedByUs && !plan.Stopped(state) && state != upgradev1alpha1.NodeUpgraded {
			n.Spec.Unschedulable = false
		}
		delete(n.Labels, upgradev1alpha1.NodeStateLabel)
		for _, k := range nodewaveAnnotations {
			delete(n.Annotations, k)
		}
	}); err != nil {
		return err
	}
	if plan.Stopped(state) {
		r.nodeEvent(s, n, corev1.EventTypeWarning, "Released", "Release",
			"released %s node %s; it stays cordoned for a human to look at", state, n.Name)
	} else if state != upgradev1alpha1.NodeUpgraded {
		r.nodeEvent(s, n, corev1.EventTypeNormal, "Released", "Release",
			"released node %s (%s) as its ClusterUpgrade is deleted", n.Name, state)
	}
	return nil
}

// setState moves a node to state, stamping when, with extra annotations.
func (r *ClusterUpgradeReconciler) setState(ctx context.Context, s *scope, n *corev1.Node,
	state upgradev1alpha1.NodeState, annotations map[string]string) error {
	return r.patchNode(ctx, s, n, func(n *corev1.Node) {
		markState(n, state, s.now)
		for k, v := range annotations {
			setAnnotation(n, k, v)
		}
	})
}

// patchNode is the one way a Node is written. n is a read-only view of a
// cached Node (see scope.nodes): its labels, annotations and conditions
// are the cache's own maps and slices, so mutate changes a deep copy of
// it, which is patched with n as the base and, once the API server took
// it, replaces *n and is remembered until the cache shows it (see
// nodeWrites). n must be the pass's own copy of the node (scope.own),
// never the cache's object, and patchNode refuses any other: only *n is
// rewritten, and the maps and slices it shares with the cache are left as
// they were. On an error n is unchanged.
func (r *ClusterUpgradeReconciler) patchNode(ctx context.Context, s *scope, n *corev1.Node, mutate func(*corev1.Node)) error {
	if !s.owns(n) {
		// Replacing a struct of the cache's would change it under its
		// indexes and its other readers.
		return fmt.Errorf("node %s: not written, as the pass does not own this copy of it (a bug)", n.Name)
	}
	next := n.DeepCopy()
	mutate(next)
	if err := r.Patch(ctx, next, client.MergeFrom(n)); err != nil {
		return err
	}
	*n = *next
	r.nodeWrites.wrote(next.DeepCopy(), s.now)
	return nil
}

// markState sets the node's state label and stamps when it entered it.
// Like setLabel and setAnnotation, it writes only to a node patchNode's
// mutate was given, never to a scope node.
func markState(n *corev1.Node, state upgradev1alpha1.NodeState, now time.Time) {
	setLabel(n, upgradev1alpha1.NodeStateLabel, string(state))
	setAnnotation(n, upgradev1alpha1.StateSinceAnnotation, formatTime(now))
}

// formatTime is how nodewave writes a time in an annotation.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// stateSince is when the node entered its current state; now when the
// annotation is missing or unreadable (the timeouts then start afresh,
// which errs on the side of waiting).
func stateSince(n *corev1.Node, now time.Time) time.Time {
	t, err := time.Parse(time.RFC3339, n.Annotations[upgradev1alpha1.StateSinceAnnotation])
	if err != nil {
		return now
	}
	return t
}

// setLabel sets one label of n, making the map if n has none.
func setLabel(n *corev1.Node, k, v string) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[k] = v
}

// setAnnotation sets one annotation of n, making the map if n has none.
func setAnnotation(n *corev1.Node, k, v string) {
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	n.Annotations[k] = v
}
