// Package drainpolicy is what a drain does with each pod, as pure
// functions of the pod and the drain options: the rules of kubectl's drain
// filters (DaemonSet and mirror pods stay) and nodewave's on top (finished
// pods and nodewave's own upgrade Job pods stay; pods with emptyDir or
// without a controller leave only when the options allow it), then the
// drain rules and each pod's own markers (skip the pod, wait until it
// completes, evict it in order). The drain (internal/drain) applies them;
// the kubectl plugin's forecast judges pods with them without linking any
// eviction code or the manager's metrics.
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
	// Rules are spec.drain.rules, in order: the first that matches a pod
	// decides for it where its own markers do not (see Place).
	Rules []Rule
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
	// PodDisruptionBudgets must allow it; in its drain order (see
	// EvictingOrder).
	Evicted Verdict = "Evicted"
	// Skipped: a drain rule or the pod's own marker says Skip: the pod is
	// left on the node, and does not hold the drain.
	Skipped Verdict = "Skipped"
	// WaitedFor: a drain rule or the pod's own marker says WaitCompleted:
	// the pod is not evicted, and the drain waits until it has Succeeded
	// or Failed.
	WaitedFor Verdict = "WaitedFor"
)

// Judgement is what a drain does with one pod, and why.
type Judgement struct {
	// Verdict is what the drain does with the pod.
	Verdict Verdict
	// Why says, for a Blocked pod, why, in the words of the drain's
	// message ("has no controller (set drain.force to evict it)"); for a
	// Skipped or WaitedFor pod, which rule or marker said so. "" for the
	// other verdicts.
	Why string
	// Order is the pod's drain order (see Place); 0 for a pod that
	// stays.
	Order int32
}

// Judge says, without reading anything, what a drain pass with opts does
// with pod: the rules of Drain (kubectl's DaemonSet and mirror-pod filters,
// then nodewave's finished-pod and upgrade-Job filters, then Policy) as a
// pure function, so that a forecast made before the upgrade agrees with
// the drain. For a Blocked pod it also says why, in the words of the
// drain's message ("has no controller (set drain.force to evict it)").
//
// daemonSetExists reports whether a DaemonSet namespace/name exists (what
// kubectl's DaemonSet filter looks up); it is asked only about the
// controller of a DaemonSet pod that is not finished.
func Judge(pod *corev1.Pod, opts Options, daemonSetExists func(namespace, name string) bool) Judgement {
	if _, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return Judgement{Verdict: Stays}
	}
	if Finished(pod) {
		return Judgement{Verdict: Stays}
	}
	if IsDaemonSetPod(pod) && daemonSetExists(pod.Namespace, ControllerName(pod)) {
		return Judgement{Verdict: Stays}
	}
	if IsUpgradeJobPod(pod) {
		return Judgement{Verdict: Stays}
	}
	return Policy(pod, opts)
}

// Policy is nodewave's judgement of a pod that the filters before it let
// through (not a mirror pod, not finished, not a DaemonSet's that exists,
// not an upgrade Job's): the drain rules and the pod's markers (Place),
// then the options (BlockedBecause). In that order:
//
//   - Skip: Skipped, even while terminating (like a DaemonSet's pod, it
//     does not hold the drain);
//   - terminating: Leaving, whatever the rest says;
//   - a marker or rule that does not parse: Blocked, naming it (never
//     evicted, never silently skipped);
//   - WaitCompleted: WaitedFor, whatever the options say (it is not
//     evicted);
//   - what the options keep: Blocked;
//   - otherwise Evicted, in its order.
func Policy(pod *corev1.Pod, opts Options) Judgement {
	place := Place(pod, opts.Rules)
	j := Judgement{Order: place.Order}
	switch {
	case place.Invalid == "" && place.Behavior == BehaviorSkip:
		j.Verdict, j.Why = Skipped, "left on the node by "+place.By
	case pod.DeletionTimestamp != nil:
		j.Verdict = Leaving
	case place.Invalid != "":
		j.Verdict, j.Why = Blocked, place.Invalid
	case place.Behavior == BehaviorWaitCompleted:
		j.Verdict, j.Why = WaitedFor, "waited for until it completes ("+place.By+")"
	default:
		j.Verdict, j.Why = Evicted, ""
		if why := BlockedBecause(pod, opts); why != "" {
			j.Verdict, j.Why = Blocked, why
		}
	}
	return j
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
