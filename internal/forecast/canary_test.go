package forecast

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// withCanary sets spec.strategy.canary: nodes, a soak (nil: the
// default), pause.
func withCanary(nodes intstr.IntOrString, soak *time.Duration, pause bool) cuOpt {
	return func(cu *upgradev1alpha1.ClusterUpgrade) {
		cu.Spec.Strategy.Canary = &upgradev1alpha1.CanarySpec{Nodes: nodes, Pause: pause}
		if soak != nil {
			cu.Spec.Strategy.Canary.SoakDuration = &metav1.Duration{Duration: *soak}
		}
	}
}

// since says the node entered its state ago before t0 (after state).
func since(ago time.Duration) nodeOpt {
	return func(n *corev1.Node) {
		n.Annotations[upgradev1alpha1.StateSinceAnnotation] = t0.Add(-ago).Format(time.RFC3339)
	}
}

// sixWorkers are six workers in three zones, listed out of plan order.
func sixWorkers(opts map[string][]nodeOpt) []corev1.Node {
	out := make([]corev1.Node, 0, 6)
	for _, nz := range [][2]string{{"c-1", "zone-c"}, {"a-2", "zone-a"}, {"b-1", "zone-b"}, {"a-1", "zone-a"}, {"b-2", "zone-b"}, {"a-3", "zone-a"}} {
		out = append(out, node(nz[0], nz[1], opts[nz[0]]...))
	}
	return out
}

