package controller

import (
	"testing"
	"time"

	"github.com/nodewave/nodewave/internal/plan"
)

func TestWorkloadReadsServeOnlyRecentReadsMadeAfterTheDrain(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	var m workloadReads
	web := plan.Workload{Name: "ReplicaSet/shop/web", Drained: t0}
	if _, ok := m.recent("cu", web, t0); ok {
		t.Fatal("a read served before any was made")
	}
	read := web
	read.Desired, read.Ready = 3, 2
	m.keep("cu", []workloadRead{{at: t0.Add(100 * time.Millisecond), w: read}})

	got, ok := m.recent("cu", web, t0.Add(500*time.Millisecond))
	if !ok || got.w.Ready != 2 || got.w.Desired != 3 {
		t.Fatalf("a read 400 ms old was not served: %+v %v", got, ok)
	}
	if _, ok := m.recent("other", web, t0.Add(500*time.Millisecond)); ok {
		t.Fatal("another ClusterUpgrade's read was served")
	}
	// Reused in a later judgement: it keeps the time it was read, so it
	// expires a second after that, not after its last use.
	m.keep("cu", []workloadRead{got})
	if _, ok := m.recent("cu", web, t0.Add(1100*time.Millisecond)); ok {
		t.Fatal("a read a second old was served")
	}
	// A drain that ended after the read: the read cannot know of its evictions.
	later := plan.Workload{Name: web.Name, Drained: t0.Add(300 * time.Millisecond)}
	if _, ok := m.recent("cu", later, t0.Add(400*time.Millisecond)); ok {
		t.Fatal("a read made before the drain ended was served")
	}
	m.forget("cu")
	if _, ok := m.recent("cu", web, t0.Add(200*time.Millisecond)); ok {
		t.Fatal("a forgotten ClusterUpgrade's read was served")
	}
}
