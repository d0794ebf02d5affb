package forecast

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
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

// withControlPlane sets spec.controlPlane: its default selector (the
// node-role.kubernetes.io/control-plane label) when sel is nil.
func withControlPlane(sel *metav1.LabelSelector) cuOpt {
	return func(cu *upgradev1alpha1.ClusterUpgrade) {
		cu.Spec.ControlPlane = &upgradev1alpha1.ControlPlaneSpec{NodeSelector: sel}
	}
}

// controlPlaneRole labels a node as the control plane.
func controlPlaneRole() nodeOpt {
	return func(n *corev1.Node) { n.Labels[upgradev1alpha1.ControlPlaneLabel] = "" }
}

// blue labels a node pool=blue.
func blue() nodeOpt { return func(n *corev1.Node) { n.Labels["pool"] = "blue" } }

// kubeadmCluster is three control-plane nodes, one per zone, listed out
// of plan order, and six workers.
func kubeadmCluster(opts map[string][]nodeOpt) []corev1.Node {
	out := make([]corev1.Node, 0, 9)
	for _, nz := range [][2]string{{"cp-c", "zone-c"}, {"cp-a", "zone-a"}, {"cp-b", "zone-b"}} {
		out = append(out, node(nz[0], nz[1], append([]nodeOpt{controlPlaneRole()}, opts[nz[0]]...)...))
	}
	for _, nz := range [][2]string{{"c-1", "zone-c"}, {"a-2", "zone-a"}, {"b-1", "zone-b"}, {"a-1", "zone-a"}, {"b-2", "zone-b"}, {"a-3", "zone-a"}} {
		out = append(out, node(nz[0], nz[1], opts[nz[0]]...))
	}
	return out
}

