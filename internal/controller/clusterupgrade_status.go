package controller

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// setProgressStatus writes the status of a pass that passed the pre-flight
// checks: counts, the nodes in flight and the failed ones, the phase and
// the kstatus conditions. The top-level counts are the workers'; the
// control plane's are in status.controlPlane.
func setProgressStatus(cu *upgradev1alpha1.ClusterUpgrade, s *scope, w waves, now time.Time) {
	st := &cu.Status
	p, all := w.workers, w.all()
	st.TotalNodes = int32(len(s.nodes) - len(s.controlPlane))
	st.UpgradedNodes, st.UpgradingNodes, st.PendingNodes = int32(p.Upgraded), int32(p.InFlight), int32(p.Pending)
	st.FailedNodes, st.SkippedNodes = int32(p.Failed), int32(p.Skipped)
	st.BlockedNodes = int32(len(p.BlockedNodes))
	st.InProgress = inProgressList(s)
	st.Failed = failedList(s, all.FailedNodes, min(int(cu.Spec.MaxFailedNodes)+1+w.controlPlane.Failed, maxStatusNodes))
	st.Blocked = failedList(s, p.BlockedNodes, min(cu.Spec.MaxBlockedNodes(s.maxUnavailable)+1, maxStatusNodes))
	if st.StartedAt == nil && (all.InFlight > 0 || all.Failed > 0) {
		// Set on the pass that starts the first node; should that pass's
		// status write have been lost (a crash), the next one sets it.
		t := metaTime(now)
		st.StartedAt = &t
	}
	setControlPlaneStatus(cu, s, w)

	summary := progressSummary(cu, s, w)
	st.NextWindowOpens = nil
	progressing := upgradev1alpha1.ReasonProgressing
	if next, waiting := s.windowWait(all); waiting {
		t := metaTime(next)
		st.NextWindowOpens = &t
		progressing = upgradev1alpha1.ReasonOutsideWindow
		summary += "; outside the maintenance window; the next opens at " + s.window.Format(next)
	} else if !w.controlPlaneDone() && p.Pending > 0 {
		progressing = upgradev1alpha1.ReasonWaitingForControlPlane
	}
	// The wave that blocks: the control plane's while it is not done.
	blocking, blockingNodes, budget := p, unavailableNodes(s, false), s.maxUnavailable
	if !w.controlPlane.Done {
		blocking, blockingNodes, budget = w.controlPlane, unavailableNodes(s, true), 1
	}
	failedReason, failedMessage := failedPhase(cu, s, w, summary)
	switch {
	case failedReason != "":
		setStalled(cu, upgradev1alpha1.PhaseFailed, failedReason, failedMessage)
	case all.Done:
		st.Phase = upgradev1alpha1.PhaseSucceeded
		meta.RemoveStatusCondition(&st.Conditions, upgradev1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(&st.Conditions, upgradev1alpha1.ConditionStalled)
		setCondition(cu, upgradev1alpha1.ConditionReady, metav1.ConditionTrue, upgradev1alpha1.ReasonSucceeded, summary)
	case cu.Spec.Paused:
		msg := "paused: " + summary
		if all.InFlight > 0 {
			msg += "; the nodes in flight are being finished"
		}
		setPaused(cu, upgradev1alpha1.ReasonPaused, msg)
	case p.Canary.Hold != "" && !all.Done:
		setCanaryStatus(cu, p, summary)
	case blocking.Blocked && len(blocking.NotReadyPending) == blocking.Pending:
		setStalled(cu, upgradev1alpha1.PhaseProgressing, upgradev1alpha1.ReasonNodesNotReady, fmt.Sprintf(
			"%s; every pending node is NotReady (%s), and NotReady nodes are never started", summary, listSome(blocking.NotReadyPending)))
	case blocking.Blocked:
		uses := fmt.Sprintf("the whole maxUnavailable of %d", budget)
		if z := cu.Spec.Strategy.Zones; z != nil && z.MaxUnavailable != nil && w.controlPlane.Done {
			uses += fmt.Sprintf(", or the whole budget (strategy.zones.maxUnavailable %s) of each zone with a node to start", z.MaxUnavailable.String())
		}
		setStalled(cu, upgradev1alpha1.PhaseProgressing, upgradev1alpha1.ReasonBudgetExhausted, fmt.Sprintf(
			"%s; %d selected nodes are unavailable and none is in flight (%s), which uses %s, so nothing can start",
			summary, blocking.Unavailable, listSome(blockingNodes), uses))
	default:
		st.Phase = upgradev1alpha1.PhaseProgressing
		if all.InFlight == 0 && all.Upgraded == 0 && st.StartedAt == nil {
			st.Phase = upgradev1alpha1.PhasePending
		}
		meta.RemoveStatusCondition(&st.Conditions, upgradev1alpha1.ConditionStalled)
		setCondition(cu, upgradev1alpha1.ConditionReconciling, metav1.ConditionTrue, progressing, summary)
		setCondition(cu, upgradev1alpha1.ConditionReady, metav1.ConditionFalse, progressing, summary)
	}
	if all.Done && st.CompletedAt == nil {
		t := metaTime(now)
		st.CompletedAt = &t
	}
	if !all.Done {
		st.CompletedAt = nil
	}
	st.ObservedGeneration = cu.Generation
}

// setCanaryStatus writes the phase and conditions while the canary
// (spec.strategy.canary) holds the rest: Failed and Stalled when a canary
// node failed, Paused when canary.pause holds them after the soak, and
// Progressing while the canary runs or soaks.
func setCanaryStatus(cu *upgradev1alpha1.ClusterUpgrade, p plan.Plan, summary string) {
	st := &cu.Status
	switch p.Canary.Hold {
	case plan.CanaryFailed:
		setStalled(cu, upgradev1alpha1.PhaseFailed, upgradev1alpha1.ReasonCanaryFailed, fmt.Sprintf(
			"halted: canary node %s failed, so the rest do not start (whatever maxFailedNodes says); %s. "+
				"Fix the cause, then retry by removing the nodes' %s label or by changing the spec",
			strings.Join(p.FailedNodes, ", "), summary, upgradev1alpha1.NodeStateLabel))
	case plan.CanaryPaused:
		setPaused(cu, upgradev1alpha1.ReasonCanaryPaused, fmt.Sprintf(
			"paused after the canary: %s upgraded (the last at %s) and soaked; %s. Set spec.strategy.canary.pause to false to upgrade the rest",
			listSome(p.Canary.Nodes), formatTime(p.Canary.Upgraded), summary))
	default:
		st.Phase = upgradev1alpha1.PhaseProgressing
		meta.RemoveStatusCondition(&st.Conditions, upgradev1alpha1.ConditionStalled)
		msg := fmt.Sprintf("%s; the rest wait for the canary (%s) to be upgraded", summary, listSome(p.Canary.Nodes))
		if p.Canary.Hold == plan.CanarySoaking {
			msg = fmt.Sprintf("%s; the canary (%s) is upgraded (the last at %s); the rest start after its soak, at %s",
				summary, listSome(p.Canary.Nodes), formatTime(p.Canary.Upgraded), formatTime(p.Canary.Until))
		}
		setCondition(cu, upgradev1alpha1.ConditionReconciling, metav1.ConditionTrue, p.Canary.Hold, msg)
		setCondition(cu, upgradev1alpha1.ConditionReady, metav1.ConditionFalse, p.Canary.Hold, msg)
	}
}

// failedPhase is why the upgrade is Failed, and what to do, or "" when it
// is not: a control-plane node failed, more nodes failed or are blocked
// than allowed, or every node is done and some failed or are blocked.
func failedPhase(cu *upgradev1alpha1.ClusterUpgrade, s *scope, w waves, summary string) (reason, message string) {
	p, done := w.workers, w.all().Done
	switch {
	case w.controlPlane.Failed > 0:
		return upgradev1alpha1.ReasonControlPlaneFailed, controlPlaneFailedMessage(s, w)
	case p.Halted:
		return upgradev1alpha1.ReasonTooManyFailures, fmt.Sprintf(
			"halted: %d nodes failed, more than maxFailedNodes %d allows (%s); nothing new starts. "+
				"Fix the cause, then retry by removing the nodes' %s label or by changing the spec",
			p.Failed, cu.Spec.MaxFailedNodes, strings.Join(p.FailedNodes, ", "), upgradev1alpha1.NodeStateLabel)
	case p.TooManyBlocked:
		return upgradev1alpha1.ReasonTooManyBlockedNodes, fmt.Sprintf(
			"halted: %d nodes are blocked, more than drain.maxBlockedNodes %d allows (%s): their drains did not finish "+
				"within drain.timeout and they stay cordoned; nothing new starts. Let their pods leave, then retry "+
				"them by removing their %s label or by changing the spec",
			len(p.BlockedNodes), cu.Spec.MaxBlockedNodes(s.maxUnavailable), listSome(p.BlockedNodes), upgradev1alpha1.NodeStateLabel)
	case done && p.Failed > 0:
		return upgradev1alpha1.ReasonNodesFailed, fmt.Sprintf(
			"%s; the failed nodes stay cordoned (%s): retry them by removing their %s label or by changing the spec",
			summary, strings.Join(p.FailedNodes, ", "), upgradev1alpha1.NodeStateLabel)
	case done && len(p.BlockedNodes) > 0:
		return upgradev1alpha1.ReasonNodesBlocked, fmt.Sprintf(
			"%s; the blocked nodes stay cordoned, not upgraded (%s): let their pods leave, then retry them "+
				"by removing their %s label or by changing the spec",
			summary, listSome(p.BlockedNodes), upgradev1alpha1.NodeStateLabel)
	}
	return "", ""
}

// progressSummary says where both waves stand and what they wait for, in
// words: the control plane's first, when there is one.
func progressSummary(cu *upgradev1alpha1.ClusterUpgrade, s *scope, w waves) string {
	p := w.workers
	summary := waveSummary(p, len(s.nodes)-len(s.controlPlane), "nodes")
	if cu.Spec.ControlPlane != nil {
		summary = waveSummary(w.controlPlane, len(s.controlPlane), "control-plane nodes") + "; " + summary
		if !w.controlPlaneDone() && p.Pending > 0 {
			summary += " (they wait for the control plane)"
		}
	}
	if len(p.NotReadyPending) > 0 && len(p.NotReadyPending) < p.Pending {
		summary += fmt.Sprintf("; NotReady, not started: %s", listSome(p.NotReadyPending))
	}
	if held := slices.Concat(w.controlPlane.HeldElsewhere, p.HeldElsewhere); len(held) > 0 {
		summary += fmt.Sprintf("; held by another ClusterUpgrade, waiting for it: %s", listSome(held))
	}
	if w.checks != nil {
		summary += "; " + w.checks.message
	}
	return summary
}

// waveSummary says where one wave's nodes stand, in words.
func waveSummary(p plan.Plan, total int, what string) string {
	summary := fmt.Sprintf("%d of %d %s upgraded, %d in flight, %d pending", p.Upgraded, total, what, p.InFlight, p.Pending)
	if p.Failed > 0 {
		summary += fmt.Sprintf(", %d failed", p.Failed)
	}
	if len(p.BlockedNodes) > 0 {
		summary += fmt.Sprintf(", %d blocked", len(p.BlockedNodes))
	}
	if p.Skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", p.Skipped)
	}
	return summary
}

