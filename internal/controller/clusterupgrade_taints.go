package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// pendingTaintIndex is the value of the index pendingTaintIndexName for
// a Node: the ClusterUpgrade whose pending taint it carries, so a pass
// finds the tainted nodes its selector no longer selects.
func pendingTaintIndex(obj any) ([]string, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil, nil
	}
	if t := pendingTaintOf(n); t != nil {
		return []string{t.Value}, nil
	}
	return nil, nil
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

// syncPendingTaints decides which nodes' pending taint goes on, the ones
// plan.PendingTaint wants it on (adding only while nothing holds the
// upgrade's starts: not paused, its window open, no pre-flight hold such
// as a Conflict), and which nodes' taint comes off, and hands the writes
// to the background writers (taintWrites), the nodes that will start last
// first (their pods must not receive evicted ones first). The pass does
// not wait for them.
func (r *ClusterUpgradeReconciler) syncPendingTaints(s *scope) error {
	adding := !s.cu.Spec.Paused && !s.windowClosed() && s.holds.start == nil && !r.NoPendingTaint
	for _, name := range slices.Backward(s.order) {
		n := s.nodes[name]
		want := plan.PendingTaint(s.planNode(n), s.selects(n), adding)
		t := pendingTaintOf(n)
		ours := t != nil && t.Value == s.cu.Name
		switch {
		case want == plan.TaintOn && t == nil:
			r.taints.request(name, s.cu.Name, s.cu.UID, true)
		case want == plan.TaintOff && ours:
			r.taints.request(name, s.cu.Name, s.cu.UID, false)
		}
	}
	// The nodes tainted by this ClusterUpgrade that it neither selects nor
	// holds any more (a changed selector): not in s.nodes.
	tainted, err := r.nodeIndex.indexed(pendingTaintIndexName, s.cu.Name)
	if err != nil {
		return err
	}
	for _, n := range tainted {
		if _, ok := s.nodes[n.Name]; !ok {
			n := r.nodeWrites.overlay(n)
			if t := pendingTaintOf(n); t != nil && t.Value == s.cu.Name {
				r.taints.request(n.Name, s.cu.Name, s.cu.UID, false)
			}
		}
	}
	return nil
}

// addPendingTaint adds the pending taint of the ClusterUpgrade named owner to n, only if
// the node's taints on the server are still the ones n shows: spec.taints
// has no merge key, so a merge patch would replace the whole list and
// could erase a taint added since n was read (the node lifecycle
// controller's, an autoscaler's); a JSON patch that tests the list first
// is refused instead, and the pass is retried on a newer read. Unlike an
// optimistic lock on the resourceVersion, kubelet status updates do not
// refuse it.
func (r *ClusterUpgradeReconciler) addPendingTaint(ctx context.Context, owner string, n *corev1.Node, now time.Time) error {
	const path = "/spec/taints"
	ours := corev1.Taint{Key: upgradev1alpha1.PendingTaintKey, Value: owner, Effect: corev1.TaintEffectPreferNoSchedule}
	if len(n.Spec.Taints) == 0 { // JSON null: the API server omits an empty list
		return r.patchTaints(ctx, n, now, []jsonPatchOp{
			{Op: opTest, Path: path, Value: nil},
			{Op: opAdd, Path: path, Value: []corev1.Taint{ours}},
		})
	}
	return r.patchTaints(ctx, n, now, []jsonPatchOp{
		{Op: opTest, Path: path, Value: n.Spec.Taints},
		{Op: opAdd, Path: path + "/-", Value: ours},
	})
}

// removePendingTaint removes the pending taint of the ClusterUpgrade named owner from n,
// if it has it; every other taint stays. It tests and removes that one
// element of the list: a taint added or removed after it since n was read
// (the node lifecycle controller's unschedulable taint, which comes and
// goes with the cordon) does not refuse the write, one before it does.
func (r *ClusterUpgradeReconciler) removePendingTaint(ctx context.Context, owner string, n *corev1.Node, now time.Time) error {
	i := pendingTaintAt(n)
	if i < 0 || n.Spec.Taints[i].Value != owner {
		return nil
	}
	path := fmt.Sprintf("/spec/taints/%d", i)
	return r.patchTaints(ctx, n, now, []jsonPatchOp{{Op: opTest, Path: path, Value: n.Spec.Taints[i]}, {Op: opRemove, Path: path}})
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
func (r *ClusterUpgradeReconciler) patchTaints(ctx context.Context, n *corev1.Node, now time.Time, ops []jsonPatchOp) error {
	data, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	written := n.DeepCopy()
	if err := r.Patch(ctx, written, client.RawPatch(types.JSONPatchType, data)); err != nil {
		return err
	}
	*n = *written
	r.nodeWrites.wrote(written.DeepCopy(), now)
	return nil
}