func TestControlPlaneWaves(t *testing.T) {
	half := concurrent(intstr.FromString("50%"))
	type wantWave struct {
		nodes        []string
		controlPlane bool
	}
	cp := func(name string) wantWave { return wantWave{[]string{name}, true} }
	wk := func(names ...string) wantWave { return wantWave{names, false} }
	for _, tc := range []struct {
		name     string
		cu       *upgradev1alpha1.ClusterUpgrade
		nodes    []corev1.Node
		limit    int
		want     []wantWave
		total    int
		cpWaves  int
		budget   int
		selected int
		cpNodes  int
		never    []string
	}{
		{name: "the control plane first, one node a wave in plan order; then the workers, 50% of the workers",
			cu: newCU(half, withControlPlane(nil)), nodes: kubeadmCluster(nil),
			want:  []wantWave{cp("cp-a"), cp("cp-b"), cp("cp-c"), wk("a-1", "a-2", "a-3"), wk("b-1", "b-2", "c-1")},
			total: 5, cpWaves: 3, budget: 3, selected: 6, cpNodes: 3},
		{name: "without spec.controlPlane, control-plane nodes a selector picks are workers like the others",
			cu:    newCU(half, func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.NodeSelector = &metav1.LabelSelector{} }),
			nodes: kubeadmCluster(nil),
			want:  []wantWave{wk("a-1", "a-2", "a-3", "cp-a"), wk("b-1", "b-2", "cp-b", "c-1"), wk("cp-c")},
			total: 3, budget: 4, selected: 9},
		{name: "a control-plane node both selectors select is in the control-plane wave, once",
			cu: newCU(half, withControlPlane(nil), func(cu *upgradev1alpha1.ClusterUpgrade) {
				cu.Spec.NodeSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"pool": "blue"}}
			}),
			nodes: kubeadmCluster(map[string][]nodeOpt{
				"cp-a": {blue()}, "cp-b": {blue()}, "cp-c": {blue()},
				"a-1": {blue()}, "a-2": {blue()}, "a-3": {blue()},
				"b-1": {blue()}, "b-2": {blue()}, "c-1": {blue()},
			}),
			want:  []wantWave{cp("cp-a"), cp("cp-b"), cp("cp-c"), wk("a-1", "a-2", "a-3"), wk("b-1", "b-2", "c-1")},
			total: 5, cpWaves: 3, budget: 3, selected: 6, cpNodes: 3},
		{name: "Sequential workers after the control plane",
			cu: newCU(withControlPlane(nil)), nodes: kubeadmCluster(nil),
			want: []wantWave{cp("cp-a"), cp("cp-b"), cp("cp-c"),
				wk("a-1"), wk("a-2"), wk("a-3"), wk("b-1"), wk("b-2"), wk("c-1")},
			total: 9, cpWaves: 3, budget: 1, selected: 6, cpNodes: 3},
		{name: "the limit keeps the first waves, the control plane's first, and counts them all",
			cu: newCU(half, withControlPlane(nil)), nodes: kubeadmCluster(nil), limit: 2,
			want:  []wantWave{cp("cp-a"), cp("cp-b")},
			total: 5, cpWaves: 3, budget: 3, selected: 6, cpNodes: 3},
		{name: "a control-plane node at the target is done; a worker in flight finishes during the control-plane wave",
			cu: newCU(maxUnavailable(2), withControlPlane(nil)),
			nodes: kubeadmCluster(map[string][]nodeOpt{
				"cp-a": {kubelet(target)}, "b-1": {state("workers", upgradev1alpha1.NodeDraining)},
			}),
			// Without the control plane, b-1 would hold a slot of wave 1.
			want:  []wantWave{cp("cp-b"), cp("cp-c"), wk("a-1", "a-2"), wk("a-3", "b-2"), wk("c-1")},
			total: 5, cpWaves: 2, budget: 2, selected: 6, cpNodes: 3},
		{name: "every control-plane node at the target: the workers start at once",
			cu: newCU(half, withControlPlane(nil)),
			nodes: kubeadmCluster(map[string][]nodeOpt{
				"cp-a": {kubelet(target)}, "cp-b": {kubelet(target)}, "cp-c": {kubelet("v1.38.0")},
			}),
			want:  []wantWave{wk("a-1", "a-2", "a-3"), wk("b-1", "b-2", "c-1")},
			total: 2, budget: 3, selected: 6, cpNodes: 3},
		{name: "a failed control-plane node halts everything, whatever maxFailedNodes says",
			cu: newCU(half, withControlPlane(nil), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.MaxFailedNodes = 5 }),
			nodes: kubeadmCluster(map[string][]nodeOpt{
				"cp-a": {kubelet(target)}, "cp-b": {state("workers", upgradev1alpha1.NodeFailed)},
			}),
			never:  []string{"cp-c", "a-1", "a-2", "a-3", "b-1", "b-2", "c-1"},
			budget: 3, selected: 6, cpNodes: 3},
		{name: "a NotReady control-plane node holds the control plane's slot: nothing starts",
			cu:     newCU(half, withControlPlane(nil)),
			nodes:  kubeadmCluster(map[string][]nodeOpt{"cp-b": {notReady()}}),
			never:  []string{"cp-a", "cp-b", "cp-c", "a-1", "a-2", "a-3", "b-1", "b-2", "c-1"},
			budget: 3, selected: 6, cpNodes: 3},
		{name: "a NotReady worker does not hold the control plane",
			cu:    newCU(half, withControlPlane(nil)),
			nodes: kubeadmCluster(map[string][]nodeOpt{"a-1": {notReady()}}),
			want:  []wantWave{cp("cp-a"), cp("cp-b"), cp("cp-c"), wk("a-2", "a-3"), wk("b-1", "b-2"), wk("c-1")},
			total: 6, cpWaves: 3, budget: 3, selected: 6, cpNodes: 3, never: []string{"a-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes, Waves: tc.limit})
			got := make([]wantWave, 0, len(f.Waves))
			for i, w := range f.Waves {
				got = append(got, wantWave{w.Nodes, w.ControlPlane})
				if w.Number != i+1 {
					t.Fatalf("wave %d is numbered %d", i+1, w.Number)
				}
			}
			if !slices.EqualFunc(got, tc.want, func(a, b wantWave) bool { return reflect.DeepEqual(a, b) }) {
				t.Fatalf("waves = %v, want %v", got, tc.want)
			}
			if f.TotalWaves != tc.total || f.MaxUnavailable != tc.budget || f.Selected != tc.selected {
				t.Fatalf("TotalWaves %d, MaxUnavailable %d, Selected %d; want %d, %d, %d",
					f.TotalWaves, f.MaxUnavailable, f.Selected, tc.total, tc.budget, tc.selected)
			}
			if !equal(f.NeverStarted, tc.never) {
				t.Fatalf("never started = %v, want %v", f.NeverStarted, tc.never)
			}
			if tc.cu.Spec.ControlPlane == nil {
				if f.ControlPlane != nil {
					t.Fatalf("control plane = %+v without spec.controlPlane", f.ControlPlane)
				}
				return
			}
			if f.ControlPlane == nil || f.ControlPlane.Selected != tc.cpNodes || f.ControlPlane.Waves != tc.cpWaves {
				t.Fatalf("control plane = %+v, want %d nodes in %d waves", f.ControlPlane, tc.cpNodes, tc.cpWaves)
			}
		})
	}
}

