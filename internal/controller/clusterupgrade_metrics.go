package controller

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/metrics"
	"github.com/nodewave/nodewave/internal/plan"
)

// recordStatusMetrics publishes what cu says after a pass: its phase,
// whether it is stalled and why, its drain timeout, and when its
// maintenance window opens next while nodes wait for it.
func recordStatusMetrics(cu *upgradev1alpha1.ClusterUpgrade) {
	metrics.ClusterUpgrades.SetStatus(cu.Name, statusMetrics(cu))
}

// statusMetrics is what the metrics publish of cu's spec and status.
func statusMetrics(cu *upgradev1alpha1.ClusterUpgrade) metrics.UpgradeStatus {
	st := metrics.UpgradeStatus{Phase: cu.Status.Phase, DrainTimeout: cu.Spec.DrainTimeout()}
	if c := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		st.StalledReason = c.Reason
	}
	if c := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionGated); c != nil && c.Status == metav1.ConditionTrue {
		st.GateReason = c.Reason
	}
	if t := cu.Status.NextWindowOpens; t != nil {
		st.NextWindowOpens = t.Time
	}
	return st
}

// recordNodeMetrics publishes the nodes of one ClusterUpgrade as a pass
// left them.
func recordNodeMetrics(s *scope, p plan.Plan) {
	metrics.ClusterUpgrades.SetNodes(s.cu.Name, nodeMetrics(s, p))
}

// nodeMetrics counts the selected nodes by state, the nodes in flight by
// their state label, with when each entered it (as the step timeouts count
// it), and finds the latest transition of a node this ClusterUpgrade holds.
func nodeMetrics(s *scope, p plan.Plan) metrics.NodeSummary {
	v := metrics.NodeSummary{Counts: map[string]int{
		metrics.StatePending:                 p.Pending,
		string(upgradev1alpha1.NodeUpgraded): p.Upgraded,
		string(upgradev1alpha1.NodeFailed):   p.Failed,
		string(upgradev1alpha1.NodeBlocked):  len(p.BlockedNodes),
		metrics.StateSkipped:                 p.Skipped,
	}}
	for _, name := range p.InFlightNodes {
		n := s.nodes[name]
		state := n.Labels[upgradev1alpha1.NodeStateLabel]
		v.Counts[state]++
		v.InFlight = append(v.InFlight, metrics.InFlightNode{Name: name, State: state, Since: stateSince(n, s.now)})
	}
	for _, name := range s.order {
		n := s.nodes[name]
		if n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] != s.cu.Name || n.Labels[upgradev1alpha1.NodeStateLabel] == "" {
			continue
		}
		// An unreadable stamp says nothing of when the node moved.
		if t, err := time.Parse(time.RFC3339, n.Annotations[upgradev1alpha1.StateSinceAnnotation]); err == nil && t.After(v.LastTransition) {
			v.LastTransition = t
		}
	}
	return v
}
