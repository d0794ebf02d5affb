package main

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// recorder watches the nodes and notes, for each, when nodewave took it
// (its state label moved into the lifecycle), when its drain ended (the
// state moved past draining), when its kubelet reported the target
// version, and when it was upgraded.
type recorder struct {
	target   string
	mu       sync.Mutex
	started  map[string]time.Time
	drained  map[string]time.Time
	reached  map[string]time.Time
	finished map[string]time.Time
	// entries counts how often each node entered the lifecycle: more
	// than once is a node that left it (released, blocked, failed) and
	// was taken again; its span is its last entry.
	entries map[string]int
	states  map[string]string
	zones   map[string]string
}

func record(ctx context.Context, cs kubernetes.Interface, target string) *recorder {
	r := &recorder{target: target, started: map[string]time.Time{}, drained: map[string]time.Time{},
		reached: map[string]time.Time{}, finished: map[string]time.Time{}, entries: map[string]int{},
		states: map[string]string{}, zones: map[string]string{}}
	factory := informers.NewSharedInformerFactory(cs, 0)
	inf := factory.Core().V1().Nodes().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.node(obj.(*corev1.Node)) },
		UpdateFunc: func(_, obj any) { r.node(obj.(*corev1.Node)) },
	})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return r
}

func inFlight(state string) bool {
	switch upgradev1alpha1.NodeState(state) {
	case upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining,
		upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying:
		return true
	}
	return false
}

func (r *recorder) node(n *corev1.Node) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	state := n.Labels[upgradev1alpha1.NodeStateLabel]
	prev := r.states[n.Name]
	r.states[n.Name] = state
	r.zones[n.Name] = n.Labels[upgradev1alpha1.ZoneLabel]
	if inFlight(state) && !inFlight(prev) {
		r.started[n.Name] = now
		r.entries[n.Name]++
	}
	switch upgradev1alpha1.NodeState(state) {
	case upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying, upgradev1alpha1.NodeUpgraded:
		if _, ok := r.drained[n.Name]; !ok {
			r.drained[n.Name] = now
		}
	}
	if _, ok := r.reached[n.Name]; !ok && n.Status.NodeInfo.KubeletVersion == r.target {
		r.reached[n.Name] = now
	}
	if state == string(upgradev1alpha1.NodeUpgraded) && prev != state {
		r.finished[n.Name] = now
	}
}

// spans returns the nodes that went through the lifecycle, with their plan
// order (zone, then name).
func (r *recorder) spans() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []span
	for name, start := range r.started {
		if end, ok := r.finished[name]; ok {
			out = append(out, span{Node: name, Start: start, End: end, Entries: r.entries[name],
				Drained: orTime(r.drained[name], end), Reached: orTime(r.reached[name], end)})
		}
	}
	planOrder(out, r.zones)
	return out
}

// counts says how many nodes are in flight and upgraded at t, from spans.
func counts(spans []span, t time.Time) (inFlight, upgraded int) {
	for _, s := range spans {
		switch {
		case !t.Before(s.End):
			upgraded++
		case !t.Before(s.Start):
			inFlight++
		}
	}
	return inFlight, upgraded
}

// orTime is t, or def when t is zero (a step the watch did not see apart:
// the node went through it between two events).
func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
