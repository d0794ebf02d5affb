package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/forecast"
)

func TestPrintPlanWithoutWaves(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    forecast.Forecast
		want string
	}{
		{"done", forecast.Forecast{Upgraded: 3}, "No wave: every selected node is done."},
		{"the last nodes in flight", forecast.Forecast{InFlight: 2, InFlightNodes: []string{"a", "b"}},
			"No wave: nothing is left to start beyond the nodes in flight."},
		{"stuck", forecast.Forecast{Pending: 2, NeverStarted: []string{"a", "b"}}, "No wave: no node can start (see the blockers)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printPlan(&out, tc.f, "", false); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "\n"+tc.want+"\n") {
				t.Fatalf("output lacks %q:\n%s", tc.want, out.String())
			}
			if !strings.Contains(out.String(), "Blockers: none foreseen") {
				t.Fatalf("output does not say there are no blockers:\n%s", out.String())
			}
		})
	}
}

func TestPrintPlanShortensLongWavesUnlessWide(t *testing.T) {
	nodes := []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"}
	f := forecast.Forecast{Strategy: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: 8, Selected: 8, Pending: 8, TotalWaves: 1,
		Waves: []forecast.Wave{{Number: 1, Nodes: nodes, Zones: []string{""}}}}
	var out bytes.Buffer
	if err := printPlan(&out, f, "", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1      8       -       n1, n2, n3, n4, n5, n6 and 2 more\n") {
		t.Fatalf("a long wave is not shortened:\n%s", out.String())
	}
	out.Reset()
	if err := printPlan(&out, f, "", true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "n1, n2, n3, n4, n5, n6, n7, n8\n") {
		t.Fatalf("wide output shortens a wave:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Concurrent: up to 8 of 8 selected nodes unavailable at once") {
		t.Fatalf("no budget line:\n%s", out.String())
	}
}

func TestPrintPlanMarksTheControlPlaneWaves(t *testing.T) {
	f := forecast.Forecast{Name: "cluster", TargetVersion: "v1.38.0", Strategy: upgradev1alpha1.ConcurrentStrategy,
		MaxUnavailable: 2, Selected: 4, Pending: 3, InFlight: 1, InFlightNodes: []string{"w-1"}, TotalWaves: 5,
		ControlPlane: &forecast.ControlPlane{Selected: 3, Pending: 3, Waves: 3},
		Waves: []forecast.Wave{
			{Number: 1, ControlPlane: true, Nodes: []string{"cp-a"}, Zones: []string{"zone-a"}},
			{Number: 2, ControlPlane: true, Nodes: []string{"cp-b"}, Zones: []string{"zone-b"}},
			{Number: 3, ControlPlane: true, Nodes: []string{"cp-c"}, Zones: []string{"zone-c"}},
			{Number: 4, Nodes: []string{"w-2", "w-3"}, Zones: []string{"zone-a", "zone-b"}},
		}}
	var out bytes.Buffer
	if err := printPlan(&out, f, "", false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ClusterUpgrade cluster: target v1.38.0, Concurrent: up to 2 of 4 worker nodes unavailable at once\n",
		"Control plane first (spec.controlPlane): 3 nodes, one at a time; the workers start once every one is at the target\n",
		"Control-plane nodes now: 3 pending, 0 in flight, 0 upgraded, 0 failed, 0 skipped\n",
		"Worker nodes now: 3 pending, 1 in flight, 0 upgraded, 0 failed, 0 skipped\n",
		"In flight now: w-1 ",
		"WAVE   ROLE            NODES   ZONES           NAMES\n" +
			"1      control-plane   1       zone-a          cp-a\n" +
			"2      control-plane   1       zone-b          cp-b\n" +
			"3      control-plane   1       zone-c          cp-c\n" +
			"4      worker          2       zone-a,zone-b   w-2, w-3\n",
		"5 waves in all, the first 4 shown (--waves).",
		"Waves 1 to 3 are the control plane's, one node each; the workers' waves start once every control-plane node is at the target.\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	f = forecast.Forecast{Pending: 2, NeverStarted: []string{"w-1", "w-2"}, ControlPlane: &forecast.ControlPlane{Selected: 1, Failed: 1}}
	out.Reset()
	if err := printPlan(&out, f, "", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "No wave: no node can start (see the blockers).") || strings.Contains(out.String(), "ROLE") {
		t.Errorf("a halted control plane:\n%s", out.String())
	}
}

func TestPrintPlanWithoutControlPlaneHasNoRole(t *testing.T) {
	f := forecast.Forecast{Strategy: upgradev1alpha1.SequentialStrategy, Selected: 2, Pending: 2, TotalWaves: 2,
		Waves: []forecast.Wave{{Number: 1, Nodes: []string{"a"}, Zones: []string{""}}, {Number: 2, Nodes: []string{"b"}, Zones: []string{""}}}}
	var out bytes.Buffer
	if err := printPlan(&out, f, "", false); err != nil {
		t.Fatal(err)
	}
	for _, unwanted := range []string{"ROLE", "control plane", "Control", "worker"} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("output without spec.controlPlane shows %q:\n%s", unwanted, out.String())
		}
	}
	if !strings.Contains(out.String(), "Sequential: 1 of 2 selected nodes at a time\nNodes now: 2 pending,") {
		t.Errorf("the header changed:\n%s", out.String())
	}
}

