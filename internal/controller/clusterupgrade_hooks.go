package controller

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/plan"
)

// hookPoints are the points at which cu runs a hook Job (spec.hooks), in
// the order a node meets them.
func hookPoints(cu *upgradev1alpha1.ClusterUpgrade) []plan.HookPoint {
	var out []plan.HookPoint
	for _, p := range plan.HookPoints {
		if p.Job(cu.Spec.Hooks) != nil {
			out = append(out, p)
		}
	}
	return out
}

// buildHookJob builds node's hook Job at point (one of hookPoints).
func (r *ClusterUpgradeReconciler) buildHookJob(s *scope, point plan.HookPoint, node string) (*batchv1.Job, error) {
	return nodeupgrade.BuildHookJob(s.cu, point.Job(s.cu.Spec.Hooks), string(point), node, s.cu.Spec.TargetVersion, r.JobNamespace)
}

// hookFree reports whether nothing can hold node n at point: no hook
// annotation on it and no hook Job of spec.hooks there. hooksStep lets
// such a node go on at once.
func hookFree(s *scope, n *corev1.Node, point plan.HookPoint) bool {
	return len(plan.Hooks(n.Annotations, point)) == 0 && point.Job(s.cu.Spec.Hooks) == nil
}

// hooksStep decides a hook point of node n: first the hook annotations on
// it, then, once none holds it, its hook Job of spec.hooks, created here
// when it does not exist yet (unless a pre-flight check holds new Jobs).
// A failed Job under failurePolicy Ignore lets the node go on, with a
// Warning event.
func (r *ClusterUpgradeReconciler) hooksStep(ctx context.Context, s *scope, n *corev1.Node, point plan.HookPoint) (plan.Decision, error) {
	if d := plan.HookStep(point, plan.Hooks(n.Annotations, point)); d.Outcome != plan.Advance {
		return d, nil
	}
	spec := point.Job(s.cu.Spec.Hooks)
	if spec == nil {
		return plan.Decision{Outcome: plan.Advance}, nil
	}
	name := nodeupgrade.HookJobName(s.cu.Name, n.Name, string(point))
	facts := plan.HookJobFacts{Point: point, Job: name, Ignore: spec.FailurePolicy == upgradev1alpha1.HookIgnore}
	if hold := s.jobHold(n.Name); hold != nil {
		facts.Held = hold.reason
	}
	existing := s.job(name)
	if existing == nil && facts.Held == "" {
		// Built only to be created: a node whose Jobs cannot be built is
		// refused before its cordon (startNode).
		job, err := r.buildHookJob(s, point, n.Name)
		if err != nil {
			return plan.Decision{Outcome: plan.Fail, Reason: plan.ReasonJobNotBuildable,
				Message: fmt.Sprintf("its %s hook Job cannot be built: %v", point, err)}, nil
		}
		switch err := r.Create(ctx, job); {
		case err == nil:
			s.setJob(name, job)
		case apierrors.IsAlreadyExists(err):
		case refusedByAPIServer(err):
			return plan.Decision{}, &jobRejectedError{field: point.Field() + ".template", err: err}
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
			"the %s hook Job %s of node %s failed (%s); going on, as %s.failurePolicy is Ignore", point, name, n.Name, facts.Message, point.Field())
	}
	return d, nil
}
