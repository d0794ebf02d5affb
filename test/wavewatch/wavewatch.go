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
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
)

// Tracker records the waves of the nodes it watches.
type Tracker struct {
	controlPlane labels.Selector
	stop         context.CancelFunc
	done         chan struct{}

	mu                sync.Mutex
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
// until Stop; controlPlane selects the control-plane nodes among them.
func Start(ctx context.Context, cs kubernetes.Interface, nodes, controlPlane labels.Selector) (*Tracker, error) {
	t := &Tracker{controlPlane: controlPlane, started: map[string]time.Time{}, upgraded: map[string]time.Time{},
		done: make(chan struct{})}
	ctx, t.stop = context.WithCancel(ctx)
	w, err := cs.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{LabelSelector: nodes.String()})
	if err != nil {
		t.stop()
		return nil, err
	}
	go func() {
		defer close(t.done)
		defer w.Stop()
		seen := map[string]*corev1.Node{}
		for ev := range w.ResultChan() {
			n, ok := ev.Object.(*corev1.Node)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(seen, n.Name)
				continue
			}
			seen[n.Name] = n
			t.observe(seen)
		}
	}()
	return t, nil
}

// Stop stops the watch and waits for it.
func (t *Tracker) Stop() {
	t.stop()
	<-t.done
}

// observe judges the nodes as they stand after one event.
func (t *Tracker) observe(nodes map[string]*corev1.Node) {
	t.mu.Lock()
	defer t.mu.Unlock()
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
