package forecast

import (
	"fmt"
	"slices"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
)

// nodeFindings foresees what the nodes themselves hold up: NotReady nodes
// (never started, and each holds a slot), Ready nodes the budget never
// has room for, workers that wait for a control-plane wave that never
// finishes, and, as notes, nodes already at the target, nodes newer than
// it, nodes someone else has cordoned, and nodes another ClusterUpgrade
// holds.
func (w *world) nodeFindings(sims waves) []Finding {
	var out []Finding
	var atTarget, newer, newerDesc, cordoned, elsewhere, elsewhereDesc []string
	// By wave: index 1 the control plane's, 0 the workers'.
	var roomless, holders [2][]string
	never := map[string]bool{}
	for _, name := range slices.Concat(sims.controlPlane.neverStarted, sims.workers.neverStarted) {
		never[name] = true
	}
	wave := func(name string) int {
		if w.controlPlane[name] {
			return 1
		}
		return 0
	}
	for _, n := range w.planNodes {
		class := plan.Classify(n)
		slot := w.slot(w.controlPlane[n.Name])
		switch {
		case class == plan.ClassPending && !n.Ready:
			out = append(out, Finding{Severity: Blocker, Kind: KindNotReady, Subject: "node " + n.Name, Nodes: []string{n.Name},
				Message: fmt.Sprintf("NotReady: it is never started while NotReady, and it holds %s", slot)})
		case (class == plan.ClassUpgraded || class == plan.ClassSkipped) && !n.Ready:
			out = append(out, Finding{Severity: Blocker, Kind: KindNotReady, Subject: "node " + n.Name, Nodes: []string{n.Name},
				Message: fmt.Sprintf("NotReady: it holds %s while it stays NotReady", slot)})
		}
		if class == plan.ClassPending && n.Ready && never[n.Name] {
			roomless[wave(n.Name)] = append(roomless[wave(n.Name)], n.Name)
		}
		if class != plan.ClassInFlight && n.Unavailable() {
			holders[wave(n.Name)] = append(holders[wave(n.Name)], n.Name)
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
	out = append(out, w.roomlessFindings(sims, roomless, holders)...)
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

// roomlessFindings says why Ready pending nodes never start, wave by wave
// (index 1 the control plane's, 0 the workers'): unavailable nodes that
// are not in flight (holders) hold the wave's whole budget, or, for the
// workers, the control-plane wave never finishes. A halted wave, and the
// workers held by a failed canary node, have their own finding.
func (w *world) roomlessFindings(sims waves, roomless, holders [2][]string) []Finding {
	var out []Finding
	if cp := roomless[1]; len(cp) > 0 && !sims.controlPlane.halted {
		out = append(out, Finding{Severity: Blocker, Kind: KindBudget, Subject: fmt.Sprintf("Ready control-plane nodes that never start (%d)", len(cp)),
			Nodes: cp, Message: fmt.Sprintf("the control-plane nodes that are unavailable without being in flight (NotReady, failed, "+
				"or cordoned by someone else: %s) hold %s: %s", names(holders[1]), w.slot(true), names(cp))})
	}
	switch workers := roomless[0]; {
	case len(workers) == 0 || sims.workers.halted || sims.workers.canaryFailed:
	case w.hasControlPlane() && !sims.controlPlane.finished():
		out = append(out, Finding{Severity: Blocker, Kind: KindWaitingForControlPlane, Nodes: workers,
			Subject: fmt.Sprintf("workers that wait for the control plane (%d)", len(workers)),
			Message: "the control-plane wave never finishes (a control-plane node failed or never starts: see above), " +
				"and no worker starts before every control-plane node is at the target (reason WaitingForControlPlane): " + names(workers)})
	default:
		out = append(out, Finding{Severity: Blocker, Kind: KindBudget, Subject: fmt.Sprintf("Ready nodes that never start (%d)", len(workers)),
			Nodes: workers, Message: fmt.Sprintf("the nodes that are unavailable without being in flight (NotReady, failed, or cordoned by someone else: %s) "+
				"hold every slot of maxUnavailable (%d): %s", names(holders[0]), w.maxUnavailable, names(workers))})
	}
	return out
}

// slot says which budget a node holds a slot of while it is unavailable:
// the workers' maxUnavailable, or the control plane's one node at a time.
func (w *world) slot(controlPlane bool) string {
	if controlPlane {
		return "the control plane's only slot (one control-plane node at a time)"
	}
	return fmt.Sprintf("a slot of maxUnavailable (%d)", w.maxUnavailable)
}
