package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// pendingTaintField indexes the cached Nodes by the ClusterUpgrade whose
// pending taint they carry, so a pass finds the tainted nodes its
// selector no longer selects, and a deletion finds them all.
const pendingTaintField = "nodewave.pendingTaint"

// pendingTaintIndex is the value of pendingTaintField for a Node.
func pendingTaintIndex(obj client.Object) []string {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil
	}
	if t := pendingTaintOf(n); t != nil {
		return []string{t.Value}
	}
	return nil
}

// pendingTaintAt is the index of the node's pending taint, whoever's it
// is, or -1. A node has at most one: the API server keeps taints unique by
// key and effect.
func pendingTaintAt(n *corev1.Node) int {
	return slices.IndexFunc(n.Spec.Taints, func(t corev1.Taint) bool {
		return t.Key == upgradev1alpha1.PendingTaintKey && t.Effect == corev1.TaintEffectPreferNoSchedule
	})
}

// pendingTaintOf is the node's pending taint, whoever's it is, or nil.
func pendingTaintOf(n *corev1.Node) *corev1.Taint {
	if i := pendingTaintAt(n); i >= 0 {
		return &n.Spec.Taints[i]
	}
	return nil
}

// taintsPerPass bounds the taint writes of one pass, so the first pass of
// a large upgrade does not hold up the nodes it starts: the rest follow
// in the next passes, which come at once.
const taintsPerPass = 128

// taintRequeue is how soon a pass that left taint writes looks again.
const taintRequeue = 50 * time.Millisecond

// syncPendingTaints puts the pending taint on the nodes plan.PendingTaint
// wants it on (adding only while nothing holds the upgrade's starts: not
// paused, its window open, no pre-flight hold such as a Conflict) and
// takes it off the others, the nodes that will start last
// first (their pods must not receive evicted ones first). It reports
// whether writes are left for the next pass.
func (r *ClusterUpgradeReconciler) syncPendingTaints(ctx context.Context, s *scope) (bool, error) {
	adding := !s.cu.Spec.Paused && !s.windowClosed() && s.holds.start == nil && !r.NoPendingTaint
	var todo []*corev1.Node
	var on []bool
	for _, name := range slices.Backward(s.order) {
		n := s.nodes[name]
		want := plan.PendingTaint(s.planNode(n), s.selects(n), adding)
		t := pendingTaintOf(n)
		ours := t != nil && t.Value == s.cu.Name
		switch {
		case want == plan.TaintOn && t == nil:
			todo, on = append(todo, n), append(on, true)
		case want == plan.TaintOff && ours:
			todo, on = append(todo, n), append(on, false)
		}
	}
	// The nodes tainted by this ClusterUpgrade that it neither selects nor
	// holds any more (a changed selector): not in s.nodes.
	tainted := &corev1.NodeList{}
	if err := r.List(ctx, tainted, client.UnsafeDisableDeepCopy, client.MatchingFields{pendingTaintField: s.cu.Name}); err != nil {
		return false, err
	}
	for i := range tainted.Items {
		if _, ok := s.nodes[tainted.Items[i].Name]; !ok {
			n := r.nodeWrites.overlay(&tainted.Items[i])
			if t := pendingTaintOf(n); t != nil && t.Value == s.cu.Name {
				todo, on = append(todo, n), append(on, false)
			}
		}
	}
	more := len(todo) > taintsPerPass
	if more {
		todo, on = todo[:taintsPerPass], on[:taintsPerPass]
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, advanceConcurrency)
	for i, n := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			if on[i] {
				err = r.addPendingTaint(ctx, s, n)
			} else {
				err = r.removePendingTaint(ctx, s, n)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return more, errors.Join(errs...)
}

// addPendingTaint adds this ClusterUpgrade's pending taint to n, only if
// the node's taints on the server are still the ones n shows: spec.taints
// has no merge key, so a merge patch would replace the whole list and
// could erase a taint added since n was read (the node lifecycle
// controller's, an autoscaler's); a JSON patch that tests the list first
// is refused instead, and the pass is retried on a newer read. Unlike an
// optimistic lock on the resourceVersion, kubelet status updates do not
// refuse it.
func (r *ClusterUpgradeReconciler) addPendingTaint(ctx context.Context, s *scope, n *corev1.Node) error {
	const path = "/spec/taints"
	ours := corev1.Taint{Key: upgradev1alpha1.PendingTaintKey, Value: s.cu.Name, Effect: corev1.TaintEffectPreferNoSchedule}
	if len(n.Spec.Taints) == 0 { // JSON null: the API server omits an empty list
		return r.patchTaints(ctx, s, n, []jsonPatchOp{
			{Op: opTest, Path: path, Value: nil},
			{Op: opAdd, Path: path, Value: []corev1.Taint{ours}},
		})
	}
	return r.patchTaints(ctx, s, n, []jsonPatchOp{
		{Op: opTest, Path: path, Value: n.Spec.Taints},
		{Op: opAdd, Path: path + "/-", Value: ours},
	})
}

// removePendingTaint removes this ClusterUpgrade's pending taint from n,
// if it has it; every other taint stays. It tests and removes that one
// element of the list: a taint added or removed after it since n was read
// (the node lifecycle controller's unschedulable taint, which comes and
// goes with the cordon) does not refuse the write, one before it does.
func (r *ClusterUpgradeReconciler) removePendingTaint(ctx context.Context, s *scope, n *corev1.Node) error {
	i := pendingTaintAt(n)
	if i < 0 || n.Spec.Taints[i].Value != s.cu.Name {
		return nil
	}
	path := fmt.Sprintf("/spec/taints/%d", i)
	return r.patchTaints(ctx, s, n, []jsonPatchOp{{Op: opTest, Path: path, Value: n.Spec.Taints[i]}, {Op: opRemove, Path: path}})
}

// The operations of the JSON patches of a node's taints.
const (
	opTest   = "test"
	opAdd    = "add"
	opRemove = "remove"
)

// jsonPatchOp is one operation of a JSON patch (RFC 6902).
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// patchTaints applies ops, a JSON patch of n's taints that tests before it
// writes. Like patchNode, it replaces *n and remembers the write.
func (r *ClusterUpgradeReconciler) patchTaints(ctx context.Context, s *scope, n *corev1.Node, ops []jsonPatchOp) error {
	data, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	written := n.DeepCopy()
	if err := r.Patch(ctx, written, client.RawPatch(types.JSONPatchType, data)); err != nil {
		return err
	}
	*n = *written
	r.nodeWrites.wrote(written.DeepCopy(), s.now)
	return nil
}
