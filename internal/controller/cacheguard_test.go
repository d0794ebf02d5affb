package controller

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// cacheGuard checks, over the whole suite, that nothing writes to a Node
// in a manager's cache. The reconciler reads Nodes without a deep copy
// (scope.nodes), so a write to one of their maps or slices would land in
// the cache, where the informer never looks for it: an informer replaces
// a Node on each update and never changes one in place. The guard keeps a
// deep copy of every Node the informer stores and compares the stored
// object with it when the informer replaces or deletes it, and in a sweep
// after every spec.
//
// The copy is taken when the informer's handler runs, a moment after the
// Node was stored: a write in that moment goes unseen (or, racing the
// copy, crashes the suite with a concurrent map access, which is seen).
type cacheGuard struct {
	mu      sync.Mutex
	stored  map[*corev1.Node]*corev1.Node // the cache's object → its copy
	written []string
}

// guard is the suite's cacheGuard; startManagerWith watches every
// manager's cache with it.
var guard = &cacheGuard{stored: map[*corev1.Node]*corev1.Node{}}

// watch registers the guard on c's Node informer; call it before c starts.
func (g *cacheGuard) watch(ctx context.Context, c cache.Cache) error {
	inf, err := c.GetInformer(ctx, &corev1.Node{})
	if err != nil {
		return err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    g.remember,
		UpdateFunc: func(old, cur any) { g.forget(old); g.remember(cur) },
		DeleteFunc: g.forget,
	})
	return err
}

func (g *cacheGuard) remember(obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stored[n] = n.DeepCopy()
}

// forget checks a Node the informer no longer holds and lets it go.
func (g *cacheGuard) forget(obj any) {
	if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.check(n)
	delete(g.stored, n)
}

// check records n if it no longer equals its copy, once per change;
// g.mu is held.
func (g *cacheGuard) check(n *corev1.Node) {
	was, ok := g.stored[n]
	if !ok || equality.Semantic.DeepEqual(n, was) {
		return
	}
	changed := false
	for part, pair := range map[string][2]any{
		"labels": {was.Labels, n.Labels}, "annotations": {was.Annotations, n.Annotations},
		"spec": {was.Spec, n.Spec}, "status": {was.Status, n.Status},
	} {
		if !equality.Semantic.DeepEqual(pair[0], pair[1]) {
			changed = true
			g.written = append(g.written, fmt.Sprintf("cached Node %s (resourceVersion %s): %s changed in place from %+v to %+v",
				n.Name, n.ResourceVersion, part, pair[0], pair[1]))
		}
	}
	if !changed {
		g.written = append(g.written, fmt.Sprintf("cached Node %s (resourceVersion %s) changed in place from %+v to %+v",
			n.Name, n.ResourceVersion, was, n))
	}
	g.stored[n] = n.DeepCopy()
}

// writes sweeps every Node the caches hold and returns the writes to
// cached Nodes found since it was last called.
func (g *cacheGuard) writes() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	for n := range g.stored {
		g.check(n)
	}
	written := g.written
	g.written = nil
	return written
}

var _ = AfterEach(func() {
	Expect(guard.writes()).To(BeEmpty(), "nodewave wrote into its informer cache; every Node write goes through patchNode")
})