// setControlPlaneStatus writes status.controlPlane and the
// ControlPlaneUpgraded condition, or removes them without spec.controlPlane.
func setControlPlaneStatus(cu *upgradev1alpha1.ClusterUpgrade, s *scope, w waves) {
	if cu.Spec.ControlPlane == nil {
		cu.Status.ControlPlane = nil
		meta.RemoveStatusCondition(&cu.Status.Conditions, upgradev1alpha1.ConditionControlPlaneUpgraded)
		return
	}
	cp := w.controlPlane
	cu.Status.ControlPlane = &upgradev1alpha1.ControlPlaneStatus{
		TotalNodes: int32(len(s.controlPlane)), UpgradedNodes: int32(cp.Upgraded), UpgradingNodes: int32(cp.InFlight),
		PendingNodes: int32(cp.Pending), FailedNodes: int32(cp.Failed), SkippedNodes: int32(cp.Skipped),
	}
	summary := waveSummary(cp, len(s.controlPlane), "control-plane nodes")
	status, reason, message := metav1.ConditionFalse, upgradev1alpha1.ReasonUpgrading, summary
	switch {
	case cp.Failed > 0:
		reason, message = upgradev1alpha1.ReasonControlPlaneFailed, controlPlaneFailedMessage(s, w)
	case w.controlPlaneDone():
		status, reason = metav1.ConditionTrue, upgradev1alpha1.ReasonSucceeded
	case w.checks != nil:
		reason, message = upgradev1alpha1.ReasonWaitingForChecks, summary+"; "+w.checks.message
	}
	setCondition(cu, upgradev1alpha1.ConditionControlPlaneUpgraded, status, reason, message)
}

