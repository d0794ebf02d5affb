package forecast

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
)

func TestWaves(t *testing.T) {
	six := func(opts map[string][]nodeOpt) []corev1.Node {
		out := make([]corev1.Node, 0, 6)
		// Listed out of order: the plan order is zone, then name.
		for _, nz := range [][2]string{{"c-1", "zone-c"}, {"a-2", "zone-a"}, {"b-1", "zone-b"}, {"a-1", "zone-a"}, {"b-2", "zone-b"}, {"a-3", "zone-a"}} {
			out = append(out, node(nz[0], nz[1], opts[nz[0]]...))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		cu        *upgradev1alpha1.ClusterUpgrade
		nodes     []corev1.Node
		limit     int
		want      [][]string
		total     int
		zones     [][]string
		inFlight  []string
		never     []string
		maxUnavai int
	}{
		{name: "Sequential: one node a wave, zone by zone then by name", cu: newCU(), nodes: six(nil),
			want:  [][]string{{"a-1"}, {"a-2"}, {"a-3"}, {"b-1"}, {"b-2"}, {"c-1"}},
			total: 6, maxUnavai: 1},
		{name: "two at a time", cu: newCU(maxUnavailable(2)), nodes: six(nil),
			want:  [][]string{{"a-1", "a-2"}, {"a-3", "b-1"}, {"b-2", "c-1"}},
			zones: [][]string{{"zone-a"}, {"zone-a", "zone-b"}, {"zone-b", "zone-c"}},
			total: 3, maxUnavai: 2},
		{name: "a percentage of the selected nodes, rounded down", cu: newCU(concurrent(intstr.FromString("50%"))), nodes: six(nil),
			want: [][]string{{"a-1", "a-2", "a-3"}, {"b-1", "b-2", "c-1"}}, total: 2, maxUnavai: 3},
		{name: "the limit keeps the first waves and counts them all", cu: newCU(maxUnavailable(2)), nodes: six(nil), limit: 2,
			want: [][]string{{"a-1", "a-2"}, {"a-3", "b-1"}}, total: 3, maxUnavai: 2},
		{name: "a node cordoned by an admin starts without taking a slot, and keeps holding one",
			cu:    newCU(maxUnavailable(2)),
			nodes: six(map[string][]nodeOpt{"a-2": {cordoned()}}),
			// a-2 holds a slot from the start: a-1 takes the other, a-2 costs none.
			want:  [][]string{{"a-1", "a-2"}, {"a-3"}, {"b-1"}, {"b-2"}, {"c-1"}},
			total: 5, maxUnavai: 2},
		{name: "nodes in flight finish first; the free slots start now",
			cu: newCU(maxUnavailable(2)),
			nodes: six(map[string][]nodeOpt{
				"b-1": {state("workers", upgradev1alpha1.NodeDraining)},
			}),
			inFlight: []string{"b-1"},
			want:     [][]string{{"a-1"}, {"a-2", "a-3"}, {"b-2", "c-1"}},
			total:    3, maxUnavai: 2},
		{name: "a node in flight for another ClusterUpgrade holds a slot until that one is done with it, then is pending here",
			cu: newCU(maxUnavailable(2)),
			nodes: six(map[string][]nodeOpt{
				"a-1": {state("other", upgradev1alpha1.NodeUpgrading)},
			}),
			want:  [][]string{{"a-2"}, {"a-1", "a-3"}, {"b-1", "b-2"}, {"c-1"}},
			total: 4, maxUnavai: 2},
		{name: "a node an admin had cordoned before another ClusterUpgrade took it stays cordoned",
			cu: newCU(maxUnavailable(2)),
			nodes: six(map[string][]nodeOpt{
				"a-1": {state("other", upgradev1alpha1.NodeUpgrading), func(n *corev1.Node) {
					n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] = "true"
				}},
			}),
			want:  [][]string{{"a-2"}, {"a-1", "a-3"}, {"b-1"}, {"b-2"}, {"c-1"}},
			total: 5, maxUnavai: 2},
		{name: "a node in flight here that an admin had cordoned stays cordoned",
			cu: newCU(maxUnavailable(2)),
			nodes: six(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeVerifying), func(n *corev1.Node) {
					n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] = "true"
				}},
			}),
			inFlight: []string{"a-1"},
			want:     [][]string{{"a-2"}, {"a-3"}, {"b-1"}, {"b-2"}, {"c-1"}},
			total:    5, maxUnavai: 2},
		{name: "NotReady, at target and newer nodes are never in a wave",
			cu: newCU(maxUnavailable(2)),
			nodes: six(map[string][]nodeOpt{
				"a-1": {notReady()}, "a-3": {kubelet(target)}, "b-2": {kubelet("v1.38.0")},
			}),
			// a-1 holds a slot all along: one node a wave.
			want:  [][]string{{"a-2"}, {"b-1"}, {"c-1"}},
			never: []string{"a-1"}, total: 3, maxUnavai: 2},
		{name: "already upgraded nodes are done; a node labelled upgraded for an old target is pending again",
			cu: newCU(maxUnavailable(3)),
			nodes: six(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target)},
				"a-2": {state("workers", upgradev1alpha1.NodeUpgraded)},
			}),
			want: [][]string{{"a-2", "a-3", "b-1"}, {"b-2", "c-1"}}, total: 2, maxUnavai: 3},
		{name: "too many failures: halted, no wave",
			cu: newCU(maxUnavailable(2)),
			nodes: six(map[string][]nodeOpt{
				"c-1": {state("workers", upgradev1alpha1.NodeFailed)},
			}),
			want: nil, never: []string{"a-1", "a-2", "a-3", "b-1", "b-2"}, total: 0, maxUnavai: 2},
		{name: "paused: the waves are what happens once it resumes",
			cu:    newCU(maxUnavailable(3), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.Paused = true }),
			nodes: six(nil),
			want:  [][]string{{"a-1", "a-2", "a-3"}, {"b-1", "b-2", "c-1"}}, total: 2, maxUnavai: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes, Waves: tc.limit})
			if got := waveNodes(f); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("waves = %v, want %v", got, tc.want)
			}
			if f.TotalWaves != tc.total {
				t.Fatalf("TotalWaves = %d, want %d", f.TotalWaves, tc.total)
			}
			if f.MaxUnavailable != tc.maxUnavai {
				t.Fatalf("MaxUnavailable = %d, want %d", f.MaxUnavailable, tc.maxUnavai)
			}
			if !equal(f.InFlightNodes, tc.inFlight) {
				t.Fatalf("in flight = %v, want %v", f.InFlightNodes, tc.inFlight)
			}
			if !equal(f.NeverStarted, tc.never) {
				t.Fatalf("never started = %v, want %v", f.NeverStarted, tc.never)
			}
			for i, z := range tc.zones {
				if !equal(f.Waves[i].Zones, z) {
					t.Fatalf("wave %d zones = %v, want %v", i+1, f.Waves[i].Zones, z)
				}
			}
			for i, w := range f.Waves {
				if w.Number != i+1 {
					t.Fatalf("wave %d is numbered %d", i+1, w.Number)
				}
			}
		})
	}
}

