package cli

import (
	"bytes"
	"strings"
	"testing"

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