// controlPlaneFailedMessage says which control-plane node failed, why,
// and what to do.
func controlPlaneFailedMessage(s *scope, w waves) string {
	failed := failedList(s, w.controlPlane.FailedNodes, maxStatusNodes)
	failures := make([]string, 0, len(failed))
	for _, f := range failed {
		failures = append(failures, fmt.Sprintf("%s (%s: %s)", f.Name, f.Reason, f.Message))
	}
	return truncate(fmt.Sprintf("halted: control-plane node %s failed; nothing new starts, control plane or workers. "+
		"The other control-plane nodes were not touched while it was in flight, so etcd keeps its quorum and their API servers serve. "+
		"Read the node's upgrade Job logs and its kubelet's journal, repair the node (kubeadm keeps a backup of the static pod "+
		"manifests and etcd under /etc/kubernetes/tmp), then retry it by removing its %s label or by changing the spec",
		strings.Join(failures, ", "), upgradev1alpha1.NodeStateLabel), 2*maxStatusMessage)
}

// setStalledStatus writes the status of a pass that a pre-flight check
// stopped: nothing was touched, and only a human can unblock it.
func setStalledStatus(cu *upgradev1alpha1.ClusterUpgrade, s *scope, b *blocker) {
	cu.Status.TotalNodes = int32(len(s.nodes) - len(s.controlPlane))
	cu.Status.NextWindowOpens = nil
	phase := cu.Status.Phase
	if phase == "" || phase == upgradev1alpha1.PhaseSucceeded {
		phase = upgradev1alpha1.PhasePending
	}
	setStalled(cu, phase, b.reason, b.message)
	cu.Status.ObservedGeneration = cu.Generation
}