func TestControlPlaneCounts(t *testing.T) {
	f := mustCompute(t, Input{ClusterUpgrade: newCU(maxUnavailable(2), withControlPlane(nil)),
		Nodes: kubeadmCluster(map[string][]nodeOpt{
			"cp-a": {kubelet(target)}, "cp-b": {state("workers", upgradev1alpha1.NodeUpgrading)},
			"a-1": {kubelet(target)}, "c-1": {kubelet("v1.38.0")},
		})})
	want := ControlPlane{Selected: 3, Pending: 1, InFlight: 1, Upgraded: 1, InFlightNodes: []string{"cp-b"}, Waves: 1}
	if f.ControlPlane == nil || !reflect.DeepEqual(*f.ControlPlane, want) {
		t.Fatalf("control plane = %+v, want %+v", f.ControlPlane, want)
	}
	if f.Selected != 6 || f.Pending != 4 || f.Upgraded != 1 || f.Skipped != 1 || f.InFlight != 0 || len(f.InFlightNodes) != 0 {
		t.Fatalf("the workers' counts: %+v", f)
	}
}

func TestControlPlaneFindings(t *testing.T) {
	older := metav1.NewTime(t0)
	half := concurrent(intstr.FromString("50%"))
	pool := func(p string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"pool": p}}
	}
	for _, tc := range []struct {
		name   string
		cu     *upgradev1alpha1.ClusterUpgrade
		nodes  []corev1.Node
		server string
		others []upgradev1alpha1.ClusterUpgrade
		// want are the findings of these kinds, "Severity Kind Subject: message snippet".
		kinds []string
		want  []string
	}{
		{name: "a target newer than the API server is a note: the control plane goes first",
			cu: newCU(half, withControlPlane(nil)), nodes: kubeadmCluster(nil), server: "v1.36.3",
			kinds: []string{KindVersionSkew},
			want: []string{"Note VersionSkew ClusterUpgrade workers: targetVersion v1.37.2 is newer than the API server (v1.36.3): " +
				"the control-plane wave upgrades it first; the workers wait for the API server to report v1.37.2 after it"}},
		{name: "an unreadable API server version still blocks the workers",
			cu: newCU(half, withControlPlane(nil)), nodes: kubeadmCluster(nil), server: "banana",
			kinds: []string{KindVersionSkew},
			want: []string{`Blocker VersionSkew ClusterUpgrade workers: the API server reports version "banana", which is not a semantic version: ` +
				"the workers stall with reason VersionSkew after the control-plane wave"}},
		{name: "a spec.controlPlane.nodeSelector that matches no node blocks everything",
			cu: newCU(half, withControlPlane(pool("none"))), nodes: kubeadmCluster(nil), server: "v1.37.2",
			kinds: []string{KindNoNodes},
			want: []string{`Blocker NoNodes ClusterUpgrade workers: spec.controlPlane.nodeSelector matches no node (selector "pool=none"): ` +
				"the upgrade stalls with reason NoNodes, and nothing starts, workers included"}},
		{name: "control-plane nodes alone are enough: no NoNodes",
			cu:    newCU(half, withControlPlane(nil), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.NodeSelector = pool("none") }),
			nodes: []corev1.Node{node("cp-a", "zone-a", controlPlaneRole())}, server: "v1.37.2",
			kinds: []string{KindNoNodes}},
		{name: "neither selector matches a node",
			cu:    newCU(half, withControlPlane(pool("none")), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.NodeSelector = pool("none") }),
			kinds: []string{KindNoNodes},
			want: []string{`Blocker NoNodes ClusterUpgrade workers: neither spec.nodeSelector (selector "pool=none") ` +
				`nor spec.controlPlane.nodeSelector (selector "pool=none") matches a node`}},
		{name: "an older ClusterUpgrade's control plane conflicts too",
			cu: newCU(half, withControlPlane(nil)), nodes: kubeadmCluster(nil), server: "v1.37.2",
			others: []upgradev1alpha1.ClusterUpgrade{{
				ObjectMeta: metav1.ObjectMeta{Name: "control-plane-first", CreationTimestamp: older},
				Spec: upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: target, NodeSelector: pool("none"),
					ControlPlane: &upgradev1alpha1.ControlPlaneSpec{}},
				Status: upgradev1alpha1.ClusterUpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing},
			}},
			kinds: []string{KindConflict},
			want: []string{"Blocker Conflict ClusterUpgrade control-plane-first: older and unfinished, it also selects 3 nodes: " +
				"workers waits (reason Conflict) until it finishes or is deleted: cp-a, cp-b, cp-c"}},
		{name: "a failed control-plane node halts everything; the workers wait for the control plane",
			cu:    newCU(half, withControlPlane(nil), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.MaxFailedNodes = 5 }),
			nodes: kubeadmCluster(map[string][]nodeOpt{"cp-b": {state("workers", upgradev1alpha1.NodeFailed)}}),
			kinds: []string{KindHalted, KindBudget, KindWaitingForControlPlane},
			want: []string{
				"Blocker Halted ClusterUpgrade workers: control-plane 1 node failed: nothing new starts, control plane or workers (reason ControlPlaneFailed)",
				"Blocker WaitingForControlPlane workers that wait for the control plane (6): the control-plane wave never finishes",
			}},
		{name: "a NotReady control-plane node holds the control plane's slot",
			cu:    newCU(half, withControlPlane(nil)),
			nodes: kubeadmCluster(map[string][]nodeOpt{"cp-b": {notReady()}}),
			kinds: []string{KindNotReady, KindBudget, KindWaitingForControlPlane},
			want: []string{
				"Blocker NotReady node cp-b: NotReady: it is never started while NotReady, and it holds the control plane's only slot",
				"Blocker Budget Ready control-plane nodes that never start (2): the control-plane nodes that are unavailable without being in flight " +
					"(NotReady, failed, or cordoned by someone else: cp-b) hold the control plane's only slot (one control-plane node at a time): cp-a, cp-c",
				"Blocker WaitingForControlPlane workers that wait for the control plane (6)",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes, ServerVersion: tc.server, ClusterUpgrades: tc.others})
			var got []Finding
			for _, x := range f.Findings {
				for _, k := range tc.kinds {
					if x.Kind == k {
						got = append(got, x)
					}
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings of %v = %+v, want %q", tc.kinds, got, tc.want)
			}
			for i, x := range got {
				if line := fmt.Sprintf("%s %s %s: %s", x.Severity, x.Kind, x.Subject, x.Message); !strings.Contains(line, tc.want[i]) {
					t.Fatalf("finding %d:\n got %q\nwant it to hold %q", i, line, tc.want[i])
				}
			}
		})
	}
}

