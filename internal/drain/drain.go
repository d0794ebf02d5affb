package drain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	kubectldrain "k8s.io/kubectl/pkg/drain"

	"github.com/nodewave/nodewave/internal/drainpolicy"
	"github.com/nodewave/nodewave/internal/metrics"
)

// Options mirror the ClusterUpgrade's spec.drain (see drainpolicy).
type Options = drainpolicy.Options

// Result is what one pass saw and did.
type Result struct {
	// Remaining is how many pods still have to leave the node: pods
	// already terminating (including the ones this pass evicted), pods an
	// eviction was refused for, pods the options do not allow to be
	// evicted, pods waited for until they complete, and pods waiting for
	// their drain order. 0 means the node is drained. Pods a drain rule or
	// marker skips are not counted.
	Remaining int
	// Evicted is how many evictions the API server accepted in this pass
	// (for ForceDelete: how many deletions).
	Evicted int
	// Blocked is how many evictions a PodDisruptionBudget refused in this
	// pass (429 Too Many Requests).
	Blocked int
	// Kept is how many of Remaining the options keep on the node (no
	// controller without Force, emptyDir without DeleteEmptyDirData, a
	// drain marker or rule that does not parse, or a DaemonSet that could
	// not be read): neither an eviction nor a deletion moves them.
	Kept int
	// Waiting is how many of Remaining a drain rule or their own marker
	// says to wait for until they complete (WaitCompleted): never evicted,
	// they leave once Succeeded or Failed. ForceDelete deletes them, as
	// any pod left.
	Waiting int
	// Held is how many of Remaining this pass did not evict because pods
	// of a lower drain order are still on the node (terminating, waited
	// for, kept, or refused by a PodDisruptionBudget). ForceDelete holds
	// none back.
	Held int
	// Message says, for humans, what keeps the node from being drained, for
	// example "2 pods blocked by PodDisruptionBudget default/web; 1 pod
	// terminating". Empty when drained.
	Message string
	// Owners are the workloads of the pods this pass evicted or found
	// terminating, as OwnerOf names them (those it names), each once.
	Owners []string
}

// Drained reports whether no pod has to leave the node any more.
func (r Result) Drained() bool { return r.Remaining == 0 }

// Drainer drains nodes through the Eviction API (policy/v1), so
// PodDisruptionBudgets are honoured.
type Drainer struct {
	// Client reaches the API server.
	Client kubernetes.Interface
	// MaxConcurrentEvictions bounds the evictions (or deletions) in flight
	// at once across every node this Drainer drains; default 32. Evictions
	// under one PodDisruptionBudget take its optimistic lock in turn, so
	// sending hundreds at once only makes them retry on conflicts.
	MaxConcurrentEvictions int

	once       sync.Once
	evictions  chan struct{}
	daemonSets daemonSets
}

// evictionSlots is the Drainer-wide semaphore of evictions in flight.
func (d *Drainer) evictionSlots() chan struct{} {
	d.once.Do(func() {
		n := d.MaxConcurrentEvictions
		if n <= 0 {
			n = 32
		}
		d.evictions = make(chan struct{}, n)
	})
	return d.evictions
}

// Drain runs one non-blocking pass over nodeName's pods: it evicts every
// pod of the lowest drain order still on the node that has to leave and
// is not leaving yet (pods of higher orders wait for a later pass), and
// reports what is left. Pods a drain rule or marker skips stay, and pods
// it waits for are never evicted. It returns an error only when the
// node's pods cannot be listed; a refused or failed eviction is reported
// in the Result, and the next pass tries again.
func (d *Drainer) Drain(ctx context.Context, nodeName string, opts Options) (Result, error) {
	return d.pass(ctx, nodeName, opts, evictPods, nil)
}

// ForceDelete deletes, without eviction and so ignoring
// PodDisruptionBudgets, the pods Drain would evict and the pods it waits
// for until they complete (drain.onTimeout: ForceDelete), all at once
// whatever their drain order, with opts.GracePeriodSeconds when set, else
// each pod's own. The same filters apply: DaemonSet, mirror, finished and
// skipped pods are left alone, pods with emptyDir or without a controller
// (waited for or not) are deleted only when opts.DeleteEmptyDirData or
// opts.Force allow them, and pods whose drain marker does not parse never;
// those stay and are named in the Message as in Drain. Pods already
// terminating are left to finish. One pass, non-blocking.
func (d *Drainer) ForceDelete(ctx context.Context, nodeName string, opts Options) (Result, error) {
	return d.pass(ctx, nodeName, opts, deletePods, nil)
}

