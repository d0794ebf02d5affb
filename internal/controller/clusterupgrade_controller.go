// Package controller holds the ClusterUpgrade reconciler. Each pass
// observes the world (the selected nodes and the ones it holds, their
// Jobs, the other ClusterUpgrades), runs the pre-flight checks (which hold
// new starts, never the nodes in flight), advances the nodes in flight that
// can finish by one or more steps, asks the planner once which nodes
// start, starts them, advances the other nodes in flight (see
// aroundStarts), and hands the status once to a writer that writes it in
// the background. It keeps no upgrade state in memory:
// everything it needs is on the Nodes (labels and annotations) and Jobs.
// (It only remembers which specs' Jobs passed a dry run, to spare the API
// server; the outcome of each draining node's last background drain pass;
// the API server's version for a minute; and its own Node and status
// writes until the cache shows them. A restarted manager reads them all
// again.)
package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drain"
	"github.com/nodewave/nodewave/internal/metrics"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/plan"
)

// DefaultDrainPollInterval is how often a node that is draining is looked
// at again: evictions refused by a PodDisruptionBudget are retried then,
// and evicted pods are checked for having left.
const DefaultDrainPollInterval = 5 * time.Second

// ClusterUpgradeReconciler reconciles ClusterUpgrade objects.
type ClusterUpgradeReconciler struct {
	client.Client

	// JobNamespace is the namespace of the per-node upgrade Jobs.
	JobNamespace string
	// Drainer evicts pods. It reads a draining node's pods from a watch of
	// that node's pods alone, never from a cache of the cluster's pods.
	Drainer *drain.Drainer
	// ServerVersion reports the API server's version, for the skew check.
	ServerVersion ServerVersionFunc
	// Recorder records events (events.k8s.io) on ClusterUpgrades and Nodes.
	Recorder events.EventRecorder
	// Clock is the time source; a fake one in tests.
	Clock clock.PassiveClock
	// DrainPollInterval overrides DefaultDrainPollInterval (tests use a
	// short one).
	DrainPollInterval time.Duration
	// AllowedImages is the manager's allow-list of upgrade images (the
	// --allowed-upgrade-images flag); the zero value allows every image.
	AllowedImages nodeupgrade.ImagePolicy
	// ControlPlaneChecks checks the control-plane nodes of a
	// ClusterUpgrade with spec.controlPlane (internal/controlplane.Checker).
	ControlPlaneChecks ControlPlaneChecker
	// AllowedSecrets names the Secrets of the Job namespace that an
	// upgrade Job's template may use (the --allowed-upgrade-secrets
	// flag); the zero value allows none.
	AllowedSecrets nodeupgrade.CredentialPolicy
	// NoPendingTaint turns off the pending taint (the --no-pending-taint
	// flag): none is added; the ones on are still removed.
	NoPendingTaint bool

	// dryRuns remembers the Job dry run of each ClusterUpgrade's spec.
	dryRuns dryRunMemo
	// statusWrites writes the status in the background, and spaces out
	// the writes that only change messages.
	statusWrites statusWrites
	// nodeWrites remembers the Node writes the cache has not shown yet.
	nodeWrites nodeWrites
	// nodeIndex reads the cached Nodes in place (SetupWithManager makes it).
	nodeIndex *nodeIndex
	// serverVersions remembers the API server's version between passes.
	serverVersions serverVersions
	// alerts remembers each ClusterUpgrade's last read of its alerts.
	alerts alertReads
	// workloads remembers each ClusterUpgrade's last reads of the
	// workloads its drains evicted pods of (health.replacementsReady).
	workloads workloadReads
	// drains runs the drain passes in the background; wakeups carries
	// back to the work queue the ClusterUpgrade of each finished drain
	// pass, and of each failed taint write (see wake).
	drains  *drain.Passes
	wakeups chan event.GenericEvent
	// taints writes the pending taints in the background.
	taints *taintWrites
}

