// Package nodeagent plays, in simulated clusters, the node agent that an
// External upgrade relies on (and the kubelet restart that a Job upgrade
// ends with): while a node is labelled upgrade.nodewave.io/state=upgrading,
// it makes the node report the version in its
// upgrade.nodewave.io/target-version annotation, after a delay. It is test
// scaffolding only; the operator has no simulation code paths.
package nodeagent

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Behaviour is how the agent treats one node.
type Behaviour struct {
	// Never: the node's kubelet is never upgraded (a stuck upgrade).
	Never bool
	// Report: the kubelet reports this version instead of the target.
	Report string
	// Delay: how long the upgrade takes once the node is upgrading; zero
	// uses the agent's jittered default.
	Delay time.Duration
}

// Agent upgrades the kubelet of nodes that are upgrading.
type Agent struct {
	// Client reads nodes and patches their status.
	Client client.Client
	// MinDelay and MaxDelay bound the jittered time an upgrade takes.
	MinDelay, MaxDelay time.Duration
	// Seed makes the jitter reproducible.
	Seed uint64
	// Interval is how often nodes are looked at; default 200ms.
	Interval time.Duration

	mu        sync.Mutex
	rng       *rand.Rand
	behaviour map[string]Behaviour
	due       map[string]time.Time // when each upgrading node reports its target
}

// Set fixes how the agent treats node.
func (a *Agent) Set(node string, b Behaviour) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.init()
	a.behaviour[node] = b
	delete(a.due, node)
}

func (a *Agent) init() {
	if a.rng == nil {
		a.rng = rand.New(rand.NewPCG(a.Seed, a.Seed+1))
		a.behaviour = map[string]Behaviour{}
		a.due = map[string]time.Time{}
	}
}

// Run looks at the nodes every Interval until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	interval := a.Interval
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	wait.UntilWithContext(ctx, a.Step, interval)
}

// Step does one round: each upgrading node whose time has come reports its target.
func (a *Agent) Step(ctx context.Context) {
	nodes := &corev1.NodeList{}
	if err := a.Client.List(ctx, nodes, client.MatchingLabels{
		upgradev1alpha1.NodeStateLabel: string(upgradev1alpha1.NodeUpgrading)}); err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.init()
	now := time.Now()
	upgrading := map[string]bool{}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		upgrading[n.Name] = true
		b := a.behaviour[n.Name]
		want := n.Annotations[upgradev1alpha1.TargetVersionAnnotation]
		if b.Report != "" {
			want = b.Report
		}
		if b.Never || want == "" || n.Status.NodeInfo.KubeletVersion == want {
			delete(a.due, n.Name)
			continue
		}
		due, ok := a.due[n.Name]
		if !ok {
			due = now.Add(a.delay(b))
			a.due[n.Name] = due
		}
		if now.Before(due) {
			continue
		}
		patch := client.MergeFrom(n.DeepCopy())
		n.Status.NodeInfo.KubeletVersion = want
		if err := a.Client.Status().Patch(ctx, n, patch); err == nil {
			delete(a.due, n.Name)
		}
	}
	for name := range a.due {
		if !upgrading[name] {
			delete(a.due, name)
		}
	}
}

func (a *Agent) delay(b Behaviour) time.Duration {
	if b.Delay > 0 {
		return b.Delay
	}
	if a.MaxDelay <= a.MinDelay {
		return a.MinDelay
	}
	return a.MinDelay + time.Duration(a.rng.Int64N(int64(a.MaxDelay-a.MinDelay)))
}
