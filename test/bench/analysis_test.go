package main

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestAnalyseRollingVersusBarrier(t *testing.T) {
	// Two slots; durations 1, 9, 1, 1 in plan order. Rolling: node 0 ends
	// at 1, node 2 runs 1-2, node 3 runs 2-3, node 1 ends at 9.
	spans := []span{
		{Node: "a", Order: 0, Start: at(0), End: at(1)},
		{Node: "b", Order: 1, Start: at(0), End: at(9)},
		{Node: "c", Order: 2, Start: at(1), End: at(2)},
		{Node: "d", Order: 3, Start: at(2), End: at(3)},
	}
	got := analyse(spans, 2)
	if got.Makespan != 9*time.Second || got.LowerBound != 9*time.Second || got.Ratio != 1 {
		t.Fatalf("rolling: %+v", got)
	}
	// Barrier batches {a, b} then {c, d}: 9 + 1.
	if got.Barrier != 10*time.Second {
		t.Fatalf("barrier = %s, want 10s", got.Barrier)
	}
}

func TestAnalyseLowerBoundIsTheWorkOverTheSlots(t *testing.T) {
	spans := []span{
		{Order: 0, Start: at(0), End: at(4)},
		{Order: 1, Start: at(0), End: at(4)},
		{Order: 2, Start: at(5), End: at(9)}, // a 1 s gap: idle slot
		{Order: 3, Start: at(5), End: at(9)},
	}
	got := analyse(spans, 2)
	if got.LowerBound != 8*time.Second || got.Makespan != 9*time.Second {
		t.Fatalf("%+v", got)
	}
	if got.Ratio != 9.0/8.0 {
		t.Fatalf("ratio = %v", got.Ratio)
	}
}

func TestHandoffs(t *testing.T) {
	spans := []span{
		{Start: at(0), End: at(1)},
		{Start: at(1.25), End: at(3)}, // started 250 ms after the first ended
		{Start: at(3.5), End: at(4)},  // 500 ms after the second
	}
	got := handoffs(spans)
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("handoffs = %v, want %v (the last node's end has no start after it)", got, want)
	}
	if p := percentile(got, 50); p != 250*time.Millisecond {
		t.Fatalf("p50 = %s", p)
	}
	if p := percentile(got, 99); p != 500*time.Millisecond {
		t.Fatalf("p99 = %s", p)
	}
}

func TestDisruptionSummary(t *testing.T) {
	replicas := map[string]int{"a": 10, "b": 4, "empty": 0}
	ended := map[string]int{"a": 10, "b": 6, "gone": 3}
	s := disruptionSummary(replicas, ended)
	if s.Pods != 14 || s.Ended != 16 || s.Workloads != 2 || s.WorkloadsOverOnePerPod != 1 {
		t.Fatalf("summary %+v, want 14 pods, 16 ended, 2 workloads, 1 over one per pod", s)
	}
	if got, want := s.PerPod, 16.0/14; got != want {
		t.Errorf("per pod %v, want %v", got, want)
	}
	if s.Worst != "b" {
		t.Errorf("worst workload %q, want b", s.Worst)
	}
	if s.PerWorkloadMean != 1.25 || s.PerWorkloadMax != 1.5 {
		t.Errorf("per workload mean %v, max %v; want 1.25, 1.5", s.PerWorkloadMean, s.PerWorkloadMax)
	}
}

func TestSplitInFlight(t *testing.T) {
	// 10 s and 30 s in flight: drains 4 + 18, upgrades 5 + 9, the rest 1 + 3.
	spans := []span{
		{Node: "a", Start: at(0), Drained: at(4), Reached: at(9), End: at(10)},
		{Node: "b", Start: at(5), Drained: at(23), Reached: at(32), End: at(35)},
	}
	got := splitInFlight(spans)
	want := shares{Drain: 22.0 / 40, Upgrade: 14.0 / 40, Rest: 4.0 / 40}
	if got != want {
		t.Fatalf("splitInFlight = %+v, want %+v", got, want)
	}
}

func TestLastToFinishAndReentered(t *testing.T) {
	spans := []span{
		{Node: "a", Entries: 1, Start: at(1), Drained: at(2), Reached: at(3), End: at(4)},
		{Node: "late", Entries: 2, Start: at(8), Drained: at(9), Reached: at(10), End: at(12)},
		{Node: "b", Entries: 1, Start: at(1), Drained: at(3), Reached: at(5), End: at(6)},
	}
	got := lastToFinish(spans, 2)
	if len(got) != 2 || got[0].Node != "late" || got[1].Node != "b" {
		t.Fatalf("last to finish = %+v, want late then b", got)
	}
	// Counted from the first cordon (1 s).
	if l := got[0]; l.Start != 7*time.Second || l.Drained != 8*time.Second || l.Reached != 9*time.Second || l.End != 11*time.Second {
		t.Fatalf("late = %+v", l)
	}
	if n := reentered(spans); n != 1 {
		t.Fatalf("reentered = %d, want 1", n)
	}
}
