package forecast

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
	"github.com/nodewave/nodewave/internal/window"
)

// preflight foresees what would stop the controller before it touches a
// node (the checks it reports as Stalled) and what holds the whole
// upgrade: no node selected (or, with spec.controlPlane, no control-plane
// node), a target newer than the API server, an older unfinished
// ClusterUpgrade on the same nodes, too many failures already, a
// maintenance window that cannot be read or is closed now, spec.paused,
// a failed canary node, spec.strategy.canary.pause.
// cpNow and now are the planner's answers now for the control-plane wave
// and the workers'.
func (w *world) preflight(in Input, cpNow, now plan.Plan) []Finding {
	var out []Finding
	cu := w.cu
	subject := "ClusterUpgrade " + cu.Name
	sel, _ := cu.Selector()
	cpSel, _ := cu.ControlPlaneSelector()
	switch {
	case len(w.nodes) == 0 && cpSel != nil:
		out = append(out, Finding{Severity: Blocker, Kind: KindNoNodes, Subject: subject,
			Message: fmt.Sprintf("neither spec.nodeSelector (selector %q) nor spec.controlPlane.nodeSelector (selector %q) matches a node: "+
				"the upgrade stalls with reason NoNodes", sel.String(), cpSel.String())})
	case len(w.nodes) == 0:
		out = append(out, Finding{Severity: Blocker, Kind: KindNoNodes, Subject: subject,
			Message: fmt.Sprintf("spec.nodeSelector matches no node (selector %q): the upgrade stalls with reason NoNodes", sel.String())})
	case cpSel != nil && len(w.controlPlane) == 0:
		out = append(out, Finding{Severity: Blocker, Kind: KindNoNodes, Subject: subject,
			Message: fmt.Sprintf("spec.controlPlane.nodeSelector matches no node (selector %q): the upgrade stalls with reason NoNodes, "+
				"and nothing starts, workers included, until it selects the control-plane nodes", cpSel.String())})
	}
	if f, ok := w.versionSkew(in.ServerVersion); ok {
		out = append(out, f)
	}
	out = append(out, w.conflicts(in.ClusterUpgrades)...)
	if cpNow.Failed > 0 {
		out = append(out, Finding{Severity: Blocker, Kind: KindHalted, Subject: subject, Nodes: cpNow.FailedNodes,
			Message: fmt.Sprintf("control-plane %s failed: nothing new starts, control plane or workers (reason ControlPlaneFailed), "+
				"until it is repaired and retried (remove its %s label) or the spec changes: %s",
				count(cpNow.Failed, "node"), upgradev1alpha1.NodeStateLabel, names(cpNow.FailedNodes))})
	}
	if now.Halted {
		out = append(out, Finding{Severity: Blocker, Kind: KindHalted, Subject: subject, Nodes: now.FailedNodes,
			Message: fmt.Sprintf("%s failed, more than spec.maxFailedNodes %d allows: nothing new starts until they are retried "+
				"(remove their %s label) or the spec changes: %s",
				count(now.Failed, "node"), cu.Spec.MaxFailedNodes, upgradev1alpha1.NodeStateLabel, names(now.FailedNodes))})
	}
	out = append(out, w.canaryFindings(now)...)
	out = append(out, w.maintenanceWindow(in.Now, cpNow.Pending+now.Pending, cpNow.Halted || now.Halted)...)
	if cu.Spec.Paused {
		out = append(out, Finding{Severity: Note, Kind: KindPaused, Subject: subject,
			Message: "spec.paused is true: nothing starts until it is false; the waves are what happens then"})
	}
	return out
}

// versionSkew refuses, as the controller does, a target newer than the
// API server, comparing MAJOR.MINOR.PATCH only. With spec.controlPlane the
// control-plane wave goes first and upgrades the API server: only the
// workers wait for it to report the target, so a newer target is a note.
func (w *world) versionSkew(server string) (Finding, bool) {
	if server == "" {
		return Finding{}, false
	}
	subject := "ClusterUpgrade " + w.cu.Name
	sv, err := version.Parse(server)
	if err != nil {
		stalls := "the upgrade stalls with reason VersionSkew"
		if w.hasControlPlane() {
			stalls = "the workers stall with reason VersionSkew after the control-plane wave"
		}
		return Finding{Severity: Blocker, Kind: KindVersionSkew, Subject: subject,
			Message: fmt.Sprintf("the API server reports version %q, which is not a semantic version: %s", server, stalls)}, true
	}
	if !version.NewerRelease(w.target, sv) {
		return Finding{}, false
	}
	if w.hasControlPlane() {
		return Finding{Severity: Note, Kind: KindVersionSkew, Subject: subject,
			Message: fmt.Sprintf("targetVersion %s is newer than the API server (%s): the control-plane wave upgrades it first; "+
				"the workers wait for the API server to report %s after it (reason WaitingForControlPlane while the control plane is "+
				"not done, then VersionSkew), as a kubelet must never be newer than its API server",
				w.cu.Spec.TargetVersion, server, w.cu.Spec.TargetVersion)}, true
	}
	return Finding{Severity: Blocker, Kind: KindVersionSkew, Subject: subject,
		Message: fmt.Sprintf("targetVersion %s is newer than the API server (%s): the upgrade stalls with reason VersionSkew "+
			"until the control plane is upgraded, as a kubelet must never be newer than its API server", w.cu.Spec.TargetVersion, server)}, true
}

