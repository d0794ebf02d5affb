package nodeupgrade

import (
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// The environment variables BuildJob sets in every container and init
// container of an upgrade Job. They override any variable of the same name
// in the template.
const (
	// EnvTargetVersion holds the kubelet version to install, as in
	// spec.targetVersion, for example "v1.37.2".
	EnvTargetVersion = "NODEWAVE_TARGET_VERSION"
	// EnvNodeName holds the name of the node being upgraded, which is also
	// the node the Job's pod runs on.
	EnvNodeName = "NODEWAVE_NODE_NAME"
	// EnvControlPlaneRole is set only in the Job of a control-plane node
	// (spec.controlPlane): "first" on the first one upgraded, which runs
	// kubeadm upgrade apply, "other" on the rest (kubeadm upgrade node).
	EnvControlPlaneRole = "NODEWAVE_CONTROL_PLANE_ROLE"
)

// BuildJob returns the Job that upgrades nodeName to target for cu, in namespace.
//
// The Job is built from a deep copy of cu.Spec.Upgrade.Job.Template (cu is
// never modified) and:
//   - is named JobName(cu.Name, nodeName, target), in namespace;
//   - carries the labels upgrade.nodewave.io/node=<nodeName> and
//     upgrade.nodewave.io/cluster-upgrade=<cu.Name>, on the Job and on its
//     pod template (where the template's own labels are kept), and the
//     annotation upgrade.nodewave.io/target-version=<target> on the Job;
//   - is controlled by cu (a controller owner reference that blocks the
//     owner's deletion), so deleting the ClusterUpgrade deletes its Jobs;
//   - runs its pod on nodeName through spec.nodeName, without the scheduler,
//     so it runs on a cordoned node;
//   - tolerates every taint: the template's tolerations plus one
//     {operator: Exists}, unless the template already has it;
//   - runs as the ServiceAccount ServiceAccount, which has no RBAC, and
//     without its token (automountServiceAccountToken false) unless the
//     template asks for it. A template that names another ServiceAccount
//     is refused before any Job is built (CredentialPolicy); should that
//     check be skipped, the Job still runs as ServiceAccount;
//   - sets EnvTargetVersion and EnvNodeName in every container and init
//     container, first, so the template's own variables, which follow, may
//     refer to them as $(NODEWAVE_TARGET_VERSION) and $(NODEWAVE_NODE_NAME);
//   - uses restartPolicy Never when the template leaves it empty or says
//     Always, which a Job refuses; OnFailure and Never are kept;
//   - has activeDeadlineSeconds set to upgrade.timeout in whole seconds,
//     rounded up, at least 1 (30m, the API default, when unset);
//   - has backoffLimit 0: a failed upgrade is not retried by the Job
//     controller on a half-upgraded node, it fails the node visibly instead.
//     An admin retries by removing the node's upgrade.nodewave.io/state
//     label (or by changing the ClusterUpgrade's spec);
//   - has no ttlSecondsAfterFinished: the controller deletes the Job itself
//     once it has read the outcome, so a failed Job stays for inspection.
//
// It returns an error when cu.Spec.Upgrade.Type is not Job (an empty type is
// the API default, Job) or cu.Spec.Upgrade.Job is nil, when nodeName, target
// or namespace is empty, and when the node or ClusterUpgrade name is not a
// valid label value (longer than 63 characters).
func BuildJob(cu *upgradev1alpha1.ClusterUpgrade, nodeName, target, namespace string) (*batchv1.Job, error) {
	return BuildControlPlaneJob(cu, nodeName, target, namespace, "")
}

// BuildControlPlaneJob is BuildJob for a control-plane node: its
// containers also get EnvControlPlaneRole=role, unless role is "" (then it
// is BuildJob's Job exactly).
func BuildControlPlaneJob(cu *upgradev1alpha1.ClusterUpgrade, nodeName, target, namespace, role string) (*batchv1.Job, error) {
	if err := checkArgs(cu, nodeName, target, namespace); err != nil {
		return nil, err
	}
	env := []corev1.EnvVar{
		{Name: EnvTargetVersion, Value: target},
		{Name: EnvNodeName, Value: nodeName},
	}
	if role != "" {
		env = append(env, corev1.EnvVar{Name: EnvControlPlaneRole, Value: role})
	}
	job := newJob(cu, &cu.Spec.Upgrade.Job.Template, JobName(cu.Name, nodeName, target), namespace, nodeName, env,
		deadlineSeconds(cu.Spec.UpgradeTimeout()))
	job.Annotations = map[string]string{upgradev1alpha1.TargetVersionAnnotation: target}
	pod := &job.Spec.Template.Spec
	pod.NodeName = nodeName
	pod.Tolerations = tolerateEverything(pod.Tolerations)
	return job, nil
}

// newJob builds a Job of cu for nodeName from a deep copy of template,
// named name in namespace: labelled with the node and the ClusterUpgrade
// (the Job and its pod), controlled by cu, run as ServiceAccount without
// its token unless the template asks for it, with env first in every
// container and init container, restartPolicy Never unless the template
// says OnFailure, backoffLimit 0 and activeDeadlineSeconds deadline.
func newJob(cu *upgradev1alpha1.ClusterUpgrade, template *corev1.PodTemplateSpec, name, namespace, nodeName string,
	env []corev1.EnvVar, deadline int64) *batchv1.Job {
	labels := map[string]string{
		upgradev1alpha1.JobNodeLabel:           nodeName,
		upgradev1alpha1.JobClusterUpgradeLabel: cu.Name,
	}
	template = template.DeepCopy()
	if template.Labels == nil {
		template.Labels = make(map[string]string, len(labels))
	}
	for k, v := range labels {
		template.Labels[k] = v
	}

	pod := &template.Spec
	pod.ServiceAccountName, pod.DeprecatedServiceAccount = ServiceAccount, ""
	if pod.AutomountServiceAccountToken == nil {
		pod.AutomountServiceAccountToken = ptr.To(false)
	}
	for i := range pod.InitContainers {
		pod.InitContainers[i].Env = withEnv(pod.InitContainers[i].Env, env)
	}
	for i := range pod.Containers {
		pod.Containers[i].Env = withEnv(pod.Containers[i].Env, env)
	}
	if pod.RestartPolicy == "" || pod.RestartPolicy == corev1.RestartPolicyAlways {
		pod.RestartPolicy = corev1.RestartPolicyNever
	}

	backoffLimit := int32(0)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       namespace,
			Labels:          labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cu, upgradev1alpha1.GroupVersion.WithKind("ClusterUpgrade"))},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:          &backoffLimit,
			ActiveDeadlineSeconds: &deadline,
			Template:              *template,
		},
	}
}

