package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drain"
	"github.com/nodewave/nodewave/internal/metrics"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
)

// maxStepsPerPass bounds how many steps one node advances in one pass, so a
// pass always ends.
const maxStepsPerPass = 5

// advanceConcurrency bounds how many nodes in flight one pass advances at
// once. Each node's steps are its own (its Node, its Job, its pods), so a
// slow drain does not hold up the node whose kubelet is ready.
const advanceConcurrency = 16

// advanceInFlight advances every node this ClusterUpgrade holds in flight,
// concurrently, and returns when the soonest of them wants another look.
func (r *ClusterUpgradeReconciler) advanceInFlight(ctx context.Context, s *scope) (time.Duration, error) {
	var names []string
	for _, name := range s.order {
		n := s.nodes[name]
		if !s.heldByOther(n) && plan.Classify(s.planNode(n)) == plan.ClassInFlight {
			names = append(names, name)
		}
	}
	return r.advanceNodes(ctx, s, names)
}

// advanceNodes advances the named nodes concurrently, and returns when the
// soonest of them wants another look.
func (r *ClusterUpgradeReconciler) advanceNodes(ctx context.Context, s *scope, names []string) (time.Duration, error) {
	var (
		mu      sync.Mutex
		requeue time.Duration
		errs    []error
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, advanceConcurrency)
	for _, name := range names {
		n := s.nodes[name]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := r.advanceNode(ctx, s, n)
			mu.Lock()
			defer mu.Unlock()
			requeue = minRequeue(requeue, d)
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
			}
		}()
	}
	wg.Wait()
	return requeue, errors.Join(errs...)
}

// advanceNode moves one node through as many steps as it can take now, and
// says when to look at it again (zero: on the next event).
func (r *ClusterUpgradeReconciler) advanceNode(ctx context.Context, s *scope, n *corev1.Node) (time.Duration, error) {
	for range maxStepsPerPass {
		state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
		var (
			wait     time.Duration
			advanced bool
			err      error
		)
		switch state {
		case upgradev1alpha1.NodeCordoned:
			advanced, err = true, r.setState(ctx, s, n, upgradev1alpha1.NodeDraining, nil)
			if err == nil {
				r.nodeEvent(s, n, corev1.EventTypeNormal, "Draining", "Drain", "evicting the pods of node %s", n.Name)
			}
		case upgradev1alpha1.NodeDraining:
			advanced, wait, err = r.stepDrain(ctx, s, n)
		case upgradev1alpha1.NodeUpgrading:
			advanced, wait, err = r.stepUpgrade(ctx, s, n)
		case upgradev1alpha1.NodeVerifying:
			advanced, wait, err = r.stepVerify(ctx, s, n)
		default:
			return 0, nil // not in flight (any more)
		}
		if errors.Is(err, errJobHeld) {
			s.say(n.Name, fmt.Sprintf("held before its upgrade Job: %s (see the Stalled condition)", s.jobHold.reason))
			return 0, nil
		}
		if err != nil || !advanced {
			return wait, err
		}
	}
	return r.DrainPollInterval, nil
}