func TestPrintPlanShowsTheCanary(t *testing.T) {
	f := forecast.Forecast{Name: "workers", TargetVersion: "v1.37.2", Strategy: upgradev1alpha1.ConcurrentStrategy,
		MaxUnavailable: 3, Selected: 6, Pending: 6, TotalWaves: 3,
		Canary: &forecast.Canary{Size: 2, SoakDuration: metav1.Duration{Duration: 30 * time.Minute}, Pause: true, Waves: 1},
		Waves: []forecast.Wave{
			{Number: 1, Canary: true, Nodes: []string{"a-1", "a-2"}, Zones: []string{"zone-a"}},
			{Number: 2, Nodes: []string{"a-3", "b-1", "b-2"}, Zones: []string{"zone-a", "zone-b"},
				WaitsFor: []string{upgradev1alpha1.ReasonCanarySoaking, upgradev1alpha1.ReasonCanaryPaused}},
			{Number: 3, Nodes: []string{"c-1"}, Zones: []string{"zone-c"}},
		}}
	var out bytes.Buffer
	if err := printPlan(&out, f, "", false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Order: zone by zone (nodes without a zone first), then by name\n" +
			"Canary (spec.strategy.canary): the first 2 of the 6 selected nodes go alone; the rest start once every canary node " +
			"is upgraded and has soaked 30m0s, and spec.strategy.canary.pause is false\n\n",
		"WAVE   ROLE     NODES   ZONES           NAMES\n" +
			"1      canary   2       zone-a          a-1, a-2\n" +
			"-      soak     -       -               the rest wait 30m0s once every canary node is upgraded (CanarySoaking)\n" +
			"-      pause    -       -               the rest wait for spec.strategy.canary.pause: false (CanaryPaused); the waves below are what happens then\n" +
			"2      worker   3       zone-a,zone-b   a-3, b-1, b-2\n" +
			"3      worker   1       zone-c          c-1\n" +
			"3 waves in all.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Canary now") {
		t.Errorf("a canary not begun has no \"Canary now\" line:\n%s", out.String())
	}
}

func TestPrintPlanSaysWhereTheCanaryStands(t *testing.T) {
	last, until := time.Date(2026, 11, 26, 11, 50, 0, 0, time.UTC), time.Date(2026, 11, 26, 12, 20, 0, 0, time.UTC)
	soak := metav1.Duration{Duration: 30 * time.Minute}
	for _, tc := range []struct {
		name string
		c    forecast.Canary
		want []string
	}{
		{"running", forecast.Canary{Size: 2, SoakDuration: soak, Hold: upgradev1alpha1.ReasonCanaryRunning, Nodes: []string{"a-1", "a-2"}},
			[]string{"Canary now: running (CanaryRunning): a-1, a-2 started, not every one upgraded yet; the rest wait for them\n",
				"-      soak     -       -        the rest wait 30m0s once every canary node is upgraded (CanarySoaking)\n"}},
		{"soaking", forecast.Canary{Size: 2, SoakDuration: soak, Hold: upgradev1alpha1.ReasonCanarySoaking, Nodes: []string{"a-1", "a-2"},
			LastUpgraded: &last, SoakUntil: &until},
			[]string{"Canary now: soaking (CanarySoaking): a-1, a-2 upgraded, the last at 2026-11-26T11:50:00Z; the rest start after its soak, at 2026-11-26T12:20:00Z\n",
				"-      soak     -       -        the rest wait for the canary's soak, until 2026-11-26T12:20:00Z (CanarySoaking)\n"}},
		{"paused", forecast.Canary{Size: 2, SoakDuration: soak, Pause: true, Hold: upgradev1alpha1.ReasonCanaryPaused, Nodes: []string{"a-1", "a-2"},
			LastUpgraded: &last, SoakUntil: &until},
			[]string{"Canary now: paused (CanaryPaused): a-1, a-2 upgraded and soaked; the rest wait for spec.strategy.canary.pause: false\n"}},
		{"half started", forecast.Canary{Size: 2, SoakDuration: soak, Nodes: []string{"a-1"}},
			[]string{"Canary now: 1 of 2 started: a-1; the canary's first wave starts the rest of it\n"}},
		{"soaked", forecast.Canary{Size: 2, SoakDuration: soak, Nodes: []string{"a-1", "a-2"}, LastUpgraded: &last, SoakUntil: &until},
			[]string{"Canary now: upgraded and soaked: a-1, a-2; the rest start now\n"}},
		{"done", forecast.Canary{Size: 1, SoakDuration: soak, Done: true},
			[]string{"Canary (spec.strategy.canary): the first 1 of the 6 selected nodes goes alone; the rest start once every canary node is upgraded and has soaked 30m0s\n" +
				"Canary now: done: the rest have begun\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := forecast.Forecast{Strategy: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: 3, Selected: 6, Pending: 4, TotalWaves: 1,
				Canary: &tc.c, Waves: []forecast.Wave{{Number: 1, Nodes: []string{"b-1"}, Zones: []string{"zone-b"}}}}
			if tc.c.Hold == upgradev1alpha1.ReasonCanaryRunning || tc.c.Hold == upgradev1alpha1.ReasonCanarySoaking {
				f.Waves[0].WaitsFor = []string{upgradev1alpha1.ReasonCanarySoaking}
			}
			var out bytes.Buffer
			if err := printPlan(&out, f, "", false); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestPrintPlanListsGatesAndHooksUnderTheHeader(t *testing.T) {
	f := forecast.Forecast{Pending: 1, Gates: []string{"no alert matching \".*\" firing in http://prom"},
		Hooks: []string{"pre-drain hook ceph-noout holds 1 node until its annotation pre-drain.hook.upgrade.nodewave.io/ceph-noout is removed: w-1"}}
	var out bytes.Buffer
	if err := printPlan(&out, f, "", false); err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(out.String(), "\n\n")
	for _, want := range []string{"Gate before each start (spec.health): no alert", "Hook: pre-drain hook ceph-noout holds 1 node"} {
		if !strings.Contains(header, want) {
			t.Errorf("the header lacks %q:\n%s", want, out.String())
		}
	}
}