// setHeldStatus writes the status of a pass in which b held every new
// start: the counts as they are, and Stalled with b's reason, or, for a
// transient b that is retried by itself, Reconciling with its message.
func setHeldStatus(cu *upgradev1alpha1.ClusterUpgrade, s *scope, w waves, b *blocker) {
	setProgressStatus(cu, s, w, s.now)
	if !b.transient {
		setStalled(cu, cu.Status.Phase, b.reason, b.message)
		return
	}
	meta.RemoveStatusCondition(&cu.Status.Conditions, upgradev1alpha1.ConditionStalled)
	msg := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionReady).Message + "; nothing new starts: " + b.message
	setCondition(cu, upgradev1alpha1.ConditionReconciling, metav1.ConditionTrue, upgradev1alpha1.ReasonProgressing, msg)
	setCondition(cu, upgradev1alpha1.ConditionReady, metav1.ConditionFalse, upgradev1alpha1.ReasonProgressing, msg)
}

// setGated keeps the Gated condition: True while a gate of spec.health
// holds new starts, since the gate closed; removed when the gate was
// judged open or nothing is left to start; as it was in a pass that did
// not judge it (nothing could start then anyway).
func setGated(cu *upgradev1alpha1.ClusterUpgrade, gate *plan.Gate, judged, pending bool) {
	switch {
	case gate != nil:
		meta.SetStatusCondition(&cu.Status.Conditions, metav1.Condition{
			Type: upgradev1alpha1.ConditionGated, Status: metav1.ConditionTrue, Reason: gate.Reason,
			Message: gate.Message, ObservedGeneration: cu.Generation, LastTransitionTime: metaTime(gate.Since),
		})
	case judged || !pending:
		meta.RemoveStatusCondition(&cu.Status.Conditions, upgradev1alpha1.ConditionGated)
	}
}

