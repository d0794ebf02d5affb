package forecast

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// on random worlds, each also with a random spec.strategy.canary: the
// first wave is exactly what plan.Compute starts now; replaying the waves
// one after another (each finishing before the next, the canary's soak
// waited out and its pause lifted when the planner holds for them), every
// wave is exactly what plan.Compute over the whole world starts then,
// marked canary and waiting for the canary's holds exactly when the
// planner says so; every pending node is either in a wave, once, or never
// started; and the input is left as it was.
func TestWavesFollowThePlanner(t *testing.T) {
	seen := map[string]int{}
	for seed := range 300 {
		cu, nodes := randomWorld(rand.New(rand.NewPCG(uint64(seed), 7)))
		checkWavesFollowThePlanner(t, fmt.Sprintf("seed %d", seed), cu, nodes, time.Time{})
		randomCanary(rand.New(rand.NewPCG(uint64(seed), 21)), cu, nodes)
		f := checkWavesFollowThePlanner(t, fmt.Sprintf("seed %d with a canary", seed), cu, nodes, t0)
		if f.Canary.Waves > 0 {
			seen["a canary wave"]++
		}
		for _, w := range f.Waves {
			for _, hold := range w.WaitsFor {
				seen[hold]++
			}
		}
		seen["now "+f.Canary.Hold]++

		// The same world shaped by zones (a budget per zone, one at a
		// time) and a priority on some nodes: the forecast then shows
		// the planner the whole world on every pass.
		randomZones(rand.New(rand.NewPCG(uint64(seed), 33)), cu, nodes)
		if f := checkWavesFollowThePlanner(t, fmt.Sprintf("seed %d with zones and priorities", seed), cu, nodes, t0); len(f.Waves) > 1 {
			seen["zones, several waves"]++
		}
	}
	// What the random canaries cover, at the least.
	for what, least := range map[string]int{"a canary wave": 80, plan.CanarySoaking: 40, plan.CanaryPaused: 15,
		"now " + plan.CanaryRunning: 3, "now " + plan.CanaryFailed: 10, "zones, several waves": 100} {
		if seen[what] < least {
			t.Errorf("only %d of 300 random canaries have %s (want %d at least): the worlds hardly test it", seen[what], what, least)
		}
	}
}

// checkWavesFollowThePlanner checks one world (see TestWavesFollowThePlanner),
// forecast at now, and returns its forecast.
func checkWavesFollowThePlanner(t *testing.T, seed string, cu *upgradev1alpha1.ClusterUpgrade, nodes []corev1.Node, now time.Time) Forecast {
	t.Helper()
	before := make([]corev1.Node, len(nodes))
	for i := range nodes {
		nodes[i].DeepCopyInto(&before[i])
	}
	f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: nodes, Now: now})
	if !reflect.DeepEqual(before, nodes) {
		t.Fatalf("%s: Compute modified its input", seed)
	}
	tv := version.MustParse(target)
	in := plan.Input{MaxUnavailable: f.MaxUnavailable, MaxFailedNodes: int(cu.Spec.MaxFailedNodes), Now: now,
		Canary: plan.CanaryOf(cu.Spec.Strategy.Canary, cu.Spec.CanarySoakDuration(), len(nodes)),
		Zones:  plan.ZonesOf(cu.Spec.Strategy.Zones)}
	for i := range nodes {
		in.Nodes = append(in.Nodes, nodeview.PlanNode(&nodes[i], cu, tv))
	}
	checkCanaryNow(t, seed, cu, f, plan.Compute(in))
	if now := plan.Compute(in); now.Halted || now.Canary.Hold == plan.CanaryFailed {
		if len(f.Waves) != 0 {
			t.Fatalf("%s: halted (%s), yet waves %v", seed, now.Canary.Hold, waveNodes(f))
		}
		return f
	}
	checkEachPendingNodeOnce(t, seed, f, in)
	replayWaves(t, seed, f, in, nodes)
	if again := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: reversed(nodes), Now: now}); !reflect.DeepEqual(f.Waves, again.Waves) {
		t.Fatalf("%s: the waves depend on the order of the nodes", seed)
	}
	return f
}

