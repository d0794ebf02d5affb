package metrics

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// The values of the state label of nodewave_nodes that are no node state
// label: a pending node has none yet, and a skipped one is never touched.
const (
	StatePending = "pending"
	StateSkipped = "skipped"
)

// States are the values of the state label of nodewave_nodes, in lifecycle
// order. Every one is published for every ClusterUpgrade, 0 when no node is
// in it, so a panel or an alert never sees a state come and go.
var States = []string{
	StatePending,
	string(upgradev1alpha1.NodeCordoned),
	string(upgradev1alpha1.NodeDraining),
	string(upgradev1alpha1.NodeUpgrading),
	string(upgradev1alpha1.NodeVerifying),
	string(upgradev1alpha1.NodeUpgraded),
	string(upgradev1alpha1.NodeFailed),
	string(upgradev1alpha1.NodeBlocked),
	StateSkipped,
}

// Phases are the values of the phase label of nodewave_cluster_upgrade_phase.
var Phases = []upgradev1alpha1.Phase{
	upgradev1alpha1.PhasePending,
	upgradev1alpha1.PhaseProgressing,
	upgradev1alpha1.PhasePaused,
	upgradev1alpha1.PhaseSucceeded,
	upgradev1alpha1.PhaseFailed,
}

// UpgradeStatus is what one ClusterUpgrade's object says, as published.
type UpgradeStatus struct {
	// Phase is status.phase; empty before the first reconcile.
	Phase upgradev1alpha1.Phase
	// StalledReason is the reason of the Stalled condition while it is
	// True; empty otherwise.
	StalledReason string
	// GateReason is the reason of the Gated condition (the gate of
	// spec.health that holds new starts) while it is True; empty otherwise.
	GateReason string
	// DrainTimeout is spec.drain.timeout, or its default when unset.
	DrainTimeout time.Duration
	// NextWindowOpens is status.nextWindowOpens: when the maintenance
	// window next opens, while nodes wait outside it; zero otherwise.
	NextWindowOpens time.Time
}

// NodeSummary is what one reconcile pass saw of one ClusterUpgrade's selected
// nodes.
type NodeSummary struct {
	// Counts are the selected nodes by state, keyed by the values of
	// States; a missing state counts 0.
	Counts map[string]int
	// InFlight are the nodes in flight (cordoned, draining, upgrading,
	// verifying), each with the state it is in and when it entered it.
	InFlight []InFlightNode
	// LastTransition is the latest time a node this ClusterUpgrade holds
	// entered its current state; zero when it holds none.
	LastTransition time.Time
}

// InFlightNode is one node in flight.
type InFlightNode struct {
	// Name is the node's name.
	Name string
	// State is its upgrade.nodewave.io/state label.
	State string
	// Since is when it entered State (its state-since annotation).
	Since time.Time
}

// ClusterUpgradeCollector publishes the per-ClusterUpgrade series. Each
// reconcile pass replaces what it knows of one ClusterUpgrade at once, so a
// node that left flight or a phase that ended leaves no stale series
// behind, and Delete removes every series of a deleted ClusterUpgrade.
// The series are bounded: a handful per ClusterUpgrade, plus one per node
// in flight, which the budget (maxUnavailable) bounds.
type ClusterUpgradeCollector struct {
	mu       sync.Mutex
	upgrades map[string]*upgradeSeries
}

type upgradeSeries struct {
	status *UpgradeStatus
	nodes  *NodeSummary
}

// LabelClusterUpgrade is the label that names the ClusterUpgrade of a series.
const LabelClusterUpgrade = "cluster_upgrade"

