package main

import (
	"math"
	"strings"
	"testing"

	"github.com/nodewave/nodewave/internal/metrics"
)

func TestQuantileInterpolatesAsHistogramQuantile(t *testing.T) {
	inf := math.Inf(1)
	h := []bucket{{1, 0}, {2, 2}, {4, 6}, {8, 10}, {inf, 10}}
	overflow := []bucket{{1, 0}, {2, 2}, {4, 6}, {8, 10}, {inf, 12}}
	low := []bucket{{1, 4}, {2, 8}, {inf, 8}}
	for _, c := range []struct {
		name    string
		q       float64
		buckets []bucket
		want    float64
	}{
		{"median inside (2,4]", 0.5, h, 3.5},
		{"p90 inside (4,8]", 0.9, h, 7},
		{"the maximum is the top of its bucket", 1, h, 8},
		{"a rank in +Inf is the last finite bound", 0.95, overflow, 8},
		{"the lowest bucket starts at 0", 0.25, low, 0.5},
	} {
		if got := quantile(c.q, c.buckets); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: quantile(%v) = %v, want %v", c.name, c.q, got, c.want)
		}
	}
	if got := quantile(0.5, []bucket{{1, 0}, {inf, 0}}); !math.IsNaN(got) {
		t.Errorf("quantile of an empty histogram = %v, want NaN", got)
	}
}

func TestParseSampleSumsOverClusterUpgrades(t *testing.T) {
	s, err := parseSample(strings.NewReader(`
# TYPE nodewave_nodes gauge
nodewave_nodes{cluster_upgrade="a",state="draining"} 2
nodewave_nodes{cluster_upgrade="b",state="draining"} 1
nodewave_nodes{cluster_upgrade="a",state="upgraded"} 5
# TYPE nodewave_evictions_total counter
nodewave_evictions_total{result="blocked"} 7
# TYPE nodewave_node_upgrade_duration_seconds histogram
nodewave_node_upgrade_duration_seconds_bucket{step="drain",le="1"} 1
nodewave_node_upgrade_duration_seconds_bucket{step="drain",le="2"} 3
nodewave_node_upgrade_duration_seconds_bucket{step="drain",le="+Inf"} 4
nodewave_node_upgrade_duration_seconds_sum{step="drain"} 9
nodewave_node_upgrade_duration_seconds_count{step="drain"} 4
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Nodes["draining"] != 3 || s.Nodes["upgraded"] != 5 {
		t.Errorf("nodes %v, want draining 3 and upgraded 5", s.Nodes)
	}
	if s.Evictions["blocked"] != 7 {
		t.Errorf("evictions %v, want blocked 7", s.Evictions)
	}
	drain := s.Steps["drain"]
	if len(drain) != 3 || !math.IsInf(drain[2].UpperBound, 1) || drain[2].Count != 4 || drain[1].Count != 3 {
		t.Errorf("drain buckets %v, want le 1, 2, +Inf with 1, 3, 4", drain)
	}
}

// TestEveryStateHasAColour: a state added to metrics.States without a
// colour here made plotTimeline index past stateColors, and a 5,000-node
// run panicked after its upgrade, before writing its results.
func TestEveryStateHasAColour(t *testing.T) {
	if len(stateColors) != len(metrics.States) {
		t.Fatalf("%d state colours for %d states (%v)", len(stateColors), len(metrics.States), metrics.States)
	}
}