// stepDrain asks for a background drain pass over the node and reads the
// newest finished one. It advances to upgrading once a pass found the node
// drained; on drain.timeout it fails the node or, with ForceDelete, has
// the passes delete what is left.
func (r *ClusterUpgradeReconciler) stepDrain(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	spec := s.cu.Spec.Drain
	since := stateSince(n, s.now)
	timeout := drainTimeout(s.cu)
	expired, left := plan.DrainExpired(since, timeout, s.now)
	opts := drain.Options{GracePeriodSeconds: spec.GracePeriodSeconds, Force: spec.Force,
		DeleteEmptyDirData: spec.DeleteEmptyDirData == nil || *spec.DeleteEmptyDirData}

	// The pass runs in the background; this looks at the newest one that
	// began after the drain did.
	force := expired && spec.OnTimeout == upgradev1alpha1.DrainTimeoutForceDelete
	// Without its state-since annotation (removed by hand) the drain's
	// start is unknown, and any pass of this node will do.
	began := since
	if _, ok := n.Annotations[upgradev1alpha1.StateSinceAnnotation]; !ok {
		began = time.Time{}
	}
	last := r.drains.Request(s.cu.Name, n.Name, began, opts, force)
	if !last.Drained() {
		// The node fails only once a pass that began after the deadline
		// still finds pods to leave: pods that left just in time count.
		finalLook := last != nil && !last.Started.Before(since.Add(timeout))
		switch {
		case expired && !force && finalLook:
			msg := fmt.Sprintf("not drained within drain.timeout %s", timeout)
			if last.Message != "" {
				msg += ": " + last.Message
			}
			r.drains.Forget(n.Name)
			return false, 0, r.failNode(ctx, s, n, plan.ReasonDrainTimeout, msg)
		case expired && !force:
			s.say(n.Name, fmt.Sprintf("drain.timeout %s passed: one more look at its pods decides", timeout))
		case last == nil:
			s.say(n.Name, "evicting its pods")
		case last.Err != nil:
			s.say(n.Name, fmt.Sprintf("drain: %v", last.Err))
			logf.FromContext(ctx).Error(last.Err, "draining", "node", n.Name)
		default:
			s.say(n.Name, last.Message)
		}
		// A pass that finds the node drained wakes the ClusterUpgrade; until
		// then it looks again every poll interval, and starts the next pass.
		wait := r.DrainPollInterval
		if !expired {
			wait = min(wait, left)
		}
		return false, wait, nil
	}
	r.drains.Forget(n.Name)
	if err := r.startUpgrade(ctx, s, n); err != nil {
		return false, 0, err
	}
	metrics.StepDuration.WithLabelValues(metrics.StepDrain).Observe(s.now.Sub(since).Seconds())
	return true, 0, nil
}

// startUpgrade creates the node's upgrade Job (Job mode) and moves it to
// upgrading with the target it is upgraded to.
func (r *ClusterUpgradeReconciler) startUpgrade(ctx context.Context, s *scope, n *corev1.Node) error {
	target := s.cu.Spec.TargetVersion
	if err := r.ensureJob(ctx, s, n.Name, target); err != nil {
		return err
	}
	if err := r.setState(ctx, s, n, upgradev1alpha1.NodeUpgrading,
		map[string]string{upgradev1alpha1.TargetVersionAnnotation: target}); err != nil {
		return err
	}
	r.nodeEvent(s, n, corev1.EventTypeNormal, "Upgrading", "Upgrade", "upgrading node %s to %s (%s)", n.Name, target, s.cu.Spec.Upgrade.Type)
	return nil
}

// ensureJob creates the upgrade Job of node for target unless it exists.
// External mode has no Job.
func (r *ClusterUpgradeReconciler) ensureJob(ctx context.Context, s *scope, node, target string) error {
	if s.cu.Spec.Upgrade.Type == upgradev1alpha1.ExternalUpgrade {
		return nil
	}
	job, err := nodeupgrade.BuildJob(s.cu, node, target, r.JobNamespace)
	if err != nil {
		return &jobRejectedError{err: err}
	}
	if s.job(job.Name) != nil {
		return nil
	}
	if s.jobHold != nil {
		return errJobHeld
	}
	switch err := r.Create(ctx, job); {
	case err == nil:
		s.setJob(job.Name, job)
		return nil
	case apierrors.IsAlreadyExists(err):
		return nil
	case refusedByAPIServer(err):
		return &jobRejectedError{err: err}
	default:
		return err
	}
}

