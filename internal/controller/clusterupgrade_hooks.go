package controller

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/plan"
)

// hookJob is one hook Job of spec.hooks: its point, its name in Job names
// and in NODEWAVE_HOOK, and its field.
type hookJob struct {
	point plan.HookPoint
	hook  string // nodeupgrade.HookPreDrain or HookPostUpgrade
	field string // spec.hooks.preDrain or spec.hooks.postUpgrade
	spec  *upgradev1alpha1.HookJob
}

// hookJobs are cu's hook Jobs, in the order a node meets them.
func hookJobs(cu *upgradev1alpha1.ClusterUpgrade) []hookJob {
	h := cu.Spec.Hooks
	if h == nil {
		return nil
	}
	var out []hookJob
	if h.PreDrain != nil {
		out = append(out, hookJob{plan.PreDrain, nodeupgrade.HookPreDrain, "spec.hooks.preDrain", h.PreDrain})
	}
	if h.PostUpgrade != nil {
		out = append(out, hookJob{plan.PostUpgrade, nodeupgrade.HookPostUpgrade, "spec.hooks.postUpgrade", h.PostUpgrade})
	}
	return out
}

// hookJobAt is cu's hook Job at point, if it has one.
func hookJobAt(cu *upgradev1alpha1.ClusterUpgrade, point plan.HookPoint) (hookJob, bool) {
	for _, h := range hookJobs(cu) {
		if h.point == point {
			return h, true
		}
	}
	return hookJob{}, false
}

// buildHookJob builds node's Job of hook h.
func (r *ClusterUpgradeReconciler) buildHookJob(s *scope, h hookJob, node string) (*batchv1.Job, error) {
	return nodeupgrade.BuildHookJob(s.cu, h.spec, h.hook, node, s.cu.Spec.TargetVersion, r.JobNamespace)
}

// hooksStep decides a hook point of node n: first the hook annotations on
// it, then, once none holds it, its hook Job of spec.hooks, created here
// when it does not exist yet (unless a pre-flight check holds new Jobs).
// A failed Job under failurePolicy Ignore lets the node go on, with a
// Warning event.
func (r *ClusterUpgradeReconciler) hooksStep(ctx context.Context, s *scope, n *corev1.Node, point plan.HookPoint, prefix string) (plan.Decision, error) {
	if d := plan.HookStep(point, prefix, plan.Hooks(n.Annotations, prefix)); d.Outcome != plan.Advance {
		return d, nil
	}
	h, ok := hookJobAt(s.cu, point)
	if !ok {
		return plan.Decision{Outcome: plan.Advance}, nil
	}
	job, err := r.buildHookJob(s, h, n.Name)
	if err != nil {
		return plan.Decision{Outcome: plan.Fail, Reason: plan.ReasonJobNotBuildable,
			Message: "its " + h.hook + " hook Job cannot be built: " + err.Error()}, nil
	}
	facts := plan.HookJobFacts{Point: point, Job: job.Name, Ignore: h.spec.FailurePolicy == upgradev1alpha1.HookIgnore}
	if hold := s.jobHold(n.Name); hold != nil {
		facts.Held = hold.reason
	}
	existing := s.job(job.Name)
	if existing == nil && facts.Held == "" {
		switch err := r.Create(ctx, job); {
		case err == nil:
			s.setJob(job.Name, job)
		case apierrors.IsAlreadyExists(err):
		case refusedByAPIServer(err):
			return plan.Decision{}, &jobRejectedError{field: h.field + ".template", err: err}
		default:
			return plan.Decision{}, err
		}
	}
	facts.Exists = existing != nil
	if existing != nil {
		phase, msg := nodeupgrade.JobPhase(existing)
		facts.Succeeded, facts.Failed, facts.Message = phase == nodeupgrade.JobSucceeded, phase == nodeupgrade.JobFailed, msg
	}
	d := plan.HookJobStep(facts)
	if d.Outcome == plan.Advance && facts.Failed {
		r.nodeEvent(s, n, corev1.EventTypeWarning, "HookJobFailed", "Hook",
			"the %s hook Job %s of node %s failed (%s); going on, as %s.failurePolicy is Ignore", h.hook, job.Name, n.Name, facts.Message, h.field)
	}
	return d, nil
}
