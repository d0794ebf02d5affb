package plan

import (
	"fmt"
	"time"
)

// Failure reasons, the reason of a failed node in status.failed and in its
// events.
const (
	ReasonDrainTimeout   = "DrainTimeout"
	ReasonJobFailed      = "JobFailed"
	ReasonUpgradeTimeout = "UpgradeTimeout"
	// ReasonJobNotBuildable: the node's upgrade Job cannot be built (its
	// name is not a valid label value); found before the node is cordoned.
	ReasonJobNotBuildable = "JobNotBuildable"
)

// ForceDeleteGrace is how long after drain.timeout a node whose drain
// deletes what is left (drain.onTimeout ForceDelete) may still take to be
// drained: pods already deleted get this long to terminate before the node
// fails. Pods that ForceDelete will not delete (no controller without
// drain.force, emptyDir without drain.deleteEmptyDirData) fail it at once.
const ForceDeleteGrace = 2 * time.Minute

// Outcome is what a node's current step should do next.
type Outcome string

// The outcomes of a step decision.
const (
	// Wait: nothing to do yet; look again at RequeueAfter or on the next event.
	Wait Outcome = "Wait"
	// Advance: the step is done; move the node to the next state.
	Advance Outcome = "Advance"
	// Fail: the node failed; mark it failed and leave it cordoned.
	Fail Outcome = "Fail"
	// Block: the node's drain did not finish (drain.onTimeout Cordon); stop
	// it, mark the node blocked and leave it cordoned.
	Block Outcome = "Block"
)

// Decision is the answer of a step function.
type Decision struct {
	Outcome Outcome
	// Reason is a CamelCase word, set with Fail and Block.
	Reason string
	// Message says what the node is waiting for, or why it failed.
	Message string
	// RequeueAfter, with Wait, is when the answer may change by the clock
	// alone (a timeout or the end of the soak); zero when only an event can
	// change it.
	RequeueAfter time.Duration
}

// DrainPass is what the newest finished drain pass over a node saw.
type DrainPass struct {
	// Started is when the pass began.
	Started time.Time
	// Force is a pass that deleted pods instead of evicting them.
	Force bool
	// Drained is the pass finding no pod left to leave the node.
	Drained bool
	// Kept is how many pods the drain options keep (a pod without a
	// controller and drain.force false, emptyDir and
	// drain.deleteEmptyDirData false): no eviction or deletion moves them.
	Kept int
	// Err is why the pass could not look at the node's pods.
	Err error
	// Message says what keeps the node from being drained.
	Message string
}

// DrainFacts is what the draining step looks at.
type DrainFacts struct {
	// Since is when the node entered draining; Timeout is drain.timeout.
	Since   time.Time
	Timeout time.Duration
	Now     time.Time
	// ForceDelete is drain.onTimeout ForceDelete.
	ForceDelete bool
	// Cordon is drain.onTimeout Cordon (for a worker: a control-plane
	// node's drain fails, as its wave halts on any node it cannot finish).
	Cordon bool
	// Last is the newest finished pass that began after the drain did,
	// nil when there is none yet.
	Last *DrainPass
}

// Forcing reports whether the drain has reached the point where what is
// left is deleted without eviction: drain.timeout passed, with ForceDelete.
func (f DrainFacts) Forcing() bool {
	return f.ForceDelete && !f.Now.Before(f.Since.Add(f.Timeout))
}

// DrainStep decides the draining step. A node advances once a pass found it
// drained. At drain.timeout it fails (onTimeout Fail), or is blocked
// (onTimeout Cordon), once a pass that
// began after the deadline still finds pods to leave, so pods that left
// just in time count. With ForceDelete the passes delete what is left; the
// node fails when a deleting pass finds pods the options keep, or when it
// is still not drained ForceDeleteGrace after the deadline: a drain is
// always bounded.
func DrainStep(f DrainFacts) Decision {
	if f.Last != nil && f.Last.Drained {
		return Decision{Outcome: Advance}
	}
	deadline := f.Since.Add(f.Timeout)
	lookedAfter := func(t time.Time) bool { return f.Last != nil && f.Last.Err == nil && !f.Last.Started.Before(t) }
	if f.Now.Before(deadline) {
		return Decision{Outcome: Wait, Message: drainMessage(f.Last), RequeueAfter: deadline.Sub(f.Now)}
	}
	if !f.ForceDelete {
		if lookedAfter(deadline) {
			outcome := Fail
			if f.Cordon {
				outcome = Block
			}
			return Decision{Outcome: outcome, Reason: ReasonDrainTimeout, Message: withDetail(
				fmt.Sprintf("not drained within drain.timeout %s", f.Timeout), f.Last.Message)}
		}
		return Decision{Outcome: Wait, Message: fmt.Sprintf("drain.timeout %s passed: one more look at its pods decides", f.Timeout)}
	}
	switch graceEnd := deadline.Add(ForceDeleteGrace); {
	case lookedAfter(deadline) && f.Last.Force && f.Last.Kept > 0:
		return Decision{Outcome: Fail, Reason: ReasonDrainTimeout, Message: withDetail(fmt.Sprintf(
			"not drained within drain.timeout %s, and drain.onTimeout ForceDelete does not delete what is left", f.Timeout), f.Last.Message)}
	case lookedAfter(graceEnd):
		return Decision{Outcome: Fail, Reason: ReasonDrainTimeout, Message: withDetail(fmt.Sprintf(
			"not drained within drain.timeout %s and %s of ForceDelete", f.Timeout, ForceDeleteGrace), f.Last.Message)}
	case !f.Now.Before(graceEnd):
		return Decision{Outcome: Wait, Message: "ForceDelete's grace passed: one more look at its pods decides"}
	default:
		return Decision{Outcome: Wait, Message: withDetail("drain.timeout passed: deleting what is left (drain.onTimeout ForceDelete)",
			drainMessage(f.Last)), RequeueAfter: graceEnd.Sub(f.Now)}
	}
}