// stepUpgrade waits for the kubelet to report the target and be Ready. The
// kubelet is the truth: a failed Job only fails the node if the kubelet is
// not at the target. A target that moved mid-step restarts the step toward
// the new one.
func (r *ClusterUpgradeReconciler) stepUpgrade(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	stepTarget := n.Annotations[upgradev1alpha1.TargetVersionAnnotation]
	if stepTarget != s.cu.Spec.TargetVersion {
		return true, 0, r.retarget(ctx, s, n)
	}
	if err := r.ensureJob(ctx, s, n.Name, stepTarget); err != nil {
		return false, 0, err
	}
	facts := plan.UpgradeFacts{
		AtTarget:       s.atTarget(n),
		Ready:          nodeview.Ready(n),
		KubeletVersion: n.Status.NodeInfo.KubeletVersion,
		Since:          stateSince(n, s.now),
		Timeout:        durationOr(s.cu.Spec.Upgrade.Timeout, 30*time.Minute),
		Now:            s.now,
	}
	if job := s.job(nodeupgrade.JobName(s.cu.Name, n.Name, stepTarget)); job != nil {
		phase, msg := nodeupgrade.JobPhase(job)
		facts.JobSucceeded, facts.JobFailed, facts.JobMessage = phase == nodeupgrade.JobSucceeded, phase == nodeupgrade.JobFailed, msg
	}
	return r.act(ctx, s, n, plan.UpgradeStep(facts), func() (bool, error) {
		metrics.StepDuration.WithLabelValues(metrics.StepUpgrade).Observe(s.now.Sub(facts.Since).Seconds())
		if err := r.setState(ctx, s, n, upgradev1alpha1.NodeVerifying, nil); err != nil {
			return false, err
		}
		r.nodeEvent(s, n, corev1.EventTypeNormal, "Verifying", "Verify", "node %s reports %s and is Ready; soaking", n.Name, n.Status.NodeInfo.KubeletVersion)
		return true, nil
	})
}

// act carries out a step decision: advance on Advance (which says whether
// the node can take another step in this pass), fail the node on Fail, and
// on Wait record what the node waits for and when to look again.
func (r *ClusterUpgradeReconciler) act(ctx context.Context, s *scope, n *corev1.Node, d plan.Decision,
	advance func() (bool, error)) (bool, time.Duration, error) {
	switch d.Outcome {
	case plan.Advance:
		more, err := advance()
		return more, 0, err
	case plan.Fail:
		return false, 0, r.failNode(ctx, s, n, d.Reason, d.Message)
	default:
		s.say(n.Name, d.Message)
		return false, d.RequeueAfter, nil
	}
}

// retarget restarts the upgrading step of a node toward a changed
// spec.targetVersion: the old Job goes, a new one comes.
func (r *ClusterUpgradeReconciler) retarget(ctx context.Context, s *scope, n *corev1.Node) error {
	if s.jobHold != nil {
		return errJobHeld // the old Job stays until a new one may come
	}
	if old := n.Annotations[upgradev1alpha1.TargetVersionAnnotation]; old != "" {
		if err := r.deleteJob(ctx, s, nodeupgrade.JobName(s.cu.Name, n.Name, old)); err != nil {
			return err
		}
	}
	return r.startUpgrade(ctx, s, n)
}

// stepVerify waits for the node to stay Ready at the target for the soak
// duration, then uncordons it (unless an admin had cordoned it) and marks
// it upgraded.
func (r *ClusterUpgradeReconciler) stepVerify(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	if n.Annotations[upgradev1alpha1.TargetVersionAnnotation] != s.cu.Spec.TargetVersion {
		return true, 0, r.retarget(ctx, s, n)
	}
	facts := plan.VerifyFacts{
		AtTarget: s.atTarget(n),
		Ready:    nodeview.Ready(n),
		Since:    stateSince(n, s.now),
		Soak:     durationOr(s.cu.Spec.Health.SoakDuration, 30*time.Second),
		Timeout:  durationOr(s.cu.Spec.Upgrade.Timeout, 30*time.Minute),
		Now:      s.now,
	}
	if c := readyCondition(n); c != nil {
		facts.ReadySince = c.LastTransitionTime.Time
	}
	return r.act(ctx, s, n, plan.VerifyStep(facts), func() (bool, error) {
		metrics.StepDuration.WithLabelValues(metrics.StepVerify).Observe(s.now.Sub(facts.Since).Seconds())
		return false, r.finishNode(ctx, s, n)
	})
}

