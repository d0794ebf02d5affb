package forecast

import (
	"fmt"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
)

// nodeFindings foresees what the nodes themselves hold up: NotReady nodes
// (never started, and each holds a slot), Ready nodes the budget never
// has room for, and, as notes, nodes already at the target, nodes newer
// than it, nodes someone else has cordoned, and nodes another
// ClusterUpgrade holds.
func (w *world) nodeFindings(sim simulation) []Finding {
	var out []Finding
	var atTarget, newer, newerDesc, cordoned, elsewhere, elsewhereDesc, roomless, holders []string
	never := map[string]bool{}
	for _, name := range sim.neverStarted {
		never[name] = true
	}
	for _, n := range w.planNodes {
		class := plan.Classify(n)
		switch {
		case class == plan.ClassPending && !n.Ready:
			out = append(out, Finding{Severity: Blocker, Kind: KindNotReady, Subject: "node " + n.Name, Nodes: []string{n.Name},
				Message: fmt.Sprintf("NotReady: it is never started while NotReady, and it holds a slot of maxUnavailable (%d)", w.maxUnavailable)})
		case (class == plan.ClassUpgraded || class == plan.ClassSkipped) && !n.Ready:
			out = append(out, Finding{Severity: Blocker, Kind: KindNotReady, Subject: "node " + n.Name, Nodes: []string{n.Name},
				Message: fmt.Sprintf("NotReady: it holds a slot of maxUnavailable (%d) while it stays NotReady", w.maxUnavailable)})
		}
		if class == plan.ClassPending && n.Ready && never[n.Name] {
			roomless = append(roomless, n.Name)
		}
		if class != plan.ClassInFlight && n.Unavailable() {
			holders = append(holders, n.Name)
		}
		switch class {
		case plan.ClassUpgraded:
			atTarget = append(atTarget, n.Name)
		case plan.ClassSkipped:
			newer = append(newer, n.Name)
			newerDesc = append(newerDesc, fmt.Sprintf("%s (%s)", n.Name, w.nodes[n.Name].Status.NodeInfo.KubeletVersion))
		case plan.ClassPending:
			node := w.nodes[n.Name]
			state := node.Labels[upgradev1alpha1.NodeStateLabel]
			switch {
			case nodeview.HeldBy(node) != w.cu.Name && nodeview.HeldBy(node) != "" && state != "" && state != string(upgradev1alpha1.NodeUpgraded):
				elsewhere = append(elsewhere, n.Name)
				elsewhereDesc = append(elsewhereDesc, fmt.Sprintf("%s (%s for %s)", n.Name, state, nodeview.HeldBy(node)))
			case n.Unschedulable && n.Ready:
				cordoned = append(cordoned, n.Name)
			}
		}
	}
	if len(roomless) > 0 && !sim.halted {
		out = append(out, Finding{Severity: Blocker, Kind: KindBudget, Subject: fmt.Sprintf("Ready nodes that never start (%d)", len(roomless)),
			Nodes: roomless, Message: fmt.Sprintf("the nodes that are unavailable without being in flight (NotReady, failed, or cordoned by someone else: %s) "+
				"hold every slot of maxUnavailable (%d): %s", names(holders), w.maxUnavailable, names(roomless))})
	}
	if len(atTarget) > 0 {
		out = append(out, Finding{Severity: Note, Kind: KindAtTarget, Nodes: atTarget,
			Subject: fmt.Sprintf("nodes already at %s (%d)", w.cu.Spec.TargetVersion, len(atTarget)),
			Message: "counted upgraded, never touched: " + names(atTarget)})
	}
	if len(newer) > 0 {
		out = append(out, Finding{Severity: Note, Kind: KindNewer, Nodes: newer,
			Subject: fmt.Sprintf("nodes newer than %s (%d)", w.cu.Spec.TargetVersion, len(newer)),
			Message: "skipped, never downgraded: " + names(newerDesc)})
	}
	if len(cordoned) > 0 {
		out = append(out, Finding{Severity: Note, Kind: KindCordoned, Nodes: cordoned,
			Subject: fmt.Sprintf("nodes cordoned by someone else (%d)", len(cordoned)),
			Message: "each holds a slot of maxUnavailable already, starts without taking another, " +
				"and stays cordoned after its upgrade: " + names(cordoned)})
	}
	if len(elsewhere) > 0 {
		out = append(out, Finding{Severity: Note, Kind: KindHeldByOther, Nodes: elsewhere,
			Subject: fmt.Sprintf("nodes another ClusterUpgrade holds (%d)", len(elsewhere)),
			Message: "each holds a slot of maxUnavailable until that upgrade is done with it: " + names(elsewhereDesc)})
	}
	return out
}
