package forecast

import (
	"fmt"

	"github.com/nodewave/nodewave/internal/plan"
)

// nodeFindings foresees what the nodes themselves hold up: NotReady nodes
// (never started, and each holds a slot), Ready nodes the budget never
// has room for, and, as notes, nodes already at the target, nodes newer
// than it, and nodes someone else has cordoned.
func (w *world) nodeFindings(sim simulation) []Finding {
	var out []Finding
	var atTarget, newer, newerDesc, cordoned, roomless, holders []string
	never := map[string]bool{}
	for _, name := range sim.neverStarted {
		never[name] = true
	}
	for _, n := range w.planNodes {
		class := plan.Classify(n)
		switch {
		case class == plan.ClassPending && !n.Ready:
			out = append(out, Finding{Severity: Blocker, Kind: KindNotReady, Subject: "node " + n.Name, Nodes: []string{n.Name},
				Message: fmt.Sprintf("NotReady: it is never started while NotReady, and it holds one of the %d slots of maxUnavailable", w.maxUnavailable)})
		case (class == plan.ClassUpgraded || class == plan.ClassSkipped) && !n.Ready:
			out = append(out, Finding{Severity: Blocker, Kind: KindNotReady, Subject: "node " + n.Name, Nodes: []string{n.Name},
				Message: fmt.Sprintf("NotReady: it holds one of the %d slots of maxUnavailable while it stays NotReady", w.maxUnavailable)})
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
			if n.Unschedulable && n.Ready {
				cordoned = append(cordoned, n.Name)
			}
		}
	}
	if len(roomless) > 0 && !sim.halted {
		out = append(out, Finding{Severity: Blocker, Kind: KindBudget, Subject: count(len(roomless), "Ready node"), Nodes: roomless,
			Message: fmt.Sprintf("never start: the nodes that are unavailable without being in flight (NotReady, failed, or cordoned by someone else: %s) "+
				"hold all %d slots of maxUnavailable: %s", names(holders), w.maxUnavailable, names(roomless))})
	}
	if len(atTarget) > 0 {
		out = append(out, Finding{Severity: Note, Kind: KindAtTarget, Subject: count(len(atTarget), "node"), Nodes: atTarget,
			Message: fmt.Sprintf("already report %s: counted upgraded, never touched: %s", w.cu.Spec.TargetVersion, names(atTarget))})
	}
	if len(newer) > 0 {
		out = append(out, Finding{Severity: Note, Kind: KindNewer, Subject: count(len(newer), "node"), Nodes: newer,
			Message: fmt.Sprintf("report a kubelet newer than %s: skipped, never downgraded: %s", w.cu.Spec.TargetVersion, names(newerDesc))})
	}
	if len(cordoned) > 0 {
		out = append(out, Finding{Severity: Note, Kind: KindCordoned, Subject: count(len(cordoned), "node"), Nodes: cordoned,
			Message: "cordoned by someone else: each holds a slot of maxUnavailable already, starts without taking another, " +
				"and stays cordoned after its upgrade: " + names(cordoned)})
	}
	return out
}
