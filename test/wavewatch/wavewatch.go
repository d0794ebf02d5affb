// Package wavewatch watches nodes while a ClusterUpgrade with spec.controlPlane
// runs, and records what its two waves promise, from outside nodewave: no
// more than one control-plane node out of service at once, and no worker
// given an upgrade state while a control-plane node is not yet upgraded.
// It also records when each node was first given a state and when it was
// first labelled upgraded. The controller's envtest suite and the kubeadm
// end-to-end tier both use it. It is test scaffolding only.
package wavewatch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
)

// Tracker records the waves of the nodes it watches.
type Tracker struct {
	controlPlane labels.Selector
	stop         context.CancelFunc
	done         chan struct{}

	mu                sync.Mutex
	seen              map[string]*corev1.Node
	started, upgraded map[string]time.Time
	maxCPOut          int
	early             []string
}

// Report is what a Tracker saw.
type Report struct {
	// Started and Upgraded are when each node was first seen with an
	// upgrade state, and first seen upgraded.
	Started, Upgraded map[string]time.Time
	// MaxControlPlaneOut is the most control-plane nodes seen out of
	// service (cordoned or NotReady) at once.
	MaxControlPlaneOut int
	// Early names each worker seen with an upgrade state while a
	// control-plane node was not upgraded, with what it saw.
	Early []string
}

// Start watches the nodes that nodes selects (labels.Everything() for all)
// until Stop; controlPlane selects the control-plane nodes among them. It
// watches through an informer, which lists and watches again whenever its
// watch ends, as it does each time the API server it reached goes away
// during a control-plane upgrade.
func Start(ctx context.Context, cs kubernetes.Interface, nodes, controlPlane labels.Selector) (*Tracker, error) {
	t := &Tracker{controlPlane: controlPlane, started: map[string]time.Time{}, upgraded: map[string]time.Time{},
		done: make(chan struct{}), seen: map[string]*corev1.Node{}}
	ctx, t.stop = context.WithCancel(ctx)
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = nodes.String() }))
	inf := factory.Core().V1().Nodes().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.observe(obj.(*corev1.Node), false) },
		UpdateFunc: func(_, obj any) { t.observe(obj.(*corev1.Node), false) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				t.observe(n, true)
			}
		},
	}); err != nil {
		t.stop()
		return nil, err
	}
	go func() {
		defer close(t.done)
		inf.Run(ctx.Done())
	}()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Stop()
		return nil, fmt.Errorf("the node informer did not sync")
	}
	return t, nil
}

// Stop stops the watch and waits for it.
func (t *Tracker) Stop() {
	t.stop()
	<-t.done
}

// observe judges the nodes as they stand after one event, about n.
func (t *Tracker) observe(n *corev1.Node, deleted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		delete(t.seen, n.Name)
		return
	}
	t.seen[n.Name] = n
	nodes := t.seen
	now := time.Now()
	cpOut := 0
	var behind []string
	for name, n := range nodes {
		state := n.Labels[upgradev1alpha1.NodeStateLabel]
		if _, ok := t.started[name]; !ok && state != "" {
			t.started[name] = now
		}
		if _, ok := t.upgraded[name]; !ok && state == string(upgradev1alpha1.NodeUpgraded) {
			t.upgraded[name] = now
		}
		if !t.controlPlane.Matches(labels.Set(n.Labels)) {
			continue
		}
		if n.Spec.Unschedulable || !nodeview.Ready(n) {
			cpOut++
		}
		if state != string(upgradev1alpha1.NodeUpgraded) {
			behind = append(behind, name)
		}
	}
	t.maxCPOut = max(t.maxCPOut, cpOut)
	if len(behind) == 0 {
		return
	}
	slices.Sort(behind)
	for name, n := range nodes {
		if state := n.Labels[upgradev1alpha1.NodeStateLabel]; state != "" && !t.controlPlane.Matches(labels.Set(n.Labels)) {
			t.early = append(t.early, fmt.Sprintf("worker %s is %s while control-plane nodes %v are not upgraded", name, state, behind))
		}
	}
}

// Report returns what the tracker has seen so far.
func (t *Tracker) Report() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Report{Started: maps.Clone(t.started), Upgraded: maps.Clone(t.upgraded),
		MaxControlPlaneOut: t.maxCPOut, Early: slices.Clone(t.early)}
}