// +kubebuilder:rbac:groups=upgrade.nodewave.io,resources=clusterupgrades,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=upgrade.nodewave.io,resources=clusterupgrades/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=upgrade.nodewave.io,resources=clusterupgrades/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups="",resources=pods/eviction,verbs=create
// +kubebuilder:rbac:groups=apps,resources=daemonsets;replicasets;statefulsets,verbs=get
// +kubebuilder:rbac:groups="",resources=replicationcontrollers,verbs=get
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=list
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete;deletecollection,namespace=system
// +kubebuilder:rbac:groups="",resources=pods/exec,verbs=get;create,namespace=kube-system
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one ClusterUpgrade a step closer to its spec.
func (r *ClusterUpgradeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	if err := r.Get(ctx, req.NamespacedName, cu); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.ClusterUpgrades.Delete(req.Name) // gone without its finalizer
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cu.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, cu)
	}
	if !controllerutil.ContainsFinalizer(cu, upgradev1alpha1.Finalizer) {
		// A patch of the finalizers alone: an update would send the whole
		// spec back as this client serialises it ("10m" becomes "10m0s"),
		// which GitOps tools see as drift and the API server as a new
		// generation.
		base := cu.DeepCopy()
		controllerutil.AddFinalizer(cu, upgradev1alpha1.Finalizer)
		if err := r.Patch(ctx, cu, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, err
		}
	}

	// The status last handed to its writer, until the cache shows it.
	writeErr := r.statusWrites.overlay(cu)
	before := cu.DeepCopy()
	trace := newPassTrace()
	defer trace.logIfSlow(logf.FromContext(ctx), slowPass)
	result, err := r.reconcile(ctx, cu, trace)
	recordStatusMetrics(cu)
	// One status write per pass, whatever happened above, written in the
	// background; one that only updates messages waits a little (see
	// messageWriteInterval).
	if !equality.Semantic.DeepEqual(before.Status, cu.Status) {
		now := r.Clock.Now()
		if wait := r.statusWrites.hold(cu.UID, &before.Status, &cu.Status, now); wait > 0 && err == nil {
			result.RequeueAfter = minRequeue(result.RequeueAfter, wait)
		} else {
			r.statusWrites.write(ctx, cu, &before.Status)
			r.statusWrites.wrote(cu.UID, now)
			trace.step("status handed to its writer", "")
		}
	}
	if err == nil && writeErr != nil {
		err = fmt.Errorf("writing the status: %w", writeErr)
	}
	if err != nil {
		// The error's backoff decides the retry; a result would be ignored.
		return ctrl.Result{}, err
	}
	return result, nil
}

