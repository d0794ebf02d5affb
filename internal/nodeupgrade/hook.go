package nodeupgrade

import (
	"errors"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// EnvHook holds, in every container of a hook Job, which hook it runs:
// pre-drain or post-upgrade (internal/plan's hook points).
const EnvHook = "NODEWAVE_HOOK"

// BuildHookJob returns the hook Job that runs hook (pre-drain or
// post-upgrade) from spec for nodeName of cu, in namespace: named
// HookJobName(cu.Name, nodeName, hook), labelled as an upgrade Job plus
// upgrade.nodewave.io/hook=<hook> (the Job and its pod), controlled by
// cu, run as ServiceAccount without its token unless the template asks for
// it, with EnvTargetVersion, EnvNodeName and EnvHook first in every
// container and init container, restartPolicy Never unless the template
// says OnFailure, backoffLimit 0 (a failed hook is not run again) and
// activeDeadlineSeconds spec's timeout. Unlike an upgrade Job it is not
// pinned to the node, nor made to tolerate every taint: it is scheduled
// as the template says, and the node is cordoned.
//
// It returns an error when spec is nil, when nodeName, target or
// namespace is empty, and when the node or ClusterUpgrade name is not a
// valid label value.
func BuildHookJob(cu *upgradev1alpha1.ClusterUpgrade, spec *upgradev1alpha1.HookJob, hook, nodeName, target, namespace string) (*batchv1.Job, error) {
	if cu == nil || spec == nil {
		return nil, errors.New("no ClusterUpgrade or no hook")
	}
	if err := checkNames(cu, nodeName, target, namespace); err != nil {
		return nil, err
	}
	env := []corev1.EnvVar{
		{Name: EnvTargetVersion, Value: target},
		{Name: EnvNodeName, Value: nodeName},
		{Name: EnvHook, Value: hook},
	}
	job := newJob(cu, &spec.Template, HookJobName(cu.Name, nodeName, hook), namespace, nodeName, env,
		deadlineSeconds(spec.HookTimeout()))
	job.Labels[upgradev1alpha1.JobHookLabel] = hook
	job.Spec.Template.Labels[upgradev1alpha1.JobHookLabel] = hook
	return job, nil
}