// drainMessage says what the newest pass found.
func drainMessage(last *DrainPass) string {
	switch {
	case last == nil:
		return "evicting its pods"
	case last.Err != nil:
		return fmt.Sprintf("drain: %v", last.Err)
	default:
		return last.Message
	}
}

// withDetail appends what keeps the node to a message, when there is any.
func withDetail(msg, detail string) string {
	if detail == "" || detail == msg {
		return msg
	}
	return msg + ": " + detail
}

// UpgradeFacts is what the upgrading step looks at.
type UpgradeFacts struct {
	// Reached is the kubelet reporting the target of this step, or a newer
	// version (nodewave never downgrades).
	Reached bool
	// Ready is the node's Ready condition being True.
	Ready bool
	// KubeletVersion is what the kubelet reports, for messages.
	KubeletVersion string
	// JobSucceeded and JobFailed describe the upgrade Job; both false in
	// External mode or while the Job runs.
	JobSucceeded, JobFailed bool
	// JobMessage is why the Job failed.
	JobMessage string
	// Deadline is when upgrade.timeout (Timeout), counted from the start
	// of the upgrading step, runs out.
	Deadline time.Time
	Timeout  time.Duration
	Now      time.Time
}

// UpgradeStep decides the upgrading step. The kubelet is the truth, not the
// Job: a node Ready at the target advances even if its Job failed, and a Job
// that succeeded while the kubelet still reports the old version is not
// success (the node waits until upgrade.timeout).
func UpgradeStep(f UpgradeFacts) Decision {
	switch {
	case f.Reached && f.Ready:
		return Decision{Outcome: Advance}
	case f.JobFailed:
		return Decision{Outcome: Fail, Reason: ReasonJobFailed, Message: "upgrade Job failed: " + f.JobMessage}
	}
	left := f.Deadline.Sub(f.Now)
	if left <= 0 {
		return Decision{Outcome: Fail, Reason: ReasonUpgradeTimeout, Message: fmt.Sprintf(
			"not Ready at the target within upgrade.timeout %s (kubelet reports %s)", f.Timeout, f.KubeletVersion)}
	}
	msg := "waiting for the kubelet to report the target"
	switch {
	case f.Reached:
		msg = "kubelet reports the target; waiting for the node to be Ready"
	case f.JobSucceeded:
		msg = fmt.Sprintf("upgrade Job succeeded but the kubelet still reports %s", f.KubeletVersion)
	}
	return Decision{Outcome: Wait, Message: msg, RequeueAfter: left}
}

// VerifyFacts is what the verifying step looks at.
type VerifyFacts struct {
	// Reached and Ready as in UpgradeFacts.
	Reached, Ready bool
	// ReadySince is the last transition time of the Ready condition.
	ReadySince time.Time
	// Since is when the node entered verifying.
	Since time.Time
	// Soak is health.soakDuration.
	Soak time.Duration
	// Deadline is the upgrading step's: upgrade.timeout bounds upgrading
	// and verifying together, so a node may not stay out of Ready at the
	// target past it.
	Deadline time.Time
	Now      time.Time
}

// VerifyStep decides the verifying step: the node must be Ready at the
// target continuously for the soak duration. A node that drops out of Ready
// restarts its soak when it comes back; one that is out of it past the
// upgrade's deadline fails.
func VerifyStep(f VerifyFacts) Decision {
	if !f.Reached || !f.Ready {
		left := f.Deadline.Sub(f.Now)
		if left <= 0 {
			return Decision{Outcome: Fail, Reason: ReasonUpgradeTimeout, Message: "not Ready at the target within upgrade.timeout while verifying"}
		}
		return Decision{Outcome: Wait, Message: "waiting for the node to be Ready at the target", RequeueAfter: left}
	}
	healthySince := f.Since
	if f.ReadySince.After(healthySince) {
		healthySince = f.ReadySince
	}
	left := f.Soak - f.Now.Sub(healthySince)
	if left <= 0 {
		return Decision{Outcome: Advance}
	}
	return Decision{Outcome: Wait, Message: fmt.Sprintf("Ready at the target; soaking for %s more", left.Round(time.Second)), RequeueAfter: left}
}

// ReasonControlPlaneChecks: a control-plane node's checks (its static
// pods, its API server, etcd's quorum) did not pass within upgrade.timeout.
const ReasonControlPlaneChecks = "ControlPlaneChecksFailed"

// ControlPlaneCheckInterval is how often the checks of a control-plane
// node that has not passed them yet are made again.
const ControlPlaneCheckInterval = 10 * time.Second

// ChecksStep decides the end of a control-plane node's verifying step,
// once its soak is over: problem is what its checks found ("" when they
// passed). It advances when they passed, fails the node once the upgrade's
// deadline has passed, and otherwise checks again soon.
func ChecksStep(problem string, deadline, now time.Time) Decision {
	if problem == "" {
		return Decision{Outcome: Advance}
	}
	left := deadline.Sub(now)
	if left <= 0 {
		return Decision{Outcome: Fail, Reason: ReasonControlPlaneChecks,
			Message: "the control plane's checks did not pass within upgrade.timeout: " + problem}
	}
	return Decision{Outcome: Wait, Message: "soaked; waiting for the control plane's checks: " + problem,
		RequeueAfter: min(left, ControlPlaneCheckInterval)}
}