// reconcile is one pass: observe the world; let a spec change take effect
// (retrying failed nodes); run the pre-flight checks, which hold new
// starts and new Jobs but never the nodes in flight; advance the nodes in
// flight that can finish by their pure step decisions, each starting the
// next node in its slot as it finishes where any slot will do; plan once
// which nodes start, and start them; advance the other nodes in flight; and
// compute the status into cu.Status, which Reconcile hands to its writer
// once.
func (r *ClusterUpgradeReconciler) reconcile(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade, trace *passTrace) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	s, err := r.observe(ctx, cu)
	if err != nil {
		return ctrl.Result{}, err
	}
	trace.step("observed", "%d nodes", len(s.nodes))
	if cu.Status.ObservedGeneration != cu.Generation {
		// A spec change retries the nodes that failed under the old one,
		// before anything can hold the pass: its effect is never lost.
		if err := r.retryFailedNodes(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
	}
	if b := r.preflight(ctx, s); b != nil {
		log.V(1).Info("pre-flight check failed; nothing to do", "reason", b.reason, "message", b.message)
		setStalledStatus(cu, s, b)
		return ctrl.Result{RequeueAfter: b.requeueAfter}, nil
	}

	trace.step("pre-flight checks", "")
	// The nodes that can free a slot advance before the starts, the
	// others after them: a freed slot is handed on without waiting for
	// every drain's write of the pass, and, where any slot will do, the
	// moment the write that freed it returns.
	before, after := aroundStarts(s, s.inFlight())
	next, err := r.handOnNext(ctx, s, before)
	if err != nil {
		return ctrl.Result{}, err
	}
	requeue, handedOn, err := r.advanceHandingOn(ctx, s, before, next)
	trace.step("advanced", "%d in flight, %d started in the slots they freed", len(before), handedOn)
	if err := holdOnRejectedJob(s, err); err != nil {
		return ctrl.Result{}, err
	}
	s.letGo()

	// A gate of spec.health holds new starts; nodes in flight go on. It
	// is judged unless a pre-flight check holds the starts anyway.
	judged := s.holds.start == nil
	if judged {
		s.gate = r.gates(ctx, s)
	}
	w := r.planWaves(ctx, s)
	trace.step("planned", "")
	start := slices.Concat(w.controlPlane.Start, w.workers.Start)
	if s.holds.start == nil && len(start) > 0 {
		// The API server judges the Job before its node is cordoned.
		b, err := r.dryRunJob(ctx, s, start[0])
		if err != nil {
			return ctrl.Result{}, err
		}
		if b != nil {
			s.holds.holdStart(b)
			start = nil
		}
	}
	// The nodes start together, each going straight on to its drain.
	started, refused, d, err := r.startNodes(ctx, s, start)
	if err != nil {
		return ctrl.Result{}, err
	}
	trace.step("started", "%d started", len(started))
	requeue = minRequeue(requeue, d)
	if len(after) > 0 {
		d, err := r.advanceNodes(ctx, s, after)
		trace.step("advanced the rest", "%d in flight", len(after))
		if err := holdOnRejectedJob(s, err); err != nil {
			return ctrl.Result{}, err
		}
		requeue = minRequeue(requeue, d)
	}
	if err := r.syncPendingTaints(s); err != nil {
		return ctrl.Result{}, err
	}
	trace.step("pending taints", "")
	w.controlPlane = w.controlPlane.After(plan.OfWave(started, true, s.isControlPlane), plan.OfWave(refused, true, s.isControlPlane))
	w.workers = w.workers.After(plan.OfWave(started, false, s.isControlPlane), plan.OfWave(refused, false, s.isControlPlane))

	hold := s.holds.start
	if hold == nil && w.controlPlaneDone() && w.workers.Pending > 0 {
		hold = s.holds.workers
	}
	if g := s.gate; hold == nil && g != nil {
		hold = &blocker{reason: g.Reason, message: g.Message, transient: !g.Stalled, requeueAfter: gateRecheck}
		if g.Stalled {
			hold.requeueAfter = stalledGateRecheck
		}
	}
	if hold != nil && (!w.done() || w.failed() > 0) {
		log.V(1).Info("holding: nothing new starts", "reason", hold.reason, "message", hold.message)
		setHeldStatus(cu, s, w, hold)
		requeue = minRequeue(requeue, hold.requeueAfter)
	} else {
		setProgressStatus(cu, s, w, s.now)
	}
	setGated(cu, s.gate, judged, w.controlPlane.Pending+w.workers.Pending > 0)
	if w.checks != nil {
		requeue = minRequeue(requeue, w.checks.requeueAfter)
	}
	if c := w.workers.Canary; c.Hold == plan.CanarySoaking {
		requeue = minRequeue(requeue, c.Until.Sub(s.now))
	}
	all := w.all()
	recordNodeMetrics(s, all)
	return ctrl.Result{RequeueAfter: minRequeue(requeue, s.windowRequeue(all))}, nil
}

// aroundStarts splits the nodes in flight into the ones a pass advances
// before it starts new nodes and the ones it advances after: first the
// nodes that can leave flight in this pass and free a slot (upgrading,
// verifying), then, after the starts, those whose steps cannot free one
// (cordoned, draining: a drain takes many passes). What the second group
// does can only free more slots, which the next pass hands on. When its
// steps can hold the starts, every node goes first: a drain's end records
// what spec.health.replacementsReady gates on, and a pre-drain hook Job
// the API server refuses holds new starts.
func aroundStarts(s *scope, inFlight []string) (before, after []string) {
	if drainEndHoldsStarts(s.cu) {
		return inFlight, nil
	}
	for _, name := range inFlight {
		switch upgradev1alpha1.NodeState(s.nodes[name].Labels[upgradev1alpha1.NodeStateLabel]) {
		case upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining:
			after = append(after, name)
		default:
			before = append(before, name)
		}
	}
	return before, after
}