// finishNode uncordons a verified node unless an admin had cordoned it,
// marks it upgraded and deletes its Job.
func (r *ClusterUpgradeReconciler) finishNode(ctx context.Context, s *scope, n *corev1.Node) error {
	if err := r.patchNode(ctx, n, func(n *corev1.Node) {
		markState(n, upgradev1alpha1.NodeUpgraded, s.now)
		if n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] != "true" {
			n.Spec.Unschedulable = false
		}
	}); err != nil {
		return err
	}
	metrics.NodeUpgradesTotal.WithLabelValues(metrics.ResultSucceeded).Inc()
	r.nodeEvent(s, n, corev1.EventTypeNormal, "Upgraded", "Uncordon", "node %s is upgraded to %s", n.Name, s.cu.Spec.TargetVersion)
	return r.deleteJob(ctx, s, nodeupgrade.JobName(s.cu.Name, n.Name, s.cu.Spec.TargetVersion))
}

// failNode marks a node failed and leaves it cordoned.
func (r *ClusterUpgradeReconciler) failNode(ctx context.Context, s *scope, n *corev1.Node, reason, message string) error {
	if err := r.setState(ctx, s, n, upgradev1alpha1.NodeFailed,
		map[string]string{upgradev1alpha1.FailureAnnotation: reason + ": " + message}); err != nil {
		return err
	}
	metrics.NodeUpgradesTotal.WithLabelValues(metrics.ResultFailed).Inc()
	r.nodeEvent(s, n, corev1.EventTypeWarning, reason, "Fail", "node %s failed and stays cordoned: %s", n.Name, message)
	return nil
}

// startNode cordons a pending node and takes hold of it, recording whether
// an admin had cordoned it already so it is never uncordoned by nodewave.
func (r *ClusterUpgradeReconciler) startNode(ctx context.Context, s *scope, n *corev1.Node) error {
	// A retried node's Job from its failed try would fail it again at
	// once: a start begins with no Job of this node.
	for _, name := range s.jobsOf(n.Name) {
		if err := r.deleteJob(ctx, s, name); err != nil {
			return err
		}
	}
	retry := n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] == s.cu.Name &&
		n.Labels[upgradev1alpha1.NodeStateLabel] == ""
	if err := r.patchNode(ctx, n, func(n *corev1.Node) {
		if !retry {
			// A retried node is still cordoned by nodewave from its first
			// try: what was recorded then stands.
			delete(n.Annotations, upgradev1alpha1.WasUnschedulableAnnotation)
			if n.Spec.Unschedulable {
				setAnnotation(n, upgradev1alpha1.WasUnschedulableAnnotation, "true")
			}
		}
		n.Spec.Unschedulable = true
		markState(n, upgradev1alpha1.NodeCordoned, s.now)
		setAnnotation(n, upgradev1alpha1.ClusterUpgradeAnnotation, s.cu.Name)
		delete(n.Annotations, upgradev1alpha1.TargetVersionAnnotation)
		delete(n.Annotations, upgradev1alpha1.FailureAnnotation)
	}); err != nil {
		return err
	}
	if s.cu.Status.StartedAt == nil {
		t := metaTime(s.now)
		s.cu.Status.StartedAt = &t
	}
	r.nodeEvent(s, n, corev1.EventTypeNormal, "Cordoned", "Cordon", "cordoned node %s to upgrade it to %s", n.Name, s.cu.Spec.TargetVersion)
	return nil
}