// TestWavesFollowThePlanner checks the waves against the planner itself
// on random worlds: the first wave is exactly what plan.Compute starts
// now; replaying the waves one after another (each finishing before the
// next), every wave is exactly what plan.Compute over the whole world
// starts then; every pending node is either in a wave, once, or never
// started; and the input is left as it was.
func TestWavesFollowThePlanner(t *testing.T) {
	for seed := range 300 {
		cu, nodes := randomWorld(rand.New(rand.NewPCG(uint64(seed), 7)))
		before := make([]corev1.Node, len(nodes))
		for i := range nodes {
			nodes[i].DeepCopyInto(&before[i])
		}
		f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: nodes})
		if !reflect.DeepEqual(before, nodes) {
			t.Fatalf("seed %d: Compute modified its input", seed)
		}
		tv := version.MustParse(target)
		in := plan.Input{MaxUnavailable: f.MaxUnavailable, MaxFailedNodes: int(cu.Spec.MaxFailedNodes)}
		for i := range nodes {
			in.Nodes = append(in.Nodes, nodeview.PlanNode(&nodes[i], cu.Name, tv))
		}
		if now := plan.Compute(in); now.Halted {
			if len(f.Waves) != 0 {
				t.Fatalf("seed %d: halted, yet waves %v", seed, waveNodes(f))
			}
			continue
		}
		checkEachPendingNodeOnce(t, seed, f, in)
		replayWaves(t, seed, f, in, nodes)
		if !reflect.DeepEqual(waveNodes(f), waveNodes(mustCompute(t, Input{ClusterUpgrade: cu, Nodes: reversed(nodes)}))) {
			t.Fatalf("seed %d: the waves depend on the order of the nodes", seed)
		}
	}
}

