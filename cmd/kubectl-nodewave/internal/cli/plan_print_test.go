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
