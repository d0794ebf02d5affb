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
// upgrade: no node selected, a target newer than the API server, an
// older unfinished ClusterUpgrade on the same nodes, too many failures
// already, a maintenance window that cannot be read or is closed now,
// spec.paused.
func (w *world) preflight(in Input, now plan.Plan) []Finding {
	var out []Finding
	cu := w.cu
	subject := "ClusterUpgrade " + cu.Name
	if len(w.nodes) == 0 {
		sel, _ := cu.Selector()
		out = append(out, Finding{Severity: Blocker, Kind: KindNoNodes, Subject: subject,
			Message: fmt.Sprintf("spec.nodeSelector matches no node (selector %q): the upgrade stalls with reason NoNodes", sel.String())})
	}
	if f, ok := w.versionSkew(in.ServerVersion); ok {
		out = append(out, f)
	}
	out = append(out, w.conflicts(in.ClusterUpgrades)...)
	if now.Halted {
		out = append(out, Finding{Severity: Blocker, Kind: KindHalted, Subject: subject, Nodes: now.FailedNodes,
			Message: fmt.Sprintf("%s failed, more than spec.maxFailedNodes %d allows: nothing new starts until they are retried "+
				"(remove their %s label) or the spec changes: %s",
				count(now.Failed, "node"), cu.Spec.MaxFailedNodes, upgradev1alpha1.NodeStateLabel, names(now.FailedNodes))})
	}
	out = append(out, w.maintenanceWindow(in.Now, now)...)
	if cu.Spec.Paused {
		out = append(out, Finding{Severity: Note, Kind: KindPaused, Subject: subject,
			Message: "spec.paused is true: nothing starts until it is false; the waves are what happens then"})
	}
	return out
}

// versionSkew refuses, as the controller does, a target newer than the
// API server, comparing MAJOR.MINOR.PATCH only.
func (w *world) versionSkew(server string) (Finding, bool) {
	if server == "" {
		return Finding{}, false
	}
	subject := "ClusterUpgrade " + w.cu.Name
	sv, err := version.Parse(server)
	if err != nil {
		return Finding{Severity: Blocker, Kind: KindVersionSkew, Subject: subject,
			Message: fmt.Sprintf("the API server reports version %q, which is not a semantic version: the upgrade stalls with reason VersionSkew", server)}, true
	}
	if !version.NewerRelease(w.target, sv) {
		return Finding{}, false
	}
	return Finding{Severity: Blocker, Kind: KindVersionSkew, Subject: subject,
		Message: fmt.Sprintf("targetVersion %s is newer than the API server (%s): the upgrade stalls with reason VersionSkew "+
			"until the control plane is upgraded, as a kubelet must never be newer than its API server", w.cu.Spec.TargetVersion, server)}, true
}

// conflicts finds the older unfinished ClusterUpgrades that select a node
// this one selects: this one waits for them (reason Conflict). A
// ClusterUpgrade that is not applied yet is the newest; one of the same
// name is the same object.
func (w *world) conflicts(all []upgradev1alpha1.ClusterUpgrade) []Finding {
	var out []Finding
	for i := range all {
		other := &all[i]
		if !w.cu.WaitsFor(other) {
			continue
		}
		sel, err := other.Selector()
		if err != nil {
			continue
		}
		var shared []string
		for _, n := range w.planNodes {
			if sel.Matches(labels.Set(w.nodes[n.Name].Labels)) {
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
// the order in which nodes start while it is open.
func (w *world) maintenanceWindow(now time.Time, p plan.Plan) []Finding {
	subject := "ClusterUpgrade " + w.cu.Name
	win, err := window.Parse(w.cu.Spec.Window)
	switch {
	case err != nil:
		return []Finding{{Severity: Blocker, Kind: KindWindow, Subject: subject,
			Message: err.Error() + ": the upgrade stalls with reason InvalidWindow and nothing new starts"}}
	case win == nil || now.IsZero() || p.Pending == 0 || p.Halted:
		return nil
	case win.Open(now):
		return []Finding{{Severity: Note, Kind: KindWindow, Subject: subject,
			Message: fmt.Sprintf("spec.window is open until %s; nodes start only while it is open, so the waves may span several windows",
				win.ClosesAt(now).Format(time.RFC3339))}}
	}
	return []Finding{{Severity: Note, Kind: KindWindow, Subject: subject, Message: fmt.Sprintf(
		"spec.window is closed now: nothing new starts until it opens at %s (nodes in flight finish)", win.NextOpen(now).Format(time.RFC3339))}}
}