// retryFailedNodes clears the failed state of this ClusterUpgrade's failed
// nodes after a spec change, so the planner starts them again.
func (r *ClusterUpgradeReconciler) retryFailedNodes(ctx context.Context, s *scope) error {
	for _, name := range s.order {
		n := s.nodes[name]
		if s.heldByOther(n) || n.Labels[upgradev1alpha1.NodeStateLabel] != string(upgradev1alpha1.NodeFailed) {
			continue
		}
		if err := r.patchNode(ctx, n, func(n *corev1.Node) {
			delete(n.Labels, upgradev1alpha1.NodeStateLabel)
			delete(n.Annotations, upgradev1alpha1.FailureAnnotation)
		}); err != nil {
			return err
		}
		r.nodeEvent(s, n, corev1.EventTypeNormal, "Retrying", "Retry", "retrying failed node %s after a spec change", n.Name)
	}
	return nil
}

// setState moves a node to state, stamping when, with extra annotations.
func (r *ClusterUpgradeReconciler) setState(ctx context.Context, s *scope, n *corev1.Node,
	state upgradev1alpha1.NodeState, annotations map[string]string) error {
	return r.patchNode(ctx, n, func(n *corev1.Node) {
		markState(n, state, s.now)
		for k, v := range annotations {
			setAnnotation(n, k, v)
		}
	})
}

// patchNode is the one way a Node is written. n is a read-only view of a
// cached Node (see scope.nodes): its labels, annotations and conditions
// are the cache's own maps and slices, so mutate changes a deep copy of
// it, which is patched with n as the base and, once the API server took
// it, replaces *n. n must be the caller's own struct (an element of a list
// it owns), never the cache's object: only *n is rewritten, and the maps
// and slices it shared with the cache are left as they were. On an error
// n is unchanged.
func (r *ClusterUpgradeReconciler) patchNode(ctx context.Context, n *corev1.Node, mutate func(*corev1.Node)) error {
	next := n.DeepCopy()
	mutate(next)
	if err := r.Patch(ctx, next, client.MergeFrom(n)); err != nil {
		return err
	}
	*n = *next
	return nil
}

// deleteJob deletes one of this ClusterUpgrade's Jobs with its pods, if it exists.
func (r *ClusterUpgradeReconciler) deleteJob(ctx context.Context, s *scope, name string) error {
	job := s.job(name)
	if job == nil {
		return nil
	}
	s.setJob(name, nil)
	return client.IgnoreNotFound(r.Delete(ctx, job, client.PropagationPolicy("Background")))
}

// atTarget reports whether the node's kubelet reports the spec's target.
func (s *scope) atTarget(n *corev1.Node) bool {
	kubelet, ok := kubeletVersion(n)
	return ok && version.AtTarget(kubelet, s.target)
}

// kubeletVersion is the version the node's kubelet reports, and whether it
// parses.
func kubeletVersion(n *corev1.Node) (version.Version, bool) {
	v, err := version.Parse(n.Status.NodeInfo.KubeletVersion)
	return v, err == nil
}

// markState sets the node's state label and stamps when it entered it.
// Like setLabel and setAnnotation, it writes only to a node patchNode's
// mutate was given, never to a scope node.
func markState(n *corev1.Node, state upgradev1alpha1.NodeState, now time.Time) {
	setLabel(n, upgradev1alpha1.NodeStateLabel, string(state))
	setAnnotation(n, upgradev1alpha1.StateSinceAnnotation, now.UTC().Format(time.RFC3339))
}

// stateSince is when the node entered its current state; now when the
// annotation is missing or unreadable (the timeouts then start afresh,
// which errs on the side of waiting).
func stateSince(n *corev1.Node, now time.Time) time.Time {
	t, err := time.Parse(time.RFC3339, n.Annotations[upgradev1alpha1.StateSinceAnnotation])
	if err != nil {
		return now
	}
	return t
}

// setLabel sets one label of n, making the map if n has none.
func setLabel(n *corev1.Node, k, v string) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[k] = v
}

// setAnnotation sets one annotation of n, making the map if n has none.
func setAnnotation(n *corev1.Node, k, v string) {
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	n.Annotations[k] = v
}