// setPaused sets phase Paused and Ready=False with reason and message, and
// removes Reconciling and Stalled: a pause waits for a person, not for a
// fix.
func setPaused(cu *upgradev1alpha1.ClusterUpgrade, reason, message string) {
	cu.Status.Phase = upgradev1alpha1.PhasePaused
	meta.RemoveStatusCondition(&cu.Status.Conditions, upgradev1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&cu.Status.Conditions, upgradev1alpha1.ConditionStalled)
	setCondition(cu, upgradev1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
}

// setStalled sets phase, Stalled=True and Ready=False with reason and
// message, and removes Reconciling: kstatus never has both.
func setStalled(cu *upgradev1alpha1.ClusterUpgrade, phase upgradev1alpha1.Phase, reason, message string) {
	cu.Status.Phase = phase
	meta.RemoveStatusCondition(&cu.Status.Conditions, upgradev1alpha1.ConditionReconciling)
	setCondition(cu, upgradev1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
	setCondition(cu, upgradev1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
}

// setCondition sets one condition at the object's current generation.
func setCondition(cu *upgradev1alpha1.ClusterUpgrade, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&cu.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: cu.Generation,
	})
}

// maxStatusNodes bounds status.inProgress and status.failed, so that the
// object stays far below etcd's limit (1.5 MiB) at any size: each entry
// takes at most about 1 KiB (a node name, a state, a time and a message
// of at most maxStatusMessage bytes). The counts in status are always
// exact; the lists name the first maxStatusNodes in plan order.
const maxStatusNodes = 500

// maxStatusMessage bounds each message in status.inProgress.
const maxStatusMessage = 512

// inProgressList is every node in flight, up to maxStatusNodes, with its
// state and what it waits for, in plan order. The budget bounds it: it is
// never longer than maxUnavailable, unless nodes that were in flight
// before a spec change lowered the budget still are.
func inProgressList(s *scope) []upgradev1alpha1.NodeProgress {
	var out []upgradev1alpha1.NodeProgress
	for _, name := range s.inFlight() {
		if len(out) == maxStatusNodes {
			break
		}
		n := s.nodes[name]
		since := metaTime(stateSince(n, s.now))
		out = append(out, upgradev1alpha1.NodeProgress{
			Name:    name,
			State:   upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel]),
			Since:   &since,
			Message: truncate(s.messages[name], maxStatusMessage),
		})
	}
	return out
}

// failedList is up to limit of the named failed (or blocked) nodes, with
// why they failed (or why their drain did not finish).
func failedList(s *scope, names []string, limit int) []upgradev1alpha1.NodeFailure {
	var out []upgradev1alpha1.NodeFailure
	for _, name := range names {
		if len(out) == limit {
			break
		}
		n := s.nodes[name]
		reason, message, _ := strings.Cut(n.Annotations[upgradev1alpha1.FailureAnnotation], ": ")
		if reason == "" {
			reason = "Unknown"
		}
		t := metaTime(stateSince(n, s.now))
		out = append(out, upgradev1alpha1.NodeFailure{Name: name, Reason: reason, Message: truncate(message, maxStatusMessage), Time: &t})
	}
	return out
}

// unavailableNodes names the nodes of one wave (the control plane's, or
// the others') that are unavailable, in plan order.
func unavailableNodes(s *scope, controlPlane bool) []string {
	var out []string
	for _, name := range s.order {
		n := s.nodes[name]
		if s.controlPlane[name] == controlPlane && s.planNode(n).Unavailable() {
			out = append(out, name)
		}
	}
	return out
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// listSome joins up to five names, then says how many more.
func listSome(names []string) string {
	const most = 5
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

// metaTime truncates to seconds, as the API stores times.
func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t.UTC().Truncate(time.Second)) }