// checkArgs returns why BuildJob cannot build a Job from its arguments, or nil.
func checkArgs(cu *upgradev1alpha1.ClusterUpgrade, nodeName, target, namespace string) error {
	if cu == nil {
		return errors.New("no ClusterUpgrade")
	}
	upgrade := cu.Spec.Upgrade
	if upgrade.Type != "" && upgrade.Type != upgradev1alpha1.JobUpgrade {
		return fmt.Errorf("ClusterUpgrade %s: upgrade.type is %s, not %s: there is no upgrade Job to build",
			cu.Name, upgrade.Type, upgradev1alpha1.JobUpgrade)
	}
	if upgrade.Job == nil {
		return fmt.Errorf("ClusterUpgrade %s: upgrade.job is not set", cu.Name)
	}
	return checkNames(cu, nodeName, target, namespace)
}

// checkNames returns why a Job of cu for nodeName cannot be built: an
// empty node name, target or namespace, or a node or ClusterUpgrade name
// that is not a valid label value.
func checkNames(cu *upgradev1alpha1.ClusterUpgrade, nodeName, target, namespace string) error {
	switch {
	case nodeName == "":
		return fmt.Errorf("ClusterUpgrade %s: no node name", cu.Name)
	case target == "":
		return fmt.Errorf("ClusterUpgrade %s: no target version", cu.Name)
	case namespace == "":
		return fmt.Errorf("ClusterUpgrade %s: no namespace for the upgrade Job", cu.Name)
	}
	if errs := validation.IsValidLabelValue(nodeName); len(errs) > 0 {
		return fmt.Errorf("node name %q cannot be the value of label %s: %s",
			nodeName, upgradev1alpha1.JobNodeLabel, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(cu.Name); len(errs) > 0 {
		return fmt.Errorf("ClusterUpgrade name %q cannot be the value of label %s: %s",
			cu.Name, upgradev1alpha1.JobClusterUpgradeLabel, strings.Join(errs, "; "))
	}
	return nil
}

// tolerateEverything returns tolerations with one that tolerates every
// taint ({operator: Exists}, no key, no effect, no time limit) appended,
// unless it is already there. It never modifies the given slice's array.
func tolerateEverything(tolerations []corev1.Toleration) []corev1.Toleration {
	for _, t := range tolerations {
		if t.Operator == corev1.TolerationOpExists && t.Key == "" && t.Effect == "" && t.TolerationSeconds == nil {
			return tolerations
		}
	}
	out := make([]corev1.Toleration, 0, len(tolerations)+1)
	out = append(out, tolerations...)
	return append(out, corev1.Toleration{Operator: corev1.TolerationOpExists})
}

// withEnv returns env first, then the variables of user whose names env
// does not set, in their order.
func withEnv(user, env []corev1.EnvVar) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(env)+len(user))
	out = append(out, env...)
	for _, u := range user {
		if !hasEnv(env, u.Name) {
			out = append(out, u)
		}
	}
	return out
}

// hasEnv reports whether env sets a variable called name.
func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// deadlineSeconds returns a Job's activeDeadlineSeconds for a timeout
// (upgrade.timeout, a hook's timeout): whole seconds rounded up, at least 1.
func deadlineSeconds(d time.Duration) int64 {
	secs := int64(d / time.Second)
	if d%time.Second > 0 {
		secs++
	}
	return max(secs, 1)
}