func TestControlPlaneSelectorErrorNamesTheField(t *testing.T) {
	cu := newCU(withControlPlane(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "pool", Operator: "Near"}}}))
	_, err := Compute(Input{ClusterUpgrade: cu, Nodes: kubeadmCluster(nil)})
	if err == nil || !strings.HasPrefix(err.Error(), "spec.controlPlane.nodeSelector: ") {
		t.Fatalf("error = %v", err)
	}
}

// TestControlPlaneWavesFollowTheController checks the waves of random
// worlds with spec.controlPlane against the controller's two plans,
// replayed pass for pass as it makes them: the control plane's (one at a
// time, no failure allowed) and the workers' (held until the control
// plane is done), each pass's starts being the next wave. Each world is
// checked again with a random spec.strategy.canary, which the workers'
// plan carries: its waves marked canary, and the holds of its soak and
// pause, waited out in the replay, on the next wave of the workers.
func TestControlPlaneWavesFollowTheController(t *testing.T) {
	for seed := range 300 {
		rng := rand.New(rand.NewPCG(uint64(seed), 14))
		cu, nodes := randomWorld(rng)
		cu.Spec.ControlPlane = &upgradev1alpha1.ControlPlaneSpec{}
		for i := range nodes {
			n := &nodes[i]
			if rng.IntN(3) != 0 {
				continue
			}
			n.Labels[upgradev1alpha1.ControlPlaneLabel] = ""
			// Mostly a control plane that can finish: a failed or
			// NotReady control-plane node holds every worker.
			if n.Labels[upgradev1alpha1.NodeStateLabel] == string(upgradev1alpha1.NodeFailed) && rng.IntN(5) != 0 {
				delete(n.Labels, upgradev1alpha1.NodeStateLabel)
				n.Spec.Unschedulable = false
			}
			if !nodeview.Ready(n) && rng.IntN(5) != 0 {
				n.Status.Conditions[0].Status = corev1.ConditionTrue
			}
		}
		checkControlPlaneWaves(t, fmt.Sprintf("seed %d", seed), cu, nodes, time.Time{})
		randomCanary(rand.New(rand.NewPCG(uint64(seed), 22)), cu, nodes)
		checkControlPlaneWaves(t, fmt.Sprintf("seed %d with a canary", seed), cu, nodes, t0)
	}
}

