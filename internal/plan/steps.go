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
)

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
)

// Decision is the answer of a step function.
type Decision struct {
	Outcome Outcome
	// Reason is a CamelCase word, set with Fail.
	Reason string
	// Message says what the node is waiting for, or why it failed.
	Message string
	// RequeueAfter, with Wait, is when the answer may change by the clock
	// alone (a timeout or the end of the soak); zero when only an event can
	// change it.
	RequeueAfter time.Duration
}

// UpgradeFacts is what the upgrading step looks at.
type UpgradeFacts struct {
	// AtTarget is the kubelet reporting the target of this step.
	AtTarget bool
	// Ready is the node's Ready condition being True.
	Ready bool
	// KubeletVersion is what the kubelet reports, for messages.
	KubeletVersion string
	// JobSucceeded and JobFailed describe the upgrade Job; both false in
	// External mode or while the Job runs.
	JobSucceeded, JobFailed bool
	// JobMessage is why the Job failed.
	JobMessage string
	// Since is when the node entered upgrading; Timeout is upgrade.timeout.
	Since   time.Time
	Timeout time.Duration
	Now     time.Time
}

// UpgradeStep decides the upgrading step. The kubelet is the truth, not the
// Job: a node Ready at the target advances even if its Job failed, and a Job
// that succeeded while the kubelet still reports the old version is not
// success (the node waits until upgrade.timeout).
func UpgradeStep(f UpgradeFacts) Decision {
	switch {
	case f.AtTarget && f.Ready:
		return Decision{Outcome: Advance}
	case f.JobFailed:
		return Decision{Outcome: Fail, Reason: ReasonJobFailed, Message: "upgrade Job failed: " + f.JobMessage}
	}
	left := f.Timeout - f.Now.Sub(f.Since)
	if left <= 0 {
		return Decision{Outcome: Fail, Reason: ReasonUpgradeTimeout, Message: fmt.Sprintf(
			"not Ready at the target within upgrade.timeout %s (kubelet reports %s)", f.Timeout, f.KubeletVersion)}
	}
	msg := "waiting for the kubelet to report the target"
	switch {
	case f.AtTarget:
		msg = "kubelet reports the target; waiting for the node to be Ready"
	case f.JobSucceeded:
		msg = fmt.Sprintf("upgrade Job succeeded but the kubelet still reports %s", f.KubeletVersion)
	}
	return Decision{Outcome: Wait, Message: msg, RequeueAfter: left}
}

// VerifyFacts is what the verifying step looks at.
type VerifyFacts struct {
	// AtTarget and Ready as in UpgradeFacts.
	AtTarget, Ready bool
	// ReadySince is the last transition time of the Ready condition.
	ReadySince time.Time
	// Since is when the node entered verifying.
	Since time.Time
	// Soak is health.soakDuration; Timeout is upgrade.timeout, which bounds
	// how long a node may stay not Ready at the target while verifying.
	Soak, Timeout time.Duration
	Now           time.Time
}

// VerifyStep decides the verifying step: the node must be Ready at the
// target continuously for the soak duration. A node that drops out of Ready
// restarts its soak when it comes back; one that stays out longer than
// upgrade.timeout fails.
func VerifyStep(f VerifyFacts) Decision {
	if !f.AtTarget || !f.Ready {
		left := f.Timeout - f.Now.Sub(f.Since)
		if left <= 0 {
			return Decision{Outcome: Fail, Reason: ReasonUpgradeTimeout, Message: fmt.Sprintf(
				"not Ready at the target for %s while verifying", f.Timeout)}
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

// DrainExpired reports whether a drain that started at since has outlived
// timeout at now, and how long it has left otherwise.
func DrainExpired(since time.Time, timeout time.Duration, now time.Time) (bool, time.Duration) {
	left := timeout - now.Sub(since)
	return left <= 0, left
}