// conflicts finds the older unfinished ClusterUpgrades that select a node
// this one selects, as a worker or as a control-plane node: this one
// waits for them (reason Conflict). A ClusterUpgrade that is not applied
// yet is the newest; one of the same name is the same object.
func (w *world) conflicts(all []upgradev1alpha1.ClusterUpgrade) []Finding {
	var out []Finding
	for i := range all {
		other := &all[i]
		if !w.cu.WaitsFor(other) {
			continue
		}
		var shared []string
		for _, n := range w.planNodes {
			if other.Selects(labels.Set(w.nodes[n.Name].Labels)) {
				shared = append(shared, n.Name)
			}
		}
		if len(shared) == 0 {
			continue
		}
		out = append(out, Finding{Severity: Blocker, Kind: KindConflict, Subject: "ClusterUpgrade " + other.Name, Nodes: shared,
			Message: fmt.Sprintf("older and unfinished, it also selects %s: %s waits (reason Conflict) until it finishes or is deleted: %s",
				count(len(shared), "node"), w.cu.Name, names(shared))})
	}
	return out
}

// maintenanceWindow foresees spec.window at now: one that cannot be read
// holds every new start (InvalidWindow); one that is closed while nodes
// wait holds them until it opens. The waves ignore the window: they are
// the order in which nodes start while it is open. pending and halted are
// the planner's now, over both waves.
func (w *world) maintenanceWindow(now time.Time, pending int, halted bool) []Finding {
	subject := "ClusterUpgrade " + w.cu.Name
	win, err := window.Parse(w.cu.Spec.Window)
	switch {
	case err != nil:
		return []Finding{{Severity: Blocker, Kind: KindWindow, Subject: subject,
			Message: err.Error() + ": the upgrade stalls with reason InvalidWindow and nothing new starts"}}
	case win == nil || now.IsZero() || pending == 0 || halted:
		return nil
	case win.Open(now):
		return []Finding{{Severity: Note, Kind: KindWindow, Subject: subject,
			Message: fmt.Sprintf("spec.window is open until %s; nodes start only while it is open, so the waves may span several windows",
				win.ClosesAt(now).Format(time.RFC3339))}}
	}
	return []Finding{{Severity: Note, Kind: KindWindow, Subject: subject, Message: fmt.Sprintf(
		"spec.window is closed now: nothing new starts until it opens at %s (nodes in flight finish)", win.NextOpen(now).Format(time.RFC3339))}}
}

// canaryFindings foresees what spec.strategy.canary holds: a canary node
// that failed holds the rest whatever maxFailedNodes says (the controller
// stalls, CanaryFailed; a halt, which it reports first, has its own
// finding), and canary.pause holds them after the soak until a person
// sets it to false. now is the planner's answer now for the workers.
func (w *world) canaryFindings(now plan.Plan) []Finding {
	if w.canary == nil || !now.Canary.Active {
		return nil
	}
	subject := "ClusterUpgrade " + w.cu.Name
	switch {
	case now.Canary.Hold == plan.CanaryFailed && !now.Halted && now.Pending > 0:
		return []Finding{{Severity: Blocker, Kind: KindCanaryFailed, Subject: subject, Nodes: now.FailedNodes,
			Message: fmt.Sprintf("canary %s failed (spec.strategy.canary): the rest do not start, whatever spec.maxFailedNodes says "+
				"(phase Failed, reason CanaryFailed), until it is repaired and retried (remove its %s label) or the spec changes: %s",
				count(now.Failed, "node"), upgradev1alpha1.NodeStateLabel, names(now.FailedNodes))}}
	case w.canary.Pause && now.Pending > 0:
		msg := "spec.strategy.canary.pause is true: once every canary node is upgraded and has soaked, the rest wait " +
			"(phase Paused, reason CanaryPaused) until it is set to false; the waves after the pause are what happens then"
		if now.Canary.Hold == plan.CanaryPaused {
			msg = "spec.strategy.canary.pause is true and the canary has soaked: the rest wait now (phase Paused, reason CanaryPaused) " +
				"until it is set to false; the waves are what happens then"
		}
		return []Finding{{Severity: Note, Kind: KindCanaryPaused, Subject: subject, Message: msg}}
	}
	return nil
}