// checkControlPlaneWaves checks one world with spec.controlPlane (see
// TestControlPlaneWavesFollowTheController), forecast at now.
func checkControlPlaneWaves(t *testing.T, seed string, cu *upgradev1alpha1.ClusterUpgrade, nodes []corev1.Node, now time.Time) {
	t.Helper()
	f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: nodes, Now: now})
	if f.ControlPlane == nil {
		t.Fatalf("%s: no control plane in the forecast", seed)
	}
	replayed := replayController(t, seed, cu, nodes, f, now)
	if len(replayed) != len(f.Waves) || len(replayed) != f.TotalWaves {
		t.Fatalf("%s: %d waves (%d in all), the controller starts %d: %v", seed, len(f.Waves), f.TotalWaves, len(replayed), replayed)
	}
	cpWaves := 0
	for i, w := range f.Waves {
		if !reflect.DeepEqual(w, replayed[i]) {
			t.Fatalf("%s: wave %+v, the controller starts %+v", seed, w, replayed[i])
		}
		if w.ControlPlane {
			cpWaves++
			if len(w.Nodes) != 1 || i+1 != cpWaves {
				t.Fatalf("%s: control-plane wave %+v is not one node before every worker wave", seed, w)
			}
		}
	}
	if f.ControlPlane.Waves != cpWaves {
		t.Fatalf("%s: ControlPlane.Waves %d, want %d", seed, f.ControlPlane.Waves, cpWaves)
	}
}