// passMode is what a pass does with the pods that have to leave.
type passMode int

const (
	// evictPods evicts them (Drain).
	evictPods passMode = iota
	// deletePods deletes them (ForceDelete).
	deletePods
	// lookOnly only counts them: it sends no request, and its Result has
	// no Message. Passes looks when a watched pod goes or finishes, to see at once
	// that a node is drained.
	lookOnly
)

// pass runs one pass over nodeName's pods: listed live, or, with watched,
// read from that watch of them.
func (d *Drainer) pass(ctx context.Context, nodeName string, opts Options, mode passMode, watched *nodePods) (Result, error) {
	if watched != nil && !watched.synced(ctx) {
		return Result{}, fmt.Errorf("listing the pods of node %s: not listed yet: %w", nodeName, ctx.Err())
	}
	client := passClient{Interface: d.Client, pods: watched, daemonSets: &d.daemonSets}
	n := &notes{deleting: mode == deletePods}
	helper := d.helper(ctx, client, opts, n)
	list, errs := helper.GetPodsForDeletion(nodeName)
	if list == nil {
		return Result{}, fmt.Errorf("listing the pods of node %s: %w", nodeName, errors.Join(errs...))
	}
	res := Result{}
	// With kubectl's emptyDir and controller checks relaxed (see helper),
	// only its DaemonSet check can refuse a pod here: it could not read the
	// pod's DaemonSet. Such pods stay.
	for _, err := range errs {
		res.Kept += podsNamedIn(err)
		n.add(shorten(err.Error()))
	}
	res.Kept += len(n.blocked)
	res.Waiting = len(n.waited)
	res.Remaining += res.Kept + res.Waiting
	pods := list.Pods()
	if mode == lookOnly {
		res.Remaining += len(pods)
		return res, nil
	}
	budgets := &budgets{client: d.Client}
	deleteDirectly := mode == deletePods
	var held []bool
	if !deleteDirectly {
		held = n.holdBack(pods)
	}
	outcomes := d.evictOrDelete(ctx, helper, pods, held, opts.GracePeriodSeconds, deleteDirectly)
	owners := map[string]bool{}
	for i, pod := range pods {
		if pod.DeletionTimestamp != nil {
			res.Remaining++
			n.terminating++
			owners[OwnerOf(&pod)] = true
			continue
		}
		if held != nil && held[i] {
			res.Remaining++
			res.Held++
			continue
		}
		err := outcomes[i]
		switch {
		case err == nil:
			owners[OwnerOf(&pod)] = true
			res.Remaining++ // it still has to terminate
			res.Evicted++
			n.terminating++
			if deleteDirectly {
				metrics.EvictionsTotal.WithLabelValues(metrics.EvictionDeleted).Inc()
			} else {
				metrics.EvictionsTotal.WithLabelValues(metrics.EvictionEvicted).Inc()
			}
		case apierrors.IsNotFound(err):
			// Already gone.
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			// Its namespace is being deleted: the API server takes no
			// eviction there, and the namespace controller deletes the pod
			// anyway (kubectl drain waits for it the same way).
			res.Remaining++
			n.terminating++
		case refusedByBudget(err):
			res.Remaining++
			res.Blocked++
			metrics.EvictionsTotal.WithLabelValues(metrics.EvictionBlocked).Inc()
			n.blockedBy(budgets.refusing(ctx, err, &pod))
		default:
			res.Remaining++
			metrics.EvictionsTotal.WithLabelValues(metrics.EvictionError).Inc()
			n.add(fmt.Sprintf("pod %s/%s: %s", pod.Namespace, pod.Name, shorten(err.Error())))
		}
	}
	if res.Remaining > 0 {
		res.Message = n.String()
	}
	delete(owners, "")
	res.Owners = slices.Sorted(maps.Keys(owners))
	return res, nil
}

// OwnerOf names the workload that replaces pod once it is evicted, as
// "Kind/namespace/name", when that workload keeps a count of ready
// replicas to wait for: a ReplicaSet (a Deployment's), a StatefulSet or a
// ReplicationController. "" for any other pod (a Job's, a bare one).
func OwnerOf(pod *corev1.Pod) string {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return ""
	}
	switch {
	case ref.Kind == "ReplicaSet" && strings.HasPrefix(ref.APIVersion, "apps/"),
		ref.Kind == "StatefulSet" && strings.HasPrefix(ref.APIVersion, "apps/"),
		ref.Kind == "ReplicationController" && ref.APIVersion == "v1":
		return ref.Kind + "/" + pod.Namespace + "/" + ref.Name
	}
	return ""
}