func TestCanaryWaves(t *testing.T) {
	one, pct := intstr.FromInt32(1), intstr.FromString("25%")
	noSoak, halfHour := time.Duration(0), 30*time.Minute
	soak, pause := []string{plan.CanarySoaking}, []string{plan.CanarySoaking, plan.CanaryPaused}
	// wave is a wave's nodes, whether it is the canary's, and the holds it
	// waits for.
	type wave struct {
		nodes    []string
		canary   bool
		waitsFor []string
	}
	cn := func(names ...string) wave { return wave{names, true, nil} }
	rest := func(waitsFor []string, names ...string) wave { return wave{names, false, waitsFor} }
	for _, tc := range []struct {
		name  string
		cu    *upgradev1alpha1.ClusterUpgrade
		nodes []corev1.Node
		limit int
		want  []wave
		total int
		// now is where the canary stands now: Forecast.Canary less its
		// spec.
		now   Canary
		never []string
	}{
		{name: "one node alone, the soak (default 10m), then the rest by the budget",
			cu: newCU(maxUnavailable(3), withCanary(one, nil, false)), nodes: sixWorkers(nil),
			want:  []wave{cn("a-1"), rest(soak, "a-2", "a-3", "b-1"), rest(nil, "b-2", "c-1")},
			total: 3, now: Canary{Size: 1, Waves: 1}},
		{name: "25% of six workers is two, rounded up; pause holds the rest after the soak",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, true)), nodes: sixWorkers(nil),
			want:  []wave{cn("a-1", "a-2"), rest(pause, "a-3", "b-1", "b-2"), rest(nil, "c-1")},
			total: 3, now: Canary{Size: 2, Waves: 1}},
		{name: "a canary larger than the budget takes several waves, all the canary's",
			cu: newCU(maxUnavailable(2), withCanary(intstr.FromInt32(3), nil, false)), nodes: sixWorkers(nil),
			want:  []wave{cn("a-1", "a-2"), cn("a-3"), rest(soak, "b-1", "b-2"), rest(nil, "c-1")},
			total: 4, now: Canary{Size: 3, Waves: 2}},
		{name: "soakDuration 0s: no soak, the rest wait only for the canary to be upgraded",
			cu: newCU(maxUnavailable(3), withCanary(one, &noSoak, false)), nodes: sixWorkers(nil),
			want:  []wave{cn("a-1"), rest(nil, "a-2", "a-3", "b-1"), rest(nil, "b-2", "c-1")},
			total: 3, now: Canary{Size: 1, Waves: 1}},
		{name: "soakDuration 0s with pause: the pause alone",
			cu: newCU(maxUnavailable(3), withCanary(one, &noSoak, true)), nodes: sixWorkers(nil),
			want:  []wave{cn("a-1"), rest([]string{plan.CanaryPaused}, "a-2", "a-3", "b-1"), rest(nil, "b-2", "c-1")},
			total: 3, now: Canary{Size: 1, Waves: 1}},
		{name: "a canary of every worker: canary waves only, no hold",
			cu: newCU(maxUnavailable(3), withCanary(intstr.FromInt32(10), nil, true)), nodes: sixWorkers(nil),
			want:  []wave{cn("a-1", "a-2", "a-3"), cn("b-1", "b-2", "c-1")},
			total: 2, now: Canary{Size: 10, Waves: 2}},
		{name: "the limit keeps the first waves and counts the canary's",
			cu: newCU(maxUnavailable(2), withCanary(intstr.FromInt32(3), nil, false)), nodes: sixWorkers(nil), limit: 1,
			want:  []wave{cn("a-1", "a-2")},
			total: 4, now: Canary{Size: 3, Waves: 2}},
		{name: "the canary under way: one upgraded, one draining; the rest wait for both, then the soak",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, false)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(5 * time.Minute)},
				"a-2": {state("workers", upgradev1alpha1.NodeDraining), since(time.Minute)},
			}),
			want:  []wave{rest(soak, "a-3", "b-1", "b-2"), rest(nil, "c-1")},
			total: 2, now: Canary{Size: 2, Hold: plan.CanaryRunning, Nodes: []string{"a-1", "a-2"}}},
		{name: "the canary half started: the first wave finishes it",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, false)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(5 * time.Minute)},
			}),
			want:  []wave{cn("a-2"), rest(soak, "a-3", "b-1", "b-2"), rest(nil, "c-1")},
			total: 3, now: Canary{Size: 2, Nodes: []string{"a-1"}, Waves: 1}},
		{name: "soaking now: the rest wait until the last canary node's upgrade plus the soak",
			cu: newCU(maxUnavailable(3), withCanary(pct, &halfHour, false)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(20 * time.Minute)},
				"a-2": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(10 * time.Minute)},
			}),
			want:  []wave{rest(soak, "a-3", "b-1", "b-2"), rest(nil, "c-1")},
			total: 2, now: Canary{Size: 2, Hold: plan.CanarySoaking, Nodes: []string{"a-1", "a-2"},
				LastUpgraded: ptrTo(t0.Add(-10 * time.Minute)), SoakUntil: ptrTo(t0.Add(20 * time.Minute))}},
		{name: "paused now: the rest wait for a person",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, true)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(40 * time.Minute)},
				"a-2": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(30 * time.Minute)},
			}),
			want:  []wave{rest([]string{plan.CanaryPaused}, "a-3", "b-1", "b-2"), rest(nil, "c-1")},
			total: 2, now: Canary{Size: 2, Hold: plan.CanaryPaused, Nodes: []string{"a-1", "a-2"},
				LastUpgraded: ptrTo(t0.Add(-30 * time.Minute)), SoakUntil: ptrTo(t0.Add(-20 * time.Minute))}},
		{name: "the rest have begun: the canary holds nothing",
			cu: newCU(maxUnavailable(3), withCanary(one, nil, true)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(40 * time.Minute)},
				"a-2": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(time.Minute)},
			}),
			want:  []wave{rest(nil, "a-3", "b-1", "b-2"), rest(nil, "c-1")},
			total: 2, now: Canary{Size: 1, Done: true}},
		{name: "a canary node failed: nothing more starts, whatever maxFailedNodes says",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, false), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.MaxFailedNodes = 3 }),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeFailed), since(time.Minute)},
			}),
			never: []string{"a-2", "a-3", "b-1", "b-2", "c-1"},
			now:   Canary{Size: 2, Hold: plan.CanaryFailed, Nodes: []string{"a-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes, Waves: tc.limit, Now: t0})
			got := make([]wave, 0, len(f.Waves))
			for i, w := range f.Waves {
				got = append(got, wave{w.Nodes, w.Canary, w.WaitsFor})
				if w.Number != i+1 {
					t.Fatalf("wave %d is numbered %d", i+1, w.Number)
				}
			}
			if !reflect.DeepEqual(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
				t.Fatalf("waves = %+v, want %+v", got, tc.want)
			}
			if f.TotalWaves != tc.total {
				t.Fatalf("TotalWaves = %d, want %d", f.TotalWaves, tc.total)
			}
			if !equal(f.NeverStarted, tc.never) {
				t.Fatalf("never started = %v, want %v", f.NeverStarted, tc.never)
			}
			if f.Canary == nil {
				t.Fatal("no canary in the forecast")
			}
			c := *f.Canary
			c.SoakDuration, c.Pause = metav1.Duration{}, false
			if !reflect.DeepEqual(c, tc.now) {
				t.Fatalf("canary = %+v, want %+v", c, tc.now)
			}
			if want := tc.cu.Spec.CanarySoakDuration(); f.Canary.SoakDuration.Duration != want || f.Canary.Pause != tc.cu.Spec.Strategy.Canary.Pause {
				t.Fatalf("canary soak %s, pause %v; want %s, %v", f.Canary.SoakDuration.Duration, f.Canary.Pause, want, tc.cu.Spec.Strategy.Canary.Pause)
			}
		})
	}
}

