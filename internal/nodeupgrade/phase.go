package nodeupgrade

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Phase is the outcome of an upgrade Job as JobPhase reads it.
type Phase string

const (
	// JobRunning: the Job has not finished (its pod may still be pending).
	JobRunning Phase = "Running"
	// JobSucceeded: the Job's pod completed successfully.
	JobSucceeded Phase = "Succeeded"
	// JobFailed: the Job failed, for example it outlived its deadline or its
	// pod failed (backoffLimit is 0, so one failure is final).
	JobFailed Phase = "Failed"
)

// JobPhase reads a Job's outcome, with a message that says why when the Job
// failed: the reason and message of the Job's failure condition, as in
// "DeadlineExceeded: Job was active longer than specified deadline". The
// message is empty for a Job that is running or succeeded.
//
// The Job's terminal conditions decide first: Complete=True is Succeeded,
// Failed=True is Failed. Then the conditions the Job controller sets before
// them while the last pods terminate: SuccessCriteriaMet=True is Succeeded,
// FailureTarget=True is Failed. Then a Job with status.succeeded > 0 is
// Succeeded. Anything else, including a nil Job, is Running.
func JobPhase(job *batchv1.Job) (Phase, string) {
	if job == nil {
		return JobRunning, ""
	}
	if trueCondition(job, batchv1.JobComplete) != nil {
		return JobSucceeded, ""
	}
	if c := trueCondition(job, batchv1.JobFailed); c != nil {
		return JobFailed, failureMessage(c)
	}
	if trueCondition(job, batchv1.JobSuccessCriteriaMet) != nil {
		return JobSucceeded, ""
	}
	if c := trueCondition(job, batchv1.JobFailureTarget); c != nil {
		return JobFailed, failureMessage(c)
	}
	if job.Status.Succeeded > 0 {
		return JobSucceeded, ""
	}
	return JobRunning, ""
}

// trueCondition returns the Job's condition of type t if its status is
// True, or nil.
func trueCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// failureMessage says why a Job failed from its failure condition:
// "Reason: message", or whichever of the two is set, or a fallback naming
// the condition when neither is.
func failureMessage(c *batchv1.JobCondition) string {
	switch {
	case c.Reason != "" && c.Message != "":
		return c.Reason + ": " + c.Message
	case c.Reason != "":
		return c.Reason
	case c.Message != "":
		return c.Message
	}
	return "the Job's " + string(c.Type) + " condition is True"
}
