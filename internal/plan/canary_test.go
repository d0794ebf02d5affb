package plan

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestCanarySize(t *testing.T) {
	for _, tc := range []struct {
		nodes intstr.IntOrString
		total int
		want  int
	}{
		{intstr.FromInt32(3), 100, 3},
		{intstr.FromInt32(3), 2, 3}, // more than there are: all of them go as the canary
		{intstr.FromString("10%"), 100, 10},
		{intstr.FromString("10%"), 15, 2}, // rounded up
		{intstr.FromString("1%"), 5, 1},
		{intstr.FromString("1%"), 0, 1},
	} {
		got, err := CanarySize(&upgradev1alpha1.CanarySpec{Nodes: tc.nodes}, tc.total)
		if err != nil || got != tc.want {
			t.Errorf("CanarySize(%s of %d) = %d, %v; want %d", tc.nodes.String(), tc.total, got, err, tc.want)
		}
	}
}

func TestCanaryStep(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	pending := func(name string) Node { return Node{Name: name, Ready: true} }
	upgraded := func(name string, at time.Time) Node {
		return Node{Name: name, Ready: true, AtTarget: true, State: upgradev1alpha1.NodeUpgraded, Since: at}
	}
	draining := Node{Name: "b", Ready: true, State: upgradev1alpha1.NodeDraining}
	c := Canary{Size: 2, Soak: 10 * time.Minute}
	for _, tc := range []struct {
		name  string
		c     Canary
		nodes []Node
		now   time.Time
		want  CanaryGate
	}{
		{"nothing started", c, []Node{pending("a"), pending("b"), pending("c")}, t0,
			CanaryGate{Active: true, Limit: 2}},
		{"untouched nodes at the target are not the canary", c, []Node{{Name: "x", AtTarget: true, Ready: true}, pending("a")}, t0,
			CanaryGate{Active: true, Limit: 2}},
		{"one started", c, []Node{upgraded("a", t0), pending("b"), pending("c")}, t0,
			CanaryGate{Active: true, Limit: 1, Nodes: []string{"a"}, Upgraded: t0}},
		{"all started, one in flight", c, []Node{upgraded("a", t0), draining, pending("c")}, t0,
			CanaryGate{Active: true, Hold: CanaryRunning, Nodes: []string{"a", "b"}, Upgraded: t0}},
		{"soaking", c, []Node{upgraded("a", t0), upgraded("b", t0.Add(time.Minute)), pending("c")}, t0.Add(5 * time.Minute),
			CanaryGate{Active: true, Hold: CanarySoaking, Nodes: []string{"a", "b"}, Upgraded: t0.Add(time.Minute), Until: t0.Add(11 * time.Minute)}},
		{"soaked", c, []Node{upgraded("a", t0), upgraded("b", t0), pending("c")}, t0.Add(10 * time.Minute),
			CanaryGate{Active: true, Limit: -1, Nodes: []string{"a", "b"}, Upgraded: t0, Until: t0.Add(10 * time.Minute)}},
		{"soaked, paused", Canary{Size: 2, Soak: 0, Pause: true}, []Node{upgraded("a", t0), upgraded("b", t0), pending("c")}, t0,
			CanaryGate{Active: true, Hold: CanaryPaused, Nodes: []string{"a", "b"}, Upgraded: t0, Until: t0}},
		{"a canary node failed", c, []Node{{Name: "a", State: upgradev1alpha1.NodeFailed}, pending("b")}, t0,
			CanaryGate{Active: true, Hold: CanaryFailed, Nodes: []string{"a"}}},
		{"the rest have begun", c, []Node{upgraded("a", t0), upgraded("b", t0), draining, {Name: "d", State: upgradev1alpha1.NodeFailed}}, t0,
			CanaryGate{}},
	} {
		got := CanaryStep(tc.c, tc.nodes, tc.now)
		if got.Active != tc.want.Active || got.Limit != tc.want.Limit || got.Hold != tc.want.Hold ||
			!got.Upgraded.Equal(tc.want.Upgraded) || !got.Until.Equal(tc.want.Until) || len(got.Nodes) != len(tc.want.Nodes) {
			t.Errorf("%s: CanaryStep = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestCanaryOf(t *testing.T) {
	if c := CanaryOf(nil, time.Minute, 10); c != nil {
		t.Fatalf("CanaryOf(nil) = %+v, want nil", c)
	}
	for _, tc := range []struct {
		name    string
		spec    upgradev1alpha1.CanarySpec
		soak    time.Duration
		workers int
		want    Canary
	}{
		{"a count", upgradev1alpha1.CanarySpec{Nodes: intstr.FromInt32(2)}, 10 * time.Minute, 10,
			Canary{Size: 2, Soak: 10 * time.Minute}},
		{"a percentage of the workers, rounded up, with pause", upgradev1alpha1.CanarySpec{Nodes: intstr.FromString("25%"), Pause: true}, 0, 6,
			Canary{Size: 2, Pause: true}},
		{"one that cannot be read (admission refuses it): the smallest canary", upgradev1alpha1.CanarySpec{Nodes: intstr.FromString("many")}, time.Hour, 10,
			Canary{Size: 1, Soak: time.Hour}},
	} {
		got := CanaryOf(&tc.spec, tc.soak, tc.workers)
		if got == nil || *got != tc.want {
			t.Errorf("%s: CanaryOf = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