// checkCanaryNow checks Forecast.Canary against the planner's answer now:
// nil without a canary; otherwise its size, and where the gate stands.
func checkCanaryNow(t *testing.T, seed string, cu *upgradev1alpha1.ClusterUpgrade, f Forecast, now plan.Plan) {
	t.Helper()
	c := cu.Spec.Strategy.Canary
	if c == nil {
		if f.Canary != nil {
			t.Fatalf("%s: canary %+v without spec.strategy.canary", seed, f.Canary)
		}
		return
	}
	size, err := plan.CanarySize(c, f.Selected)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case f.Canary == nil:
		t.Fatalf("%s: no canary in the forecast", seed)
	case f.Canary.Size != size || f.Canary.Pause != c.Pause || f.Canary.SoakDuration.Duration != cu.Spec.CanarySoakDuration():
		t.Fatalf("%s: canary %+v, want size %d of %d, pause %v, soak %s", seed, f.Canary, size, f.Selected, c.Pause, cu.Spec.CanarySoakDuration())
	case f.Canary.Hold != now.Canary.Hold || f.Canary.Done != !now.Canary.Active || !equal(f.Canary.Nodes, now.Canary.Nodes):
		t.Fatalf("%s: canary %+v now, the planner's gate is %+v", seed, f.Canary, now.Canary)
	}
	canaryWaves, workerWaves := 0, 0
	for _, w := range f.Waves {
		if w.ControlPlane {
			continue
		}
		workerWaves++
		if w.Canary {
			canaryWaves++
			if workerWaves != canaryWaves {
				t.Fatalf("%s: canary wave %d after a wave of the rest", seed, w.Number)
			}
		}
	}
	if canaryWaves != f.Canary.Waves {
		t.Fatalf("%s: %d canary waves, Canary.Waves %d", seed, canaryWaves, f.Canary.Waves)
	}
}

// randomCanary gives cu a random spec.strategy.canary (a count or a
// percentage, a soak of the default, none or some minutes, pause or not)
// and each node of a nodewave state a random state-since up to 40 minutes
// before t0. In half the worlds this ClusterUpgrade has not begun (its
// states are removed) and most other nodes are Ready and uncordoned, so
// that the canary runs from the start.
// randomZones gives cu a random spec.strategy.zones, and a priority label
// to a random share of the nodes (some without it).
func randomZones(rng *rand.Rand, cu *upgradev1alpha1.ClusterUpgrade, nodes []corev1.Node) {
	z := &upgradev1alpha1.ZoneStrategy{OneAtATime: rng.IntN(2) == 0}
	if !z.OneAtATime || rng.IntN(2) == 0 {
		v := intstr.FromInt32(int32(1 + rng.IntN(3)))
		if rng.IntN(2) == 0 {
			v = intstr.FromString(fmt.Sprintf("%d%%", 10+rng.IntN(60)))
		}
		z.MaxUnavailable = &v
	}
	cu.Spec.Strategy.Zones = z
	cu.Spec.Priority = &upgradev1alpha1.PrioritySpec{Label: "example.com/priority"}
	for i := range nodes {
		if rng.IntN(3) == 0 {
			nodes[i].Labels["example.com/priority"] = fmt.Sprint(rng.IntN(5) - 2)
		}
	}
}

