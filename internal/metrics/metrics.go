// Package metrics defines nodewave's Prometheus metrics, registered on
// controller-runtime's registry so the manager's /metrics endpoint serves
// them beside the controller-runtime and client-go ones.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Eviction results, the values of the result label of EvictionsTotal.
const (
	EvictionEvicted = "evicted" // the API server accepted the eviction
	EvictionBlocked = "blocked" // refused with 429: a PodDisruptionBudget allows no disruption now
	EvictionError   = "error"   // any other error
	EvictionDeleted = "deleted" // deleted without eviction (drain.onTimeout: ForceDelete)
)

// Node upgrade results, the values of the result label of NodeUpgradesTotal.
const (
	ResultSucceeded = "succeeded"
	ResultFailed    = "failed"
	ResultBlocked   = "blocked" // its drain did not finish (drain.onTimeout: Cordon)
)

// Steps are the values of the step label of StepDuration.
const (
	StepDrain   = "drain"
	StepUpgrade = "upgrade"
	StepVerify  = "verify"
)

var (
	// ClusterUpgrades publishes the series of each ClusterUpgrade: its
	// nodes by state (nodewave_nodes), its phase, whether it is stalled,
	// its drain timeout, and when each node in flight entered its state.
	ClusterUpgrades = NewClusterUpgradeCollector()

	// StepDuration observes how long each node spent in each step: drain
	// (cordoned to drained), upgrade (upgrade started to kubelet at target)
	// and verify (at target to uncordoned).
	StepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nodewave_node_upgrade_duration_seconds",
		Help:    "Time one node spent in one upgrade step (drain, upgrade, verify).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 14), // 1 s .. ~4.5 h
	}, []string{"step"})

	// EvictionsTotal counts eviction attempts by result.
	EvictionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewave_evictions_total",
		Help: "Pod eviction attempts while draining nodes, by result (evicted, blocked, error, deleted).",
	}, []string{"result"})

	// NodeUpgradesTotal counts finished node upgrades by result.
	NodeUpgradesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewave_node_upgrades_total",
		Help: "Node upgrades that finished, by result (succeeded, failed).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(ClusterUpgrades, StepDuration, EvictionsTotal, NodeUpgradesTotal, APIRequestsTotal)
	// Every known label value starts at 0, so rate() and increase() see the
	// first event, and the series exist before it.
	for _, step := range []string{StepDrain, StepUpgrade, StepVerify} {
		StepDuration.WithLabelValues(step)
	}
	for _, result := range []string{EvictionEvicted, EvictionBlocked, EvictionError, EvictionDeleted} {
		EvictionsTotal.WithLabelValues(result)
	}
	for _, result := range []string{ResultSucceeded, ResultFailed, ResultBlocked} {
		NodeUpgradesTotal.WithLabelValues(result)
	}
}
