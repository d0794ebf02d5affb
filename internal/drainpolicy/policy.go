// Package drainpolicy is what a drain does with each pod, as pure
// functions of the pod and the drain options: the rules of kubectl's drain
// filters (DaemonSet and mirror pods stay) and nodewave's on top (finished
// pods and nodewave's own upgrade Job pods stay; pods with emptyDir or
// without a controller leave only when the options allow it). The drain
// (internal/drain) applies them; the kubectl plugin's forecast judges pods
// with them without linking any eviction code or the manager's metrics.
package drainpolicy

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Options mirror the ClusterUpgrade's spec.drain.
type Options struct {
	// GracePeriodSeconds overrides each pod's termination grace period; nil
	// keeps each pod's own.
	GracePeriodSeconds *int64
	// DeleteEmptyDirData allows evicting pods with emptyDir volumes.
	DeleteEmptyDirData bool
	// Force allows evicting pods that no controller owns.
	Force bool
}

// Verdict is what a drain does with one pod on the node it drains.
type Verdict string

// The verdicts of Judge.
const (
	// Stays: the pod is left on the node: a pod of a DaemonSet that exists,
	// a mirror (static) pod, a finished pod, or the pod of nodewave's own
	// upgrade Job.
	Stays Verdict = "Stays"
	// Leaving: the pod is already terminating; the drain waits for it.
	Leaving Verdict = "Leaving"
	// Blocked: the options do not allow the pod to be evicted, so it
	// blocks the drain; the reason names the field that would allow it.
	Blocked Verdict = "Blocked"
	// Evicted: the pod is evicted through the Eviction API, so its
	// PodDisruptionBudgets must allow it.
	Evicted Verdict = "Evicted"
)

// Judge says, without reading anything, what a drain pass with opts does
// with pod: the rules of Drain (kubectl's DaemonSet and mirror-pod filters,
// then nodewave's finished-pod and policy filters) as a pure function, so
// that a forecast made before the upgrade agrees with the drain. For a
// Blocked pod it also says why, in the words of the drain's message
// ("has no controller (set drain.force to evict it)").
//
// daemonSetExists reports whether a DaemonSet namespace/name exists (what
// kubectl's DaemonSet filter looks up); it is asked only about the
// controller of a DaemonSet pod that is not finished.
func Judge(pod *corev1.Pod, opts Options, daemonSetExists func(namespace, name string) bool) (Verdict, string) {
	if _, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return Stays, ""
	}
	if Finished(pod) {
		return Stays, ""
	}
	if IsDaemonSetPod(pod) && daemonSetExists(pod.Namespace, ControllerName(pod)) {
		return Stays, ""
	}
	if IsUpgradeJobPod(pod) {
		return Stays, ""
	}
	if pod.DeletionTimestamp != nil {
		return Leaving, ""
	}
	if why := BlockedBecause(pod, opts); why != "" {
		return Blocked, why
	}
	return Evicted, ""
}

// BlockedBecause is nodewave's policy on top of kubectl's filters, for a
// pod those filters let through: why opts do not allow the pod to be
// evicted, or "" when they do. Pods with emptyDir volumes and pods
// without a controller may leave only when the options say so (kubectl's
// rules for --delete-emptydir-data and --force); a DaemonSet pod that gets
// this far is an orphan (kubectl's filter skips the pods of a DaemonSet
// that exists), and kubectl lets such a pod go only under --force.
func BlockedBecause(pod *corev1.Pod, opts Options) string {
	switch {
	case !opts.Force && !HasController(pod):
		return "has no controller (set drain.force to evict it)"
	case !opts.Force && IsDaemonSetPod(pod):
		return "belongs to a DaemonSet that no longer exists (set drain.force to evict it)"
	case !opts.DeleteEmptyDirData && HasEmptyDir(pod):
		return "uses emptyDir (set drain.deleteEmptyDirData to evict it)"
	}
	return ""
}

// upgradeJobLabel is the label nodewave's upgrade Jobs put on their pods
// (api/v1alpha1.JobClusterUpgradeLabel; this package does not import the
// API).
const upgradeJobLabel = "upgrade.nodewave.io/cluster-upgrade"

// IsUpgradeJobPod reports whether pod is the pod of one of nodewave's own
// upgrade Jobs: a drain never evicts it, whatever the order in which the
// Job and its node's upgrading label were written, or it would cut the
// upgrade it runs short.
func IsUpgradeJobPod(pod *corev1.Pod) bool {
	if _, ok := pod.Labels[upgradeJobLabel]; !ok {
		return false
	}
	ref := metav1.GetControllerOf(pod)
	return ref != nil && ref.Kind == "Job" && strings.HasPrefix(ref.APIVersion, "batch/")
}

// Finished reports whether the pod has Succeeded or Failed: it holds no
// workload, and the drain leaves it alone.
func Finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// ControllerName is the name of the pod's controller, "" when it has none.
func ControllerName(pod *corev1.Pod) string {
	if ref := metav1.GetControllerOf(pod); ref != nil {
		return ref.Name
	}
	return ""
}

// HasController reports whether a controller owns the pod.
func HasController(pod *corev1.Pod) bool { return metav1.GetControllerOf(pod) != nil }

// HasEmptyDir reports whether the pod uses an emptyDir volume.
func HasEmptyDir(pod *corev1.Pod) bool {
	return slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.EmptyDir != nil })
}

// IsDaemonSetPod reports whether a DaemonSet controls the pod, as kubectl's
// DaemonSet filter decides it.
func IsDaemonSetPod(pod *corev1.Pod) bool {
	ref := metav1.GetControllerOf(pod)
	return ref != nil && ref.Kind == "DaemonSet" && ref.APIVersion == appsv1.SchemeGroupVersion.String()
}
