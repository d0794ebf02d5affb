package cli

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
)

// statusReport is what `status` shows: one row per selected node and a
// summary.
type statusReport struct {
	ClusterUpgrade string
	TargetVersion  string
	// Phase is status.phase, "" before the first reconcile.
	Phase    upgradev1alpha1.Phase
	Strategy upgradev1alpha1.StrategyType
	// MaxUnavailable is spec.strategy.maxUnavailable as written ("" for
	// Sequential); MaxUnavailableNodes its resolved count.
	MaxUnavailable      string
	MaxUnavailableNodes int
	// Counts of the selected nodes by STATE column: upgraded, in flight
	// (cordoned, draining, upgrading, verifying), pending, failed,
	// blocked (drain.onTimeout Cordon), skipped.
	Total    int
	Upgraded int
	InFlight int
	Pending  int
	Failed   int
	Blocked  int
	Skipped  int
	// Nodes are the rows, in plan order (zone, then name).
	Nodes []statusRow
}

// statusRow is one selected node.
type statusRow struct {
	Node string
	Zone string
	// State is the node's state label when this ClusterUpgrade has it in
	// flight or failed; otherwise pending, upgraded or skipped, as the
	// planner classes it.
	State string
	// Kubelet is status.nodeInfo.kubeletVersion.
	Kubelet string
	// Since is when the node entered State (the state-since annotation);
	// nil when unknown or not this ClusterUpgrade's.
	Since         *time.Time
	Ready         bool
	Unschedulable bool
	// TargetVersion is the node's target-version annotation.
	TargetVersion string
	// Message says what the node waits for, why it failed, or why it is
	// not started.
	Message string
}

// buildStatus makes the status report of cu from its selected nodes. It
// classes each node as the planner does, and takes the messages from the
// ClusterUpgrade's status (inProgress, failed) and the node's failure
// annotation.
func buildStatus(cu *upgradev1alpha1.ClusterUpgrade, nodes []corev1.Node) (statusReport, error) {
	target, err := version.Parse(cu.Spec.TargetVersion)
	if err != nil {
		return statusReport{}, fmt.Errorf("spec.targetVersion: %w", err)
	}
	maxUnavailable, err := plan.MaxUnavailable(cu.Spec.Strategy, len(nodes))
	if err != nil {
		return statusReport{}, fmt.Errorf("spec.%w", err)
	}
	r := statusReport{
		ClusterUpgrade:      cu.Name,
		TargetVersion:       cu.Spec.TargetVersion,
		Phase:               cu.Status.Phase,
		Strategy:            cmp.Or(cu.Spec.Strategy.Type, upgradev1alpha1.SequentialStrategy),
		MaxUnavailableNodes: maxUnavailable,
		Total:               len(nodes),
	}
	if mu := cu.Spec.Strategy.MaxUnavailable; mu != nil {
		r.MaxUnavailable = mu.String()
	}
	inProgress := map[string]string{}
	for _, p := range cu.Status.InProgress {
		inProgress[p.Name] = p.Message
	}
	failed := map[string]string{}
	for _, f := range slices.Concat(cu.Status.Failed, cu.Status.Blocked) {
		failed[f.Name] = f.Reason + ": " + f.Message
	}

	byName := map[string]*corev1.Node{}
	var pn []plan.Node
	for i := range nodes {
		byName[nodes[i].Name] = &nodes[i]
		pn = append(pn, nodeview.PlanNode(&nodes[i], cu, target))
	}
	for _, p := range plan.Order(pn) {
		n := byName[p.Name]
		row := statusRow{Node: n.Name, Zone: p.Zone, Kubelet: n.Status.NodeInfo.KubeletVersion,
			Ready: p.Ready, Unschedulable: p.Unschedulable,
			TargetVersion: n.Annotations[upgradev1alpha1.TargetVersionAnnotation]}
		ours := nodeview.HeldBy(n) == cu.Name
		switch class := plan.Classify(p); class {
		case plan.ClassInFlight, plan.ClassFailed, plan.ClassBlocked:
			row.State = string(p.State)
			switch class {
			case plan.ClassInFlight:
				r.InFlight++
				row.Message = inProgress[n.Name]
			case plan.ClassFailed:
				r.Failed++
			default:
				r.Blocked++
			}
			if class != plan.ClassInFlight {
				row.Message = cmp.Or(failed[n.Name], n.Annotations[upgradev1alpha1.FailureAnnotation])
			}
		case plan.ClassUpgraded:
			r.Upgraded++
			row.State = string(upgradev1alpha1.NodeUpgraded)
			if !ours || p.State != upgradev1alpha1.NodeUpgraded {
				row.Message = "already at the target: never touched"
			}
		case plan.ClassSkipped:
			r.Skipped++
			row.State = "skipped"
			row.Message = "kubelet newer than the target: never downgraded"
		default:
			r.Pending++
			row.State = "pending"
			row.Message = pendingMessage(n, p, cu.Name)
		}
		if ours && p.State != "" && row.State == string(p.State) {
			if t, err := time.Parse(time.RFC3339, n.Annotations[upgradev1alpha1.StateSinceAnnotation]); err == nil {
				row.Since = &t
			}
		}
		r.Nodes = append(r.Nodes, row)
	}
	return r, nil
}

// pendingMessage says why a pending node is not moving, or "".
func pendingMessage(n *corev1.Node, p plan.Node, cuName string) string {
	holder := nodeview.HeldBy(n)
	state := n.Labels[upgradev1alpha1.NodeStateLabel]
	switch {
	case holder != "" && holder != cuName && state != "" && state != string(upgradev1alpha1.NodeUpgraded):
		return fmt.Sprintf("%s for ClusterUpgrade %s", state, holder)
	case !p.Ready:
		return "NotReady: not started while NotReady"
	case p.Unschedulable:
		return "cordoned by someone else: it will stay cordoned after its upgrade"
	}
	return ""
}

// summary is the one line under the table.
func (r statusReport) summary() string {
	budget := "Sequential"
	if r.Strategy == upgradev1alpha1.ConcurrentStrategy {
		budget = fmt.Sprintf("Concurrent, maxUnavailable %s (%d %s)", r.MaxUnavailable, r.MaxUnavailableNodes, plural(r.MaxUnavailableNodes, "node"))
	}
	blocked := ""
	if r.Blocked > 0 {
		blocked = fmt.Sprintf(", %d blocked", r.Blocked)
	}
	return fmt.Sprintf("ClusterUpgrade %s: %s, target %s, %s: %d upgraded, %d in flight, %d pending, %d failed%s, %d skipped of %d %s",
		r.ClusterUpgrade, cmp.Or(string(r.Phase), "not reconciled yet"), r.TargetVersion, budget,
		r.Upgraded, r.InFlight, r.Pending, r.Failed, blocked, r.Skipped, r.Total, plural(r.Total, "node"))
}

// plural is noun for 1, noun+"s" otherwise.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
