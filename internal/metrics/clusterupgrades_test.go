package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC) // 1777888800

func TestClusterUpgradeCollectorPublishesStatusAndNodes(t *testing.T) {
	c := NewClusterUpgradeCollector()
	c.SetStatus("workers", UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, DrainTimeout: 5 * time.Minute})
	c.SetNodes("workers", NodeSummary{
		Counts:         map[string]int{StatePending: 3, "draining": 1, "upgrading": 1, "upgraded": 5},
		InFlight:       []InFlightNode{{Name: "n1", State: "draining", Since: t0}, {Name: "n2", State: "upgrading", Since: t0.Add(1500 * time.Millisecond)}},
		LastTransition: t0.Add(1500 * time.Millisecond),
	})
	expect(t, c, `
# HELP nodewave_cluster_upgrade_drain_timeout_seconds Each ClusterUpgrade's spec.drain.timeout: how long one node may take to drain.
# TYPE nodewave_cluster_upgrade_drain_timeout_seconds gauge
nodewave_cluster_upgrade_drain_timeout_seconds{cluster_upgrade="workers"} 300
# HELP nodewave_cluster_upgrade_gated 1 while a gate of a ClusterUpgrade's spec.health holds its new starts (its Gated condition is True), with the gate; 0 otherwise.
# TYPE nodewave_cluster_upgrade_gated gauge
nodewave_cluster_upgrade_gated{cluster_upgrade="workers",gate=""} 0
# HELP nodewave_cluster_upgrade_last_transition_timestamp_seconds Unix time at which a node of each ClusterUpgrade last changed state.
# TYPE nodewave_cluster_upgrade_last_transition_timestamp_seconds gauge
nodewave_cluster_upgrade_last_transition_timestamp_seconds{cluster_upgrade="workers"} 1.7778888015e+09
# HELP nodewave_cluster_upgrade_phase 1 for the phase each ClusterUpgrade is in (status.phase), 0 for the others.
# TYPE nodewave_cluster_upgrade_phase gauge
nodewave_cluster_upgrade_phase{cluster_upgrade="workers",phase="Failed"} 0
nodewave_cluster_upgrade_phase{cluster_upgrade="workers",phase="Paused"} 0
nodewave_cluster_upgrade_phase{cluster_upgrade="workers",phase="Pending"} 0
nodewave_cluster_upgrade_phase{cluster_upgrade="workers",phase="Progressing"} 1
nodewave_cluster_upgrade_phase{cluster_upgrade="workers",phase="Succeeded"} 0
# HELP nodewave_cluster_upgrade_stalled 1 while a ClusterUpgrade's Stalled condition is True (only a human can unblock it), with its reason; 0 otherwise.
# TYPE nodewave_cluster_upgrade_stalled gauge
nodewave_cluster_upgrade_stalled{cluster_upgrade="workers",reason=""} 0
# HELP nodewave_node_state_since_timestamp_seconds Unix time at which each node in flight entered its current state; only nodes in flight have a series.
# TYPE nodewave_node_state_since_timestamp_seconds gauge
nodewave_node_state_since_timestamp_seconds{cluster_upgrade="workers",node="n1",state="draining"} 1.7778888e+09
nodewave_node_state_since_timestamp_seconds{cluster_upgrade="workers",node="n2",state="upgrading"} 1.7778888015e+09
# HELP nodewave_nodes Selected nodes of each ClusterUpgrade, by state (pending, cordoned, draining, upgrading, verifying, upgraded, failed, blocked, skipped).
# TYPE nodewave_nodes gauge
nodewave_nodes{cluster_upgrade="workers",state="blocked"} 0
nodewave_nodes{cluster_upgrade="workers",state="cordoned"} 0
nodewave_nodes{cluster_upgrade="workers",state="draining"} 1
nodewave_nodes{cluster_upgrade="workers",state="failed"} 0
nodewave_nodes{cluster_upgrade="workers",state="pending"} 3
nodewave_nodes{cluster_upgrade="workers",state="skipped"} 0
nodewave_nodes{cluster_upgrade="workers",state="upgraded"} 5
nodewave_nodes{cluster_upgrade="workers",state="upgrading"} 1
nodewave_nodes{cluster_upgrade="workers",state="verifying"} 0
`)
}