// drainEndHoldsStarts reports whether what a drain's end records can hold
// new starts: spec.health.replacementsReady gates on what each drain
// evicted, and a pre-drain hook Job the API server refuses holds them.
func drainEndHoldsStarts(cu *upgradev1alpha1.ClusterUpgrade) bool {
	return cu.Spec.Health.ReplacementsReady != nil || plan.PreDrain.Job(cu.Spec.Hooks) != nil
}

// holdOnRejectedJob holds new starts and Jobs when err says the API server
// refused a Job (only a spec change can fix it), and returns any other
// error.
func holdOnRejectedJob(s *scope, err error) error {
	var rejected *jobRejectedError
	if !errors.As(err, &rejected) {
		return err
	}
	s.holds.holdJobs(&blocker{reason: upgradev1alpha1.ReasonJobRejected, message: rejected.Error()})
	return nil
}

// SetupWithManager registers the reconciler and its watches: its own
// objects, the Jobs it owns, Nodes, mapped to every ClusterUpgrade that
// selects or holds them, filtered to the changes that matter, and the
// phase changes and deletions of every ClusterUpgrade, mapped to the others
// (a newer one waiting for it in Conflict starts when it is done).
func (r *ClusterUpgradeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.DrainPollInterval <= 0 {
		r.DrainPollInterval = DefaultDrainPollInterval
	}
	index, err := newNodeIndex(context.Background(), mgr.GetCache())
	if err != nil {
		return err
	}
	if v, ok := r.Client.(nodeViewer); ok {
		index.view = v.viewNode
	}
	r.nodeIndex = index
	r.wakeups = make(chan event.GenericEvent, wakeupsBuffer)
	r.drains = &drain.Passes{Drainer: r.Drainer, Interval: r.DrainPollInterval, Finished: r.wake, Now: r.Clock.Now}
	if err := mgr.Add(r.drains); err != nil {
		return err
	}
	r.taints = newTaintWrites(r)
	r.statusWrites.patch = func(ctx context.Context, cu, base *upgradev1alpha1.ClusterUpgrade) error {
		return r.Status().Patch(ctx, cu, client.MergeFrom(base))
	}
	if err := mgr.Add(r.taints); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&upgradev1alpha1.ClusterUpgrade{}).
		Owns(&batchv1.Job{}).
		WatchesRawSource(source.Channel(r.wakeups, &handler.EnqueueRequestForObject{})).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.clusterUpgradesForNode),
			builder.WithPredicates(nodeChangePredicate())).
		Watches(&upgradev1alpha1.ClusterUpgrade{}, handler.EnqueueRequestsFromMapFunc(r.otherClusterUpgrades),
			builder.WithPredicates(phaseChangePredicate())).
		Named("clusterupgrade").
		Complete(r)
}

// wakeupsBuffer is how many wakeups (finished drain passes, failed taint
// writes) may wait to be queued; the work queue merges them per
// ClusterUpgrade.
const wakeupsBuffer = 1024

// wake queues the ClusterUpgrade named owner: its drain pass just
// finished, or one of its taint writes failed. Should the buffer be full,
// the drain's poll interval, or the next event, looks again.
func (r *ClusterUpgradeReconciler) wake(owner string) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	cu.Name = owner
	select {
	case r.wakeups <- event.GenericEvent{Object: cu}:
	default:
	}
}

// minRequeue returns the sooner of two requeue delays, zero meaning none.
func minRequeue(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	default:
		return min(a, b)
	}
}

// jobRejectedError says the API server refused a Job (the upgrade Job, or
// a hook Job): the spec's template in field cannot run, and only a spec
// change can fix it.
type jobRejectedError struct {
	field string // the template, such as upgradeTemplateField
	err   error
}

func (e *jobRejectedError) Error() string {
	return fmt.Sprintf("the API server refused the Job built from %s: %v", e.field, e.err)
}

func (e *jobRejectedError) Unwrap() error { return e.err }