func TestCanaryWithControlPlane(t *testing.T) {
	f := mustCompute(t, Input{ClusterUpgrade: newCU(maxUnavailable(3), withControlPlane(nil), withCanary(intstr.FromString("50%"), nil, true)),
		Nodes: kubeadmCluster(nil), Now: t0})
	type wave struct {
		nodes                []string
		controlPlane, canary bool
		waitsFor             []string
	}
	got := make([]wave, 0, len(f.Waves))
	for _, w := range f.Waves {
		got = append(got, wave{w.Nodes, w.ControlPlane, w.Canary, w.WaitsFor})
	}
	// The control plane is not part of the canary: 50% of the six workers.
	want := []wave{
		{[]string{"cp-a"}, true, false, nil}, {[]string{"cp-b"}, true, false, nil}, {[]string{"cp-c"}, true, false, nil},
		{[]string{"a-1", "a-2", "a-3"}, false, true, nil},
		{[]string{"b-1", "b-2", "c-1"}, false, false, []string{plan.CanarySoaking, plan.CanaryPaused}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("waves = %+v, want %+v", got, want)
	}
	if f.Canary == nil || f.Canary.Size != 3 || f.Canary.Waves != 1 || f.ControlPlane.Waves != 3 {
		t.Fatalf("canary %+v, control plane %+v", f.Canary, f.ControlPlane)
	}
}

func TestCanaryFindings(t *testing.T) {
	pct := intstr.FromString("25%")
	for _, tc := range []struct {
		name  string
		cu    *upgradev1alpha1.ClusterUpgrade
		nodes []corev1.Node
		// want are the findings of the canary's kinds and of KindBudget
		// and KindHalted, "Severity Kind Subject: message".
		want []string
	}{
		{name: "no finding without pause", cu: newCU(maxUnavailable(3), withCanary(pct, nil, false)), nodes: sixWorkers(nil)},
		{name: "pause is a note",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, true)), nodes: sixWorkers(nil),
			want: []string{"Note CanaryPaused ClusterUpgrade workers: spec.strategy.canary.pause is true: once every canary node is upgraded " +
				"and has soaked, the rest wait (phase Paused, reason CanaryPaused) until it is set to false; the waves after the pause are what happens then"}},
		{name: "paused now",
			cu: newCU(maxUnavailable(3), withCanary(intstr.FromInt32(1), nil, true)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(time.Hour)},
			}),
			want: []string{"Note CanaryPaused ClusterUpgrade workers: spec.strategy.canary.pause is true and the canary has soaked: " +
				"the rest wait now (phase Paused, reason CanaryPaused) until it is set to false; the waves are what happens then"}},
		{name: "no pause note once the rest have begun",
			cu: newCU(maxUnavailable(3), withCanary(intstr.FromInt32(1), nil, true)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeUpgraded), kubelet(target), since(time.Hour)},
				"a-2": {state("workers", upgradev1alpha1.NodeDraining), since(time.Minute)},
			})},
		{name: "a failed canary node is a blocker, and the nodes it holds have no Budget finding of their own",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, true), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.MaxFailedNodes = 3 }),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeFailed), since(time.Minute)},
			}),
			want: []string{"Blocker CanaryFailed ClusterUpgrade workers: canary 1 node failed (spec.strategy.canary): the rest do not start, " +
				"whatever spec.maxFailedNodes says (phase Failed, reason CanaryFailed), until it is repaired and retried " +
				"(remove its upgrade.nodewave.io/state label) or the spec changes: a-1"}},
		{name: "more failures than maxFailedNodes: the halt alone",
			cu: newCU(maxUnavailable(3), withCanary(pct, nil, false)),
			nodes: sixWorkers(map[string][]nodeOpt{
				"a-1": {state("workers", upgradev1alpha1.NodeFailed), since(time.Minute)},
			}),
			want: []string{"Blocker Halted ClusterUpgrade workers: 1 node failed, more than spec.maxFailedNodes 0 allows: nothing new starts " +
				"until they are retried (remove their upgrade.nodewave.io/state label) or the spec changes: a-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes, Now: t0})
			var got []string
			for _, x := range f.Findings {
				switch x.Kind {
				case KindCanaryFailed, KindCanaryPaused, KindBudget, KindHalted:
					got = append(got, string(x.Severity)+" "+x.Kind+" "+x.Subject+": "+x.Message)
				}
			}
			if !equal(got, tc.want) {
				t.Fatalf("findings:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

func ptrTo(t time.Time) *time.Time { return &t }

func TestOrderWords(t *testing.T) {
	one := intstr.FromInt32(1)
	for _, tc := range []struct {
		spec upgradev1alpha1.ClusterUpgradeSpec
		want string
	}{
		{upgradev1alpha1.ClusterUpgradeSpec{}, DefaultOrder},
		{upgradev1alpha1.ClusterUpgradeSpec{Strategy: upgradev1alpha1.UpgradeStrategy{Zones: &upgradev1alpha1.ZoneStrategy{
			TopologyKey: "example.com/rack", MaxUnavailable: &one, OneAtATime: true}}},
			"zone by zone (zones by example.com/rack; at most 1 unavailable per zone; one zone at a time; nodes without a zone first), then by name"},
		{upgradev1alpha1.ClusterUpgradeSpec{Priority: &upgradev1alpha1.PrioritySpec{Annotation: "prio"}},
			"by priority (annotation prio, lower first; 0 without it), then " + DefaultOrder},
	} {
		if got := orderWords(&upgradev1alpha1.ClusterUpgrade{Spec: tc.spec}); got != tc.want {
			t.Errorf("orderWords(%+v)\n got %q\nwant %q", tc.spec, got, tc.want)
		}
	}
}