var (
	nodesDesc = prometheus.NewDesc("nodewave_nodes",
		"Selected nodes of each ClusterUpgrade, by state (pending, cordoned, draining, upgrading, verifying, upgraded, failed, blocked, skipped).",
		[]string{LabelClusterUpgrade, "state"}, nil)
	phaseDesc = prometheus.NewDesc("nodewave_cluster_upgrade_phase",
		"1 for the phase each ClusterUpgrade is in (status.phase), 0 for the others.",
		[]string{LabelClusterUpgrade, "phase"}, nil)
	stalledDesc = prometheus.NewDesc("nodewave_cluster_upgrade_stalled",
		"1 while a ClusterUpgrade's Stalled condition is True (only a human can unblock it), with its reason; 0 otherwise.",
		[]string{LabelClusterUpgrade, "reason"}, nil)
	gatedDesc = prometheus.NewDesc("nodewave_cluster_upgrade_gated",
		"1 while a gate of a ClusterUpgrade's spec.health holds its new starts (its Gated condition is True), with the gate; 0 otherwise.",
		[]string{LabelClusterUpgrade, "gate"}, nil)
	drainTimeoutDesc = prometheus.NewDesc("nodewave_cluster_upgrade_drain_timeout_seconds",
		"Each ClusterUpgrade's spec.drain.timeout: how long one node may take to drain.",
		[]string{LabelClusterUpgrade}, nil)
	nextWindowDesc = prometheus.NewDesc("nodewave_cluster_upgrade_next_window_opens_timestamp_seconds",
		"Unix time at which the maintenance window next opens, while a ClusterUpgrade's nodes wait outside it (status.nextWindowOpens).",
		[]string{LabelClusterUpgrade}, nil)
	lastTransitionDesc = prometheus.NewDesc("nodewave_cluster_upgrade_last_transition_timestamp_seconds",
		"Unix time at which a node of each ClusterUpgrade last changed state.",
		[]string{LabelClusterUpgrade}, nil)
	stateSinceDesc = prometheus.NewDesc("nodewave_node_state_since_timestamp_seconds",
		"Unix time at which each node in flight entered its current state; only nodes in flight have a series.",
		[]string{LabelClusterUpgrade, "node", "state"}, nil)
)

// NewClusterUpgradeCollector returns an empty collector.
func NewClusterUpgradeCollector() *ClusterUpgradeCollector {
	return &ClusterUpgradeCollector{upgrades: map[string]*upgradeSeries{}}
}

// SetStatus replaces what is published of the named ClusterUpgrade's status.
func (c *ClusterUpgradeCollector) SetStatus(name string, s UpgradeStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.series(name).status = &s
}

// SetNodes replaces what is published of the named ClusterUpgrade's nodes.
func (c *ClusterUpgradeCollector) SetNodes(name string, v NodeSummary) {
	v.Counts = maps.Clone(v.Counts)
	v.InFlight = slices.Clone(v.InFlight)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.series(name).nodes = &v
}

// Delete removes every series of the named ClusterUpgrade.
func (c *ClusterUpgradeCollector) Delete(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.upgrades, name)
}

func (c *ClusterUpgradeCollector) series(name string) *upgradeSeries {
	s := c.upgrades[name]
	if s == nil {
		s = &upgradeSeries{}
		c.upgrades[name] = s
	}
	return s
}

// Describe sends the descriptors of every series the collector publishes.
func (c *ClusterUpgradeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nodesDesc, phaseDesc, stalledDesc, gatedDesc, drainTimeoutDesc, nextWindowDesc, lastTransitionDesc, stateSinceDesc} {
		ch <- d
	}
}

// Collect sends the current series of every ClusterUpgrade.
func (c *ClusterUpgradeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for name, s := range c.upgrades {
		if st := s.status; st != nil {
			for _, phase := range Phases {
				gauge(phaseDesc, boolValue(st.Phase == phase), name, string(phase))
			}
			gauge(stalledDesc, boolValue(st.StalledReason != ""), name, st.StalledReason)
			gauge(gatedDesc, boolValue(st.GateReason != ""), name, st.GateReason)
			gauge(drainTimeoutDesc, st.DrainTimeout.Seconds(), name)
			if !st.NextWindowOpens.IsZero() {
				gauge(nextWindowDesc, unixSeconds(st.NextWindowOpens), name)
			}
		}
		if v := s.nodes; v != nil {
			for _, state := range States {
				gauge(nodesDesc, float64(v.Counts[state]), name, state)
			}
			for _, n := range v.InFlight {
				gauge(stateSinceDesc, unixSeconds(n.Since), name, n.Name, n.State)
			}
			if !v.LastTransition.IsZero() {
				gauge(lastTransitionDesc, unixSeconds(v.LastTransition), name)
			}
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