// evictionConcurrency bounds the evictions (or deletions) one pass sends at
// once; kubectl drain sends them all at once.
const evictionConcurrency = 16

// evictOrDelete evicts (or, deleteDirectly, deletes) at once every pod that is not
// terminating yet nor held back (held, by index; nil holds none), and
// returns each pod's outcome by index. A pod's goroutine starts only once
// it has its slots (this pass's and the Drainer's): with 500 nodes
// draining, goroutines started first and then waiting for a slot were
// 1,666 of the manager's 4,900 goroutines, and their stacks a tenth of its
// memory.
func (d *Drainer) evictOrDelete(ctx context.Context, helper *kubectldrain.Helper, pods []corev1.Pod, held []bool,
	grace *int64, deleteDirectly bool) []error {
	outcomes := make([]error, len(pods))
	sem, shared := make(chan struct{}, evictionConcurrency), d.evictionSlots()
	var wg sync.WaitGroup
	for i := range pods {
		if pods[i].DeletionTimestamp != nil || (held != nil && held[i]) {
			continue
		}
		sem <- struct{}{}
		select {
		case shared <- struct{}{}:
		case <-ctx.Done():
			<-sem
			outcomes[i] = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-shared; <-sem }()
			if deleteDirectly {
				outcomes[i] = helper.DeletePod(pods[i])
			} else {
				outcomes[i] = d.evict(ctx, helper, pods[i], grace)
			}
		})
	}
	wg.Wait()
	return outcomes
}

// helper configures kubectl's drain helper for one pass. Its own emptyDir
// and controller checks are relaxed (DeleteEmptyDirData and Force true) so
// that nodewave's filter, which applies the same rules with opts, sees each
// such pod and can name it with the field that would let it go; kubectl's
// checks only report them in bulk, as errors in kubectl's words. The
// drain rules and pod markers are nodewave's filter too (notes.policy).
func (d *Drainer) helper(ctx context.Context, client kubernetes.Interface, opts Options, n *notes) *kubectldrain.Helper {
	grace := -1 // each pod's own
	if opts.GracePeriodSeconds != nil {
		grace = int(*opts.GracePeriodSeconds)
	}
	return &kubectldrain.Helper{
		Ctx:                 ctx,
		Client:              client,
		GracePeriodSeconds:  grace,
		IgnoreAllDaemonSets: true,
		DeleteEmptyDirData:  true,
		Force:               true,
		ChunkSize:           500, // kubectl drain's default
		// Only kubectl's blocking loops use these, and nodewave never calls
		// them; set so that no zero value could make one spin or hang.
		Timeout:              time.Minute,
		EvictErrorRetryDelay: 5 * time.Second,
		// SkipWaitForDeleteTimeoutSeconds stays 0: a pod stuck terminating
		// still counts as remaining.
		AdditionalFilters: []kubectldrain.PodFilter{skipFinished, skipUpgradeJobPods, n.policy(opts)},
		Out:               io.Discard,
		ErrOut:            io.Discard,
	}
}

// evict asks the Eviction API (policy/v1) to evict pod, like kubectl's
// Helper.EvictPod, but without client-go's retries: client-go retries a
// 429 that carries Retry-After up to 10 times, sleeping each time, and the
// API server sends Retry-After: 10 while a PodDisruptionBudget's status is
// not observed yet, which would block one pass for 100 seconds. Clients
// with no REST client (client-go's fake clientset) go through EvictPod.
//
// An eviction once sent is not cancelled with ctx (only bounded by
// evictionTimeout): the API server charges the PodDisruptionBudget before
// it deletes the pod, and a request aborted in between leaves the budget
// charged for a pod that stays, for the disruption controller's 2 minutes.
func (d *Drainer) evict(ctx context.Context, helper *kubectldrain.Helper, pod corev1.Pod, grace *int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), evictionTimeout)
	defer cancel()
	rc := d.Client.PolicyV1().RESTClient()
	if c, ok := rc.(*rest.RESTClient); rc == nil || (ok && c == nil) {
		return helper.EvictPod(pod, policyv1.SchemeGroupVersion)
	}
	eviction := &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name},
		DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: grace},
	}
	return rc.Post().AbsPath("/api/v1").Namespace(pod.Namespace).Resource("pods").Name(pod.Name).
		SubResource("eviction").Body(eviction).MaxRetries(0).Do(ctx).Error()
}