// replayController plays the controller's passes on the world from now:
// the plans of both waves, each pass's starts the next wave, until nothing
// is in flight and nothing starts. The workers' plan carries the canary:
// when its soak holds them, time passes until it ends; when its pause
// does, a person sets it to false; the workers' next wave waits for these.
func replayController(t *testing.T, seed string, cu *upgradev1alpha1.ClusterUpgrade, nodes []corev1.Node, f Forecast, now time.Time) []Wave {
	t.Helper()
	tv := version.MustParse(target)
	cpIn := plan.Input{MaxUnavailable: 1}
	wkIn := plan.Input{MaxUnavailable: f.MaxUnavailable, MaxFailedNodes: int(cu.Spec.MaxFailedNodes), Now: now}
	raw := map[string]corev1.Node{}
	for i := range nodes {
		raw[nodes[i].Name] = nodes[i]
		pn := nodeview.PlanNode(&nodes[i], cu, tv)
		if _, ok := nodes[i].Labels[upgradev1alpha1.ControlPlaneLabel]; ok {
			cpIn.Nodes = append(cpIn.Nodes, pn)
		} else {
			wkIn.Nodes = append(wkIn.Nodes, pn)
		}
	}
	if f.ControlPlane.Selected != len(cpIn.Nodes) || f.Selected != len(wkIn.Nodes) {
		t.Fatalf("%s: %d control-plane nodes and %d workers; want %d and %d",
			seed, f.ControlPlane.Selected, f.Selected, len(cpIn.Nodes), len(wkIn.Nodes))
	}
	wkIn.Canary = plan.CanaryOf(cu.Spec.Strategy.Canary, cu.Spec.CanarySoakDuration(), len(wkIn.Nodes))
	checkCanaryNow(t, seed, cu, f, plan.Compute(wkIn))
	var replayed []Wave
	var holds []string
	for range 200 {
		cp := plan.Compute(cpIn)
		wkIn.Held = !cp.Done || cp.Failed > 0
		wk := plan.Compute(wkIn)
		if len(cp.Start) > 0 && len(wk.Start) > 0 {
			t.Fatalf("%s: control-plane nodes %v and workers %v start together", seed, cp.Start, wk.Start)
		}
		if len(cp.Start) > 0 {
			replayed = append(replayed, Wave{Number: len(replayed) + 1, ControlPlane: true, Nodes: cp.Start, Zones: zonesOf(cp.Start, raw)})
		}
		if len(wk.Start) > 0 {
			replayed = append(replayed, Wave{Number: len(replayed) + 1, Nodes: wk.Start, Zones: zonesOf(wk.Start, raw),
				Canary: wk.Canary.Active && wk.Canary.Limit > 0, WaitsFor: holds})
			holds = nil
		}
		waited := false
		switch wk.Canary.Hold {
		case plan.CanarySoaking:
			wkIn.Now, waited = wk.Canary.Until, true
			holds = append(holds, wk.Canary.Hold)
		case plan.CanaryPaused:
			wkIn.Canary.Pause, waited = false, true
			holds = append(holds, wk.Canary.Hold)
		}
		released := finishPass(cpIn.Nodes, cp, raw, now)
		released = finishPass(wkIn.Nodes, wk, raw, wkIn.Now) || released
		if len(cp.Start)+len(wk.Start)+cp.InFlight+wk.InFlight == 0 && !released && !waited {
			break
		}
	}
	return replayed
}

// zonesOf are the zones of the nodes named, in their order, each run of
// one zone once.
func zonesOf(names []string, raw map[string]corev1.Node) []string {
	var out []string
	for _, name := range names {
		if z := raw[name].Labels[upgradev1alpha1.ZoneLabel]; len(out) == 0 || out[len(out)-1] != z {
			out = append(out, z)
		}
	}
	return out
}

// finishPass plays the end of one pass of one wave: its nodes in flight
// and started finish (cordoned again only if an admin had cordoned them),
// and its nodes another ClusterUpgrade has in flight are released. The
// nodes finish at at. It reports whether any was released.
func finishPass(nodes []plan.Node, p plan.Plan, raw map[string]corev1.Node, at time.Time) bool {
	done := map[string]bool{}
	for _, name := range append(p.InFlightNodes, p.Start...) {
		done[name] = true
	}
	released := false
	for i := range nodes {
		n, r := &nodes[i], raw[nodes[i].Name]
		wasCordoned := r.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == "true"
		switch {
		case done[n.Name]:
			stays := n.Unschedulable
			if s := r.Labels[upgradev1alpha1.NodeStateLabel]; s != "" && s != string(upgradev1alpha1.NodeUpgraded) {
				stays = wasCordoned
			}
			n.State, n.AtTarget, n.Newer, n.Ready, n.Unschedulable = upgradev1alpha1.NodeUpgraded, true, false, true, stays
			n.Since = at
		case plan.InFlight(n.HeldElsewhere):
			n.HeldElsewhere, n.Ready, n.Unschedulable = "", true, wasCordoned
			released = true
		}
	}
	return released
}