func TestClusterUpgradeCollectorReplacesAPassAtOnce(t *testing.T) {
	c := NewClusterUpgradeCollector()
	c.SetNodes("workers", NodeSummary{
		Counts:   map[string]int{"draining": 2},
		InFlight: []InFlightNode{{Name: "n1", State: "draining", Since: t0}, {Name: "n2", State: "draining", Since: t0}},
	})
	// The next pass: n1 moved on, n2 finished and left flight.
	c.SetNodes("workers", NodeSummary{
		Counts:   map[string]int{"upgrading": 1, "upgraded": 1},
		InFlight: []InFlightNode{{Name: "n1", State: "upgrading", Since: t0.Add(time.Minute)}},
	})
	expect(t, c, `
# HELP nodewave_node_state_since_timestamp_seconds Unix time at which each node in flight entered its current state; only nodes in flight have a series.
# TYPE nodewave_node_state_since_timestamp_seconds gauge
nodewave_node_state_since_timestamp_seconds{cluster_upgrade="workers",node="n1",state="upgrading"} 1.77788886e+09
`, "nodewave_node_state_since_timestamp_seconds")
	if got := testutil.CollectAndCount(c, "nodewave_cluster_upgrade_last_transition_timestamp_seconds"); got != 0 {
		t.Errorf("a zero LastTransition published %d series, want none", got)
	}
}

func TestClusterUpgradeCollectorStalledCarriesItsReason(t *testing.T) {
	c := NewClusterUpgradeCollector()
	c.SetStatus("a", UpgradeStatus{Phase: upgradev1alpha1.PhaseFailed, StalledReason: upgradev1alpha1.ReasonTooManyFailures})
	c.SetStatus("b", UpgradeStatus{}) // before the first reconcile
	expect(t, c, `
# HELP nodewave_cluster_upgrade_stalled 1 while a ClusterUpgrade's Stalled condition is True (only a human can unblock it), with its reason; 0 otherwise.
# TYPE nodewave_cluster_upgrade_stalled gauge
nodewave_cluster_upgrade_stalled{cluster_upgrade="a",reason="TooManyFailures"} 1
nodewave_cluster_upgrade_stalled{cluster_upgrade="b",reason=""} 0
`, "nodewave_cluster_upgrade_stalled")
	c.SetStatus("c", UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, GateReason: upgradev1alpha1.ReasonReplacementsNotReady})
	expect(t, c, `
# HELP nodewave_cluster_upgrade_gated 1 while a gate of a ClusterUpgrade's spec.health holds its new starts (its Gated condition is True), with the gate; 0 otherwise.
# TYPE nodewave_cluster_upgrade_gated gauge
nodewave_cluster_upgrade_gated{cluster_upgrade="a",gate=""} 0
nodewave_cluster_upgrade_gated{cluster_upgrade="b",gate=""} 0
nodewave_cluster_upgrade_gated{cluster_upgrade="c",gate="ReplacementsNotReady"} 1
`, "nodewave_cluster_upgrade_gated")
	c.Delete("c")
	if got := testutil.CollectAndCount(c, "nodewave_cluster_upgrade_phase"); got != 2*len(Phases) {
		t.Errorf("published %d phase series, want %d", got, 2*len(Phases))
	}
}

func TestClusterUpgradeCollectorPublishesTheNextWindowOnlyWhileWaiting(t *testing.T) {
	c := NewClusterUpgradeCollector()
	c.SetStatus("waiting", UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, NextWindowOpens: t0.Add(time.Hour)})
	c.SetStatus("open", UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing})
	expect(t, c, `
# HELP nodewave_cluster_upgrade_next_window_opens_timestamp_seconds Unix time at which the maintenance window next opens, while a ClusterUpgrade's nodes wait outside it (status.nextWindowOpens).
# TYPE nodewave_cluster_upgrade_next_window_opens_timestamp_seconds gauge
nodewave_cluster_upgrade_next_window_opens_timestamp_seconds{cluster_upgrade="waiting"} 1.7778924e+09
`, "nodewave_cluster_upgrade_next_window_opens_timestamp_seconds")
	c.SetStatus("waiting", UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing}) // the window opened
	if n := testutil.CollectAndCount(c, "nodewave_cluster_upgrade_next_window_opens_timestamp_seconds"); n != 0 {
		t.Errorf("%d next-window series once no ClusterUpgrade waits, want none", n)
	}
}

