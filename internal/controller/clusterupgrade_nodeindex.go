package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// nodeIndex reads the manager's cached Nodes in place: the Node informer's
// own store and two indexes of it, by the ClusterUpgrade that holds a node
// and by the one whose pending taint it carries.
//
// A list through the cache's client copies every Node it returns into a
// new slice, even without a deep copy: at 5,000 nodes that was 6 MB on
// every pass (observe's list and the pending taints'), 29% of the
// manager's allocations. The objects it
// returns are the cache's own: read-only, like everything a list without
// a deep copy returns, and a pass writes a node only through its own copy
// of it (scope.own). The store is the one the cache's client reads, and
// it is updated before the watches that queue a pass are told, so a pass
// reads what a list would.
type nodeIndex struct {
	store toolscache.Indexer
	// view, when set, is how the reconciler's client shows a cached Node
	// (see nodeViewer); nodeIndex shows them the same way.
	view func(*corev1.Node) *corev1.Node
}

// nodeViewer is a client that shows the cached Nodes its own way: the
// envtest suite's cache that lags behind nodewave's writes. A pass then
// reads through nodeIndex what the client's lists and gets would show.
type nodeViewer interface {
	viewNode(n *corev1.Node) *corev1.Node
}

// shown is n as the reconciler's client would show it.
func (x *nodeIndex) shown(n *corev1.Node) *corev1.Node {
	if x.view == nil {
		return n
	}
	return x.view(n)
}

// The names of nodeIndex's indexes.
const (
	heldByIndexName       = "nodewave/heldBy"
	pendingTaintIndexName = "nodewave/pendingTaint"
)

// newNodeIndex adds nodeIndex's indexes to the cache's Node informer, which
// must not have started yet. controller-runtime's informers are client-go
// SharedIndexInformers; the cache's interface does not expose their store,
// so it is asked of the informer itself.
func newNodeIndex(ctx context.Context, c cache.Informers) (*nodeIndex, error) {
	informer, err := c.GetInformer(ctx, &corev1.Node{})
	if err != nil {
		return nil, err
	}
	shared, ok := informer.(toolscache.SharedIndexInformer)
	if !ok {
		return nil, fmt.Errorf("the cache's Node informer is a %T, not a client-go SharedIndexInformer", informer)
	}
	err = shared.AddIndexers(toolscache.Indexers{
		heldByIndexName:       heldByIndex,
		pendingTaintIndexName: pendingTaintIndex,
	})
	if err != nil {
		return nil, err
	}
	return &nodeIndex{store: shared.GetIndexer()}, nil
}

// matching is the cached Nodes sel selects.
func (x *nodeIndex) matching(sel labels.Selector) []*corev1.Node {
	var out []*corev1.Node
	for _, obj := range x.store.List() {
		if n, ok := obj.(*corev1.Node); ok {
			if n = x.shown(n); sel.Matches(labels.Set(n.Labels)) {
				out = append(out, n)
			}
		}
	}
	return out
}

// indexed is the cached Nodes whose value of the index named index is value.
func (x *nodeIndex) indexed(index, value string) ([]*corev1.Node, error) {
	objs, err := x.store.ByIndex(index, value)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Node, 0, len(objs))
	for _, obj := range objs {
		if n, ok := obj.(*corev1.Node); ok {
			out = append(out, x.shown(n))
		}
	}
	return out, nil
}