// randomWorld is a ClusterUpgrade "workers" with a random budget and
// failure limit, and up to 40 nodes in three zones in any state, of this
// ClusterUpgrade or another, NotReady or cordoned (before or by an
// upgrade), at, below or above the target.
func randomWorld(rng *rand.Rand) (*upgradev1alpha1.ClusterUpgrade, []corev1.Node) {
	states := []upgradev1alpha1.NodeState{"", "", "", upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining,
		upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying, upgradev1alpha1.NodeUpgraded, upgradev1alpha1.NodeFailed}
	cu := newCU(maxUnavailable(int32(1+rng.IntN(6))), func(cu *upgradev1alpha1.ClusterUpgrade) {
		cu.Spec.MaxFailedNodes = int32(rng.IntN(3))
	})
	count := 1 + rng.IntN(40)
	nodes := make([]corev1.Node, 0, count)
	for i := range count {
		var opts []nodeOpt
		if s := states[rng.IntN(len(states))]; s != "" {
			opts = append(opts, state([]string{"workers", "workers", "other"}[rng.IntN(3)], s))
		}
		if rng.IntN(8) == 0 {
			opts = append(opts, notReady())
		}
		if rng.IntN(8) == 0 {
			opts = append(opts, cordoned())
		}
		if rng.IntN(6) == 0 {
			opts = append(opts, func(n *corev1.Node) {
				if n.Annotations == nil {
					n.Annotations = map[string]string{}
				}
				n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] = "true"
			})
		}
		switch rng.IntN(8) {
		case 0:
			opts = append(opts, kubelet(target))
		case 1:
			opts = append(opts, kubelet("v1.38.0"))
		}
		nodes = append(nodes, node(fmt.Sprintf("n%02d", i), fmt.Sprintf("zone-%c", 'a'+rng.IntN(3)), opts...))
	}
	return cu, nodes
}

// checkEachPendingNodeOnce checks that every pending node is in exactly
// one wave or never started, and no other node is in either.
func checkEachPendingNodeOnce(t *testing.T, seed int, f Forecast, in plan.Input) {
	t.Helper()
	seen := map[string]int{}
	for _, w := range f.Waves {
		for _, n := range w.Nodes {
			seen[n]++
		}
	}
	for _, n := range f.NeverStarted {
		seen[n]++
	}
	for _, n := range in.Nodes {
		want := 0
		if plan.Classify(n) == plan.ClassPending {
			want = 1
		}
		if seen[n.Name] != want {
			t.Fatalf("seed %d: %s (%s) appears %d times in the waves and never-started, want %d", seed, n.Name, plan.Classify(n), seen[n.Name], want)
		}
	}
}

// replayWaves plays the waves on the whole world with the planner: each
// pass must start exactly the next wave; then everything in flight and
// the wave finish, cordoned again only if an admin had cordoned them.
func replayWaves(t *testing.T, seed int, f Forecast, in plan.Input, nodes []corev1.Node) {
	t.Helper()
	index := map[string]int{}
	for i, n := range in.Nodes {
		index[n.Name] = i
	}
	finish := func(names []string) {
		for _, name := range names {
			n, raw := &in.Nodes[index[name]], nodes[index[name]]
			stays := n.Unschedulable
			if s := raw.Labels[upgradev1alpha1.NodeStateLabel]; s != "" && s != string(upgradev1alpha1.NodeUpgraded) {
				stays = raw.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == "true"
			}
			n.State, n.AtTarget, n.Newer, n.Ready, n.Unschedulable = upgradev1alpha1.NodeUpgraded, true, false, true, stays
		}
	}
	// release: the nodes another ClusterUpgrade has in flight are done
	// with by it, pending here, cordoned only if an admin had cordoned them.
	release := func() bool {
		released := false
		for i := range in.Nodes {
			if n := &in.Nodes[i]; plan.InFlight(n.HeldElsewhere) {
				n.HeldElsewhere, n.Ready = "", true
				n.Unschedulable = nodes[i].Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == "true"
				released = true
			}
		}
		return released
	}
	for _, w := range f.Waves {
		p := plan.Compute(in)
		for len(p.Start) == 0 && (p.InFlight > 0 || len(p.HeldElsewhere) > 0) {
			finish(p.InFlightNodes)
			if !release() && p.InFlight == 0 {
				break
			}
			p = plan.Compute(in)
		}
		if !equal(p.Start, w.Nodes) {
			t.Fatalf("seed %d: wave %d is %v, the planner starts %v", seed, w.Number, w.Nodes, p.Start)
		}
		if len(w.Nodes) > f.MaxUnavailable {
			t.Fatalf("seed %d: wave %d has %d nodes, more than maxUnavailable %d", seed, w.Number, len(w.Nodes), f.MaxUnavailable)
		}
		finish(append(p.InFlightNodes, p.Start...))
		release()
	}
}

func reversed(nodes []corev1.Node) []corev1.Node {
	out := slices.Clone(nodes)
	slices.Reverse(out)
	return out
}
