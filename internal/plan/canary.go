package plan

import (
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Canary is spec.strategy.canary, resolved: the first Size nodes this
// ClusterUpgrade starts go alone; the rest wait until every one of them
// is upgraded, then Soak, then, with Pause, for a person.
type Canary struct {
	Size  int
	Soak  time.Duration
	Pause bool
}

// The holds of a canary, why the rest do not start yet: the Ready
// condition's reasons too.
const (
	// CanaryRunning: canary nodes are still in flight.
	CanaryRunning = upgradev1alpha1.ReasonCanaryRunning
	// CanarySoaking: every canary node is upgraded; the rest wait for
	// the canary's soak to end (CanaryGate.Until).
	CanarySoaking = upgradev1alpha1.ReasonCanarySoaking
	// CanaryPaused: the canary soaked; canary.pause holds the rest until
	// a person sets it to false.
	CanaryPaused = upgradev1alpha1.ReasonCanaryPaused
	// CanaryFailed: a canary node failed; nothing more starts, whatever
	// maxFailedNodes says, until it is retried.
	CanaryFailed = upgradev1alpha1.ReasonCanaryFailed
)

// CanaryGate is where the canary stands in a pass.
type CanaryGate struct {
	// Active is true while the canary gates the upgrade: its nodes are
	// not all started, or the rest wait (Hold). False without a canary,
	// and once the rest have begun.
	Active bool
	// Limit is how many more nodes may start in the canary wave, while
	// its nodes are not all started (Hold empty).
	Limit int
	// Hold says why nothing starts: one of the Canary* reasons, "" when
	// nodes may start (up to Limit while Active).
	Hold string
	// Nodes are the canary's nodes: the ones this ClusterUpgrade started
	// (in flight, failed or upgraded by it), in plan order, while Active.
	Nodes []string
	// Upgraded is when the last canary node was upgraded, and Until when
	// its soak ends, once every canary node is upgraded.
	Upgraded, Until time.Time
}

// CanarySize resolves canary.nodes against the selected worker nodes: a
// count as it is, a percentage rounded up, never below one.
func CanarySize(c *upgradev1alpha1.CanarySpec, total int) (int, error) {
	n, err := intstr.GetScaledValueFromIntOrPercent(&c.Nodes, total, true)
	if err != nil {
		return 0, err
	}
	return max(n, 1), nil
}

// CanaryOf resolves spec.strategy.canary for the planner: nil without one
// (spec nil); otherwise its size against the selected worker nodes (see
// CanarySize), soak (the spec's canary.soakDuration or its default, as
// ClusterUpgradeSpec.CanarySoakDuration gives it) and pause. A size that
// cannot be read, which admission refuses, is the smallest canary, one
// node. The controller and the plugin's forecast both build the workers'
// plan.Input.Canary with it.
func CanaryOf(spec *upgradev1alpha1.CanarySpec, soak time.Duration, workers int) *Canary {
	if spec == nil {
		return nil
	}
	size, err := CanarySize(spec, workers)
	if err != nil {
		size = 1
	}
	return &Canary{Size: size, Soak: soak, Pause: spec.Pause}
}

// CanaryStep judges the canary from the nodes as they are, given in plan
// order (see Order; Compute has sorted them already): the canary is
// the nodes this ClusterUpgrade started under its current target, the
// first c.Size of them. Nothing is remembered: a retargeted upgrade (its
// upgraded nodes pending again) begins with a new canary, and a retried
// canary node is a canary node again.
func CanaryStep(c Canary, nodes []Node, now time.Time) CanaryGate {
	g := CanaryGate{Active: true}
	failed, inFlight := false, false
	for _, n := range nodes {
		switch Classify(n) {
		case ClassInFlight:
			inFlight = true
		case ClassFailed:
			failed = true
		case ClassUpgraded:
			if n.State != upgradev1alpha1.NodeUpgraded {
				continue // at the target without this ClusterUpgrade
			}
			if n.Since.After(g.Upgraded) {
				g.Upgraded = n.Since
			}
		default:
			continue
		}
		g.Nodes = append(g.Nodes, n.Name)
	}
	switch {
	case len(g.Nodes) > c.Size:
		return CanaryGate{} // the rest have begun
	case failed:
		g.Hold = CanaryFailed
	case len(g.Nodes) < c.Size:
		g.Limit = c.Size - len(g.Nodes)
	case inFlight:
		g.Hold = CanaryRunning
	default:
		g.Until = g.Upgraded.Add(c.Soak)
		switch {
		case now.Before(g.Until):
			g.Hold = CanarySoaking
		case c.Pause:
			g.Hold = CanaryPaused
		default:
			// Soaked: the rest may start. Active until one does.
			g.Limit = -1
		}
	}
	return g
}