func randomCanary(rng *rand.Rand, cu *upgradev1alpha1.ClusterUpgrade, nodes []corev1.Node) {
	c := &upgradev1alpha1.CanarySpec{Nodes: intstr.FromInt32(int32(1 + rng.IntN(5))), Pause: rng.IntN(3) == 0}
	if rng.IntN(2) == 0 {
		c.Nodes = intstr.FromString(fmt.Sprintf("%d%%", 1+rng.IntN(60)))
	}
	if soak := []time.Duration{-1, 0, 5 * time.Minute, 30 * time.Minute}[rng.IntN(4)]; soak >= 0 {
		c.SoakDuration = &metav1.Duration{Duration: soak}
	}
	cu.Spec.Strategy.Canary = c
	fresh := rng.IntN(2) == 0
	for i := range nodes {
		n := &nodes[i]
		if fresh && n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] == cu.Name {
			delete(n.Labels, upgradev1alpha1.NodeStateLabel)
			delete(n.Annotations, upgradev1alpha1.ClusterUpgradeAnnotation)
			n.Spec.Unschedulable = n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == "true"
		}
		if _, ok := n.Labels[upgradev1alpha1.NodeStateLabel]; fresh && !ok && rng.IntN(4) != 0 {
			n.Status.Conditions[0].Status = corev1.ConditionTrue
			n.Spec.Unschedulable = false
			delete(n.Annotations, upgradev1alpha1.WasUnschedulableAnnotation)
		}
		if _, ok := n.Labels[upgradev1alpha1.NodeStateLabel]; ok && rng.IntN(6) != 0 {
			n.Annotations[upgradev1alpha1.StateSinceAnnotation] = t0.Add(-time.Duration(rng.IntN(40)) * time.Minute).Format(time.RFC3339)
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
func checkEachPendingNodeOnce(t *testing.T, seed string, f Forecast, in plan.Input) {
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
			t.Fatalf("%s: %s (%s) appears %d times in the waves and never-started, want %d", seed, n.Name, plan.Classify(n), seen[n.Name], want)
		}
	}
}

// replayWaves plays the waves on the whole world with the planner: each
// pass must start exactly the next wave; then everything in flight and
// the wave finish, at in.Now, cordoned again only if an admin had
// cordoned them. When the canary's soak holds the planner, time passes
// until it ends; when canary.pause does, a person sets it to false: the
// next wave must wait for exactly these, and be marked canary exactly
// when the planner starts it under the canary's limit.
func replayWaves(t *testing.T, seed string, f Forecast, in plan.Input, nodes []corev1.Node) {
	t.Helper()
	if in.Canary != nil {
		c := *in.Canary
		in.Canary = &c
	}
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
			n.Since = in.Now
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
		var holds []string
	wait:
		for len(p.Start) == 0 {
			switch {
			case p.Canary.Hold == plan.CanarySoaking:
				in.Now = p.Canary.Until
				holds = append(holds, p.Canary.Hold)
			case p.Canary.Hold == plan.CanaryPaused:
				in.Canary.Pause = false
				holds = append(holds, p.Canary.Hold)
			case p.InFlight > 0 || len(p.HeldElsewhere) > 0:
				finish(p.InFlightNodes)
				if !release() && p.InFlight == 0 {
					break wait
				}
			default:
				break wait
			}
			p = plan.Compute(in)
		}
		if !equal(p.Start, w.Nodes) {
			t.Fatalf("%s: wave %d is %v, the planner starts %v", seed, w.Number, w.Nodes, p.Start)
		}
		if len(w.Nodes) > f.MaxUnavailable {
			t.Fatalf("%s: wave %d has %d nodes, more than maxUnavailable %d", seed, w.Number, len(w.Nodes), f.MaxUnavailable)
		}
		if canary := p.Canary.Active && p.Canary.Limit > 0; w.Canary != canary || !equal(w.WaitsFor, holds) {
			t.Fatalf("%s: wave %d is canary %v waiting for %v; the planner's gate %+v after %v", seed, w.Number, w.Canary, w.WaitsFor, p.Canary, holds)
		}
		if w.Canary && len(p.Canary.Nodes)+len(w.Nodes) > f.Canary.Size {
			t.Fatalf("%s: canary wave %d starts %v after %v, more than the canary's %d nodes", seed, w.Number, w.Nodes, p.Canary.Nodes, f.Canary.Size)
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