// evictionTimeout bounds one eviction request.
const evictionTimeout = 30 * time.Second

// skipFinished leaves Succeeded and Failed pods alone: they hold no
// workload, and nothing is gained by deleting them. (kubectl would delete
// them.)
func skipFinished(pod corev1.Pod) kubectldrain.PodDeleteStatus {
	if drainpolicy.Finished(&pod) {
		return kubectldrain.MakePodDeleteStatusSkip()
	}
	return kubectldrain.MakePodDeleteStatusOkay()
}

// skipUpgradeJobPods leaves nodewave's own upgrade Job pods alone (see
// drainpolicy.IsUpgradeJobPod).
func skipUpgradeJobPods(pod corev1.Pod) kubectldrain.PodDeleteStatus {
	if drainpolicy.IsUpgradeJobPod(&pod) {
		return kubectldrain.MakePodDeleteStatusSkip()
	}
	return kubectldrain.MakePodDeleteStatusOkay()
}

// refusedByBudget reports whether an eviction was refused because of a
// PodDisruptionBudget, or throttled: a 429 (the budget allows no
// disruption now, or its status is not observed yet), or a 403 with a
// DisruptionBudget cause (the budget's status is inconsistent: negative
// disruptionsAllowed, or too many evictions the disruption controller has
// not confirmed). Both clear up without nodewave doing anything.
func refusedByBudget(err error) bool {
	return apierrors.IsTooManyRequests(err) ||
		(apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, policyv1.DisruptionBudgetCause))
}

// budgetRE finds the budget's name in a DisruptionBudget cause. Every
// cause kube-apiserver writes starts "The disruption budget <name> ...".
var budgetRE = regexp.MustCompile(`(?i)\bdisruption budget ([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)(?:\s|[:,.(]|$)`)

// budgetInError is the name of the PodDisruptionBudget the error names, or
// "" when it names none.
func budgetInError(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return ""
	}
	details := status.Status().Details
	for _, c := range details.Causes {
		if c.Type != policyv1.DisruptionBudgetCause {
			continue
		}
		if m := budgetRE.FindStringSubmatch(c.Message); m != nil {
			return m[1]
		}
	}
	// The 403s name the budget as the object refused.
	if details.Kind == "poddisruptionbudget" || details.Kind == "poddisruptionbudgets" {
		return details.Name
	}
	return ""
}

// budgets finds the PodDisruptionBudget behind a refused eviction, listing
// a namespace's budgets at most once per pass.
type budgets struct {
	client kubernetes.Interface
	byNS   map[string][]policyv1.PodDisruptionBudget
}

// refusing is the namespace/name of the budget that refused pod's eviction
// with err, or "" when neither the error nor the namespace's budgets say.
func (b *budgets) refusing(ctx context.Context, err error, pod *corev1.Pod) string {
	if name := budgetInError(err); name != "" {
		return pod.Namespace + "/" + name
	}
	if b.byNS == nil {
		b.byNS = map[string][]policyv1.PodDisruptionBudget{}
	}
	list, ok := b.byNS[pod.Namespace]
	if !ok {
		l, err := b.client.PolicyV1().PodDisruptionBudgets(pod.Namespace).List(ctx, metav1.ListOptions{})
		if err == nil {
			list = l.Items
		}
		b.byNS[pod.Namespace] = list
	}
	var found []string
	for i := range list {
		// As kube-apiserver matches them: a nil selector matches nothing,
		// an empty one everything.
		sel, err := metav1.LabelSelectorAsSelector(list[i].Spec.Selector)
		if err == nil && sel.Matches(labels.Set(pod.Labels)) {
			found = append(found, pod.Namespace+"/"+list[i].Name)
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// podsNamedIn counts the pods a GetPodsForDeletion error names: kubectl
// writes "cannot delete <why>: ns/a, ns/b". At least 1.
func podsNamedIn(err error) int {
	s := err.Error()
	i := strings.LastIndex(s, ": ")
	if i < 0 {
		return 1
	}
	return max(1, len(strings.Split(s[i+2:], ", ")))
}

// maxErrorLen bounds an API error's text in a Message.
const maxErrorLen = 160

func shorten(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	i := maxErrorLen
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
