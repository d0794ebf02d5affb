package drain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kubectldrain "k8s.io/kubectl/pkg/drain"

	"github.com/nodewave/nodewave/internal/metrics"
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

// Result is what one pass saw and did.
type Result struct {
	// Remaining is how many pods still have to leave the node, including
	// pods already terminating and pods that may not be evicted; 0 means
	// the node is drained.
	Remaining int
	// Evicted is how many evictions the API server accepted in this pass.
	Evicted int
	// Blocked is how many evictions a PodDisruptionBudget refused (429).
	Blocked int
	// Message says, for humans, what keeps the node from being drained, for
	// example "2 pods blocked by PodDisruptionBudget default/web". Empty
	// when drained.
	Message string
}

// Drained reports whether no pod has to leave the node any more.
func (r Result) Drained() bool { return r.Remaining == 0 }

// Drainer drains nodes through the Eviction API (policy/v1).
type Drainer struct {
	// Client reaches the API server.
	Client kubernetes.Interface
}

// Drain runs one non-blocking pass over nodeName's pods: it evicts every
// pod that has to leave and is not leaving yet, and reports what is left.
func (d *Drainer) Drain(ctx context.Context, nodeName string, opts Options) (Result, error) {
	return d.pass(ctx, nodeName, opts, false)
}

// ForceDelete deletes, without eviction and so ignoring
// PodDisruptionBudgets, the pods Drain would evict (drain.onTimeout:
// ForceDelete). The same filters apply: DaemonSet, mirror and finished
// pods stay, and pods with emptyDir or without a controller are deleted
// only when the options allow them. One pass, non-blocking.
func (d *Drainer) ForceDelete(ctx context.Context, nodeName string, opts Options) (Result, error) {
	return d.pass(ctx, nodeName, opts, true)
}

func (d *Drainer) pass(ctx context.Context, nodeName string, opts Options, deleteDirectly bool) (Result, error) {
	var notes notes
	helper := d.helper(ctx, opts, &notes)
	list, errs := helper.GetPodsForDeletion(nodeName)
	if list == nil {
		return Result{}, fmt.Errorf("listing the pods of node %s: %v", nodeName, errs)
	}
	res := Result{}
	for _, err := range errs {
		// Only a DaemonSet lookup can fail here: the pod stays.
		res.Remaining++
		notes.add(err.Error())
	}
	res.Remaining += len(notes.blocked)
	for _, pod := range list.Pods() {
		if pod.DeletionTimestamp != nil {
			res.Remaining++
			notes.terminating++
			continue
		}
		var err error
		if deleteDirectly {
			err = helper.DeletePod(pod)
		} else {
			err = helper.EvictPod(pod, policyv1.SchemeGroupVersion)
		}
		switch {
		case err == nil:
			res.Remaining++ // it still has to terminate
			if deleteDirectly {
				metrics.EvictionsTotal.WithLabelValues(metrics.EvictionDeleted).Inc()
			} else {
				res.Evicted++
				metrics.EvictionsTotal.WithLabelValues(metrics.EvictionEvicted).Inc()
			}
			notes.terminating++
		case apierrors.IsNotFound(err):
			// Already gone.
		case apierrors.IsTooManyRequests(err):
			res.Remaining++
			res.Blocked++
			metrics.EvictionsTotal.WithLabelValues(metrics.EvictionBlocked).Inc()
			notes.blockedBy(pdbName(err, pod))
		default:
			res.Remaining++
			metrics.EvictionsTotal.WithLabelValues(metrics.EvictionError).Inc()
			notes.add(fmt.Sprintf("pod %s/%s: %v", pod.Namespace, pod.Name, err))
		}
	}
	if res.Remaining > 0 {
		res.Message = notes.String()
	}
	return res, nil
}

// helper configures kubectl's drain helper for one pass. Its own emptyDir
// and controller checks are relaxed so that nodewave's filter below sees
// every pod and can say, in nodewave's words, why one may not leave.
func (d *Drainer) helper(ctx context.Context, opts Options, n *notes) *kubectldrain.Helper {
	grace := -1
	if opts.GracePeriodSeconds != nil {
		grace = int(*opts.GracePeriodSeconds)
	}
	return &kubectldrain.Helper{
		Ctx:                 ctx,
		Client:              d.Client,
		GracePeriodSeconds:  grace,
		IgnoreAllDaemonSets: true,
		DeleteEmptyDirData:  true,
		Force:               true,
		// Only used by kubectl's blocking loops, which nodewave never
		// calls; set so that no zero value could make one spin.
		Timeout:              time.Minute,
		EvictErrorRetryDelay: 5 * time.Second,
		AdditionalFilters:    []kubectldrain.PodFilter{skipFinished, n.policy(opts)},
		Out:                  io.Discard,
		ErrOut:               io.Discard,
	}
}

// skipFinished leaves Succeeded and Failed pods alone: they hold no
// workload, and nothing is gained by deleting them.
func skipFinished(pod corev1.Pod) kubectldrain.PodDeleteStatus {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return kubectldrain.MakePodDeleteStatusSkip()
	}
	return kubectldrain.MakePodDeleteStatusOkay()
}

// pdbRE finds the budget's name in the cause the API server gives with a 429.
var pdbRE = regexp.MustCompile(`^The disruption budget (\S+) `)

// pdbName is the namespace/name of the PodDisruptionBudget that refused
// the eviction of pod, or "" when the error does not say.
func pdbName(err error, pod corev1.Pod) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return ""
	}
	for _, c := range status.Status().Details.Causes {
		if c.Type != policyv1.DisruptionBudgetCause {
			continue
		}
		if m := pdbRE.FindStringSubmatch(c.Message); m != nil {
			return pod.Namespace + "/" + m[1]
		}
	}
	return ""
}

// hasController reports whether a controller owns the pod.
func hasController(pod *corev1.Pod) bool { return metav1.GetControllerOf(pod) != nil }
