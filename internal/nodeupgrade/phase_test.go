package nodeupgrade

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// cond is a Job condition of type t with status s.
func cond(t batchv1.JobConditionType, s corev1.ConditionStatus, reason, message string) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: s, Reason: reason, Message: message}
}

func TestJobPhase(t *testing.T) {
	const (
		deadline    = "DeadlineExceeded"
		deadlineMsg = "Job was active longer than specified deadline"
		backoff     = "BackoffLimitExceeded"
		backoffMsg  = "Job has reached the specified backoff limit"
	)
	for _, tc := range []struct {
		name        string
		status      batchv1.JobStatus
		wantPhase   Phase
		wantMessage string
	}{
		{"new Job", batchv1.JobStatus{}, JobRunning, ""},
		{"pod active", batchv1.JobStatus{Active: 1}, JobRunning, ""},
		{"pod failed, no condition yet", batchv1.JobStatus{Failed: 1}, JobRunning, ""},
		{"suspended", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended")}}, JobRunning, ""},
		{"Complete", batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{
			cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, "CompletionsReached", ""),
			cond(batchv1.JobComplete, corev1.ConditionTrue, "CompletionsReached", "")}}, JobSucceeded, ""},
		{"Complete without the counter", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobComplete, corev1.ConditionTrue, "", "")}}, JobSucceeded, ""},
		{"SuccessCriteriaMet, pods still terminating", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, "CompletionsReached", "")}}, JobSucceeded, ""},
		{"succeeded counter only", batchv1.JobStatus{Succeeded: 1}, JobSucceeded, ""},
		{"Complete=False is not success", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobComplete, corev1.ConditionFalse, "", "")}}, JobRunning, ""},
		{"deadline exceeded", batchv1.JobStatus{Failed: 1, Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailureTarget, corev1.ConditionTrue, deadline, deadlineMsg),
			cond(batchv1.JobFailed, corev1.ConditionTrue, deadline, deadlineMsg)}}, JobFailed, deadline + ": " + deadlineMsg},
		{"backoff limit", batchv1.JobStatus{Failed: 1, Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailed, corev1.ConditionTrue, backoff, backoffMsg)}}, JobFailed, backoff + ": " + backoffMsg},
		{"FailureTarget, pods still terminating", batchv1.JobStatus{Active: 1, Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailureTarget, corev1.ConditionTrue, deadline, deadlineMsg)}}, JobFailed, deadline + ": " + deadlineMsg},
		{"Failed is read before an earlier FailureTarget", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailureTarget, corev1.ConditionTrue, "PodFailurePolicy", "container exited 3"),
			cond(batchv1.JobFailed, corev1.ConditionTrue, backoff, backoffMsg)}}, JobFailed, backoff + ": " + backoffMsg},
		{"Failed=False is not failure", batchv1.JobStatus{Active: 1, Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailed, corev1.ConditionFalse, backoff, backoffMsg)}}, JobRunning, ""},
		{"FailureTarget=Unknown is not failure", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailureTarget, corev1.ConditionUnknown, deadline, deadlineMsg)}}, JobRunning, ""},
		{"reason only", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailed, corev1.ConditionTrue, deadline, "")}}, JobFailed, deadline},
		{"message only", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailed, corev1.ConditionTrue, "", deadlineMsg)}}, JobFailed, deadlineMsg},
		{"neither reason nor message", batchv1.JobStatus{Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailed, corev1.ConditionTrue, "", "")}}, JobFailed, "the Job's Failed condition is True"},
		{"terminal Complete wins over a stray FailureTarget", batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailureTarget, corev1.ConditionTrue, deadline, deadlineMsg),
			cond(batchv1.JobComplete, corev1.ConditionTrue, "", "")}}, JobSucceeded, ""},
		{"terminal Failed wins over the succeeded counter", batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{
			cond(batchv1.JobFailed, corev1.ConditionTrue, deadline, deadlineMsg)}}, JobFailed, deadline + ": " + deadlineMsg},
	} {
		job := &batchv1.Job{Status: tc.status}
		phase, msg := JobPhase(job)
		if phase != tc.wantPhase || msg != tc.wantMessage {
			t.Errorf("%s: JobPhase = %s, %q; want %s, %q", tc.name, phase, msg, tc.wantPhase, tc.wantMessage)
		}
	}
	if phase, msg := JobPhase(nil); phase != JobRunning || msg != "" {
		t.Errorf("JobPhase(nil) = %s, %q; want Running", phase, msg)
	}
}