func TestClusterUpgradeCollectorDeleteRemovesEverySeries(t *testing.T) {
	c := NewClusterUpgradeCollector()
	for _, name := range []string{"gone", "kept"} {
		c.SetStatus(name, UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, DrainTimeout: time.Minute, NextWindowOpens: t0})
		c.SetNodes(name, NodeSummary{Counts: map[string]int{"cordoned": 1},
			InFlight: []InFlightNode{{Name: name + "-n", State: "cordoned", Since: t0}}, LastTransition: t0})
	}
	before := testutil.CollectAndCount(c)
	c.Delete("gone")
	if after := testutil.CollectAndCount(c); after != before/2 {
		t.Fatalf("after Delete: %d series, want %d (half of %d)", after, before/2, before)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster_upgrade" && l.GetValue() != "kept" {
					t.Errorf("%s still has a series of %q", f.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestSetNodesCopiesItsInput(t *testing.T) {
	c := NewClusterUpgradeCollector()
	counts := map[string]int{"draining": 1}
	inFlight := []InFlightNode{{Name: "n1", State: "draining", Since: t0}}
	c.SetNodes("workers", NodeSummary{Counts: counts, InFlight: inFlight})
	counts["draining"], counts["upgraded"] = 7, 3
	inFlight[0].Name = "changed"
	expect(t, c, `
# HELP nodewave_node_state_since_timestamp_seconds Unix time at which each node in flight entered its current state; only nodes in flight have a series.
# TYPE nodewave_node_state_since_timestamp_seconds gauge
nodewave_node_state_since_timestamp_seconds{cluster_upgrade="workers",node="n1",state="draining"} 1.7778888e+09
# HELP nodewave_nodes Selected nodes of each ClusterUpgrade, by state (pending, cordoned, draining, upgrading, verifying, upgraded, failed, blocked, skipped).
# TYPE nodewave_nodes gauge
nodewave_nodes{cluster_upgrade="workers",state="blocked"} 0
nodewave_nodes{cluster_upgrade="workers",state="cordoned"} 0
nodewave_nodes{cluster_upgrade="workers",state="draining"} 1
nodewave_nodes{cluster_upgrade="workers",state="failed"} 0
nodewave_nodes{cluster_upgrade="workers",state="pending"} 0
nodewave_nodes{cluster_upgrade="workers",state="skipped"} 0
nodewave_nodes{cluster_upgrade="workers",state="upgraded"} 0
nodewave_nodes{cluster_upgrade="workers",state="upgrading"} 0
nodewave_nodes{cluster_upgrade="workers",state="verifying"} 0
`, "nodewave_node_state_since_timestamp_seconds", "nodewave_nodes")
}

func TestRegisteredOnTheManagersRegistry(t *testing.T) {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	gathered := map[string]int{}
	for _, f := range families {
		gathered[f.GetName()] = len(f.GetMetric())
	}
	// The counters and the histogram start at 0 for every known label
	// value, so their series exist, and rate() sees the first event.
	for name, want := range map[string]int{
		"nodewave_evictions_total":               4,
		"nodewave_node_upgrades_total":           3,
		"nodewave_node_upgrade_duration_seconds": 3,
	} {
		if gathered[name] != want {
			t.Errorf("the manager's registry serves %d series of %s before any event, want %d", gathered[name], name, want)
		}
	}
	ClusterUpgrades.SetStatus("registered", UpgradeStatus{Phase: upgradev1alpha1.PhasePending})
	defer ClusterUpgrades.Delete("registered")
	if err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(`
# HELP nodewave_cluster_upgrade_stalled 1 while a ClusterUpgrade's Stalled condition is True (only a human can unblock it), with its reason; 0 otherwise.
# TYPE nodewave_cluster_upgrade_stalled gauge
nodewave_cluster_upgrade_stalled{cluster_upgrade="registered",reason=""} 0
`), "nodewave_cluster_upgrade_stalled"); err != nil {
		t.Error(err)
	}
}

func expect(t *testing.T, c prometheus.Collector, want string, names ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}
