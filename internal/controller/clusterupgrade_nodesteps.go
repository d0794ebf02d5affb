package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy/drainspec"
	"github.com/nodewave/nodewave/internal/metrics"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
)

// maxStepsPerPass bounds how many steps one node advances in one pass, so a
// pass always ends.
const maxStepsPerPass = 5

// advanceConcurrency bounds how many nodes one pass moves at once (starts
// them, or advances them in flight). Each node's steps are its own (its
// Node, its Job, its pods), so a slow drain does not hold up the node
// whose kubelet is ready, and a pass that writes many nodes waits for the
// API server about once, not once per node.
const advanceConcurrency = 16

// advanceNodes advances the named nodes concurrently, and returns when the
// soonest of them wants another look.
func (r *ClusterUpgradeReconciler) advanceNodes(ctx context.Context, s *scope, names []string) (time.Duration, error) {
	return eachNode(s, names, func(_ int, n *corev1.Node) (time.Duration, error) { return r.advanceNode(ctx, s, n) })
}

// startNodes starts the named nodes concurrently, each going straight on
// from its cordon to its drain, and returns the ones it started and the
// ones a check before their cordon refused (failed), in the order given,
// and when the soonest of them wants another look.
func (r *ClusterUpgradeReconciler) startNodes(ctx context.Context, s *scope, names []string) (started, refused []string,
	requeue time.Duration, err error) {
	outcome := make([]bool, len(names)) // started
	requeue, err = eachNode(s, names, func(i int, n *corev1.Node) (time.Duration, error) {
		ok, d, err := r.startAndAdvance(ctx, s, n)
		outcome[i] = ok
		return d, err
	})
	for i, name := range names {
		switch {
		case outcome[i]:
			started = append(started, name)
		case s.nodes[name].Labels[upgradev1alpha1.NodeStateLabel] == string(upgradev1alpha1.NodeFailed):
			refused = append(refused, name)
		}
	}
	return started, refused, requeue, err
}

// startAndAdvance starts n (startNode) and, once started, advances it as
// far as it goes now (advanceNode): into its drain.
func (r *ClusterUpgradeReconciler) startAndAdvance(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	ok, err := r.startNode(ctx, s, n)
	if !ok || err != nil {
		return false, 0, err
	}
	d, err := r.advanceNode(ctx, s, n)
	return true, d, err
}

// eachNode runs step on the named nodes (with each one's index in names),
// advanceConcurrency at a time, and returns the soonest requeue they asked
// for and their errors, joined. step may write its own node and nothing
// else of s but through its locks.
func eachNode(s *scope, names []string, step func(int, *corev1.Node) (time.Duration, error)) (time.Duration, error) {
	var (
		mu      sync.Mutex
		requeue time.Duration
		errs    []error
		wg      sync.WaitGroup
	)
	nodes := make([]*corev1.Node, len(names))
	for i, name := range names {
		nodes[i] = s.own(name) // before any step reads s.nodes
	}
	sem := make(chan struct{}, advanceConcurrency)
	for i, n := range nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := step(i, n)
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
	if err := r.disownUncordon(ctx, s, n); err != nil {
		return 0, err
	}
	for range maxStepsPerPass {
		state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
		var (
			wait     time.Duration
			advanced bool
			err      error
		)
		switch state {
		case upgradev1alpha1.NodeCordoned:
			advanced, wait, err = r.stepCordoned(ctx, s, n)
		case upgradev1alpha1.NodeDraining:
			advanced, wait, err = r.stepDrain(ctx, s, n)
		case upgradev1alpha1.NodeUpgrading:
			advanced, wait, err = r.stepUpgrade(ctx, s, n)
		case upgradev1alpha1.NodeVerifying:
			advanced, wait, err = r.stepVerify(ctx, s, n)
		default:
			return 0, nil // not in flight (any more)
		}
		if err != nil || !advanced {
			return wait, err
		}
	}
	return r.DrainPollInterval, nil
}

// disownUncordon gives up nodewave's claim on the cordon of a node in
// flight that someone uncordoned: a cordon added after that is theirs, and
// is kept when the node is finished or released.
func (r *ClusterUpgradeReconciler) disownUncordon(ctx context.Context, s *scope, n *corev1.Node) error {
	if n.Spec.Unschedulable || n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == annotationTrue {
		return nil
	}
	return r.patchNode(ctx, s, n, func(n *corev1.Node) {
		setAnnotation(n, upgradev1alpha1.WasUnschedulableAnnotation, annotationTrue)
	})
}

// stepCordoned begins the drain of a cordoned node once no pre-drain hook
// holds it: no hook annotation, and its pre-drain hook Job succeeded.
func (r *ClusterUpgradeReconciler) stepCordoned(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	d, err := r.hooksStep(ctx, s, n, plan.PreDrain)
	if err != nil {
		return false, 0, err
	}
	return r.act(ctx, s, n, d, func() (bool, error) {
		if err := r.setState(ctx, s, n, upgradev1alpha1.NodeDraining, nil); err != nil {
			return false, err
		}
		r.drainingEvent(s, n)
		return true, nil
	})
}

// drainingEvent records that node n's drain began.
func (r *ClusterUpgradeReconciler) drainingEvent(s *scope, n *corev1.Node) {
	r.nodeEvent(s, n, corev1.EventTypeNormal, "Draining", "Drain", "evicting the pods of node %s", n.Name)
}

// stepDrain asks for a background drain pass over the node, reads the
// newest finished one, and lets plan.DrainStep decide: advance to
// upgrading once a pass found the node drained, fail it, or wait.
func (r *ClusterUpgradeReconciler) stepDrain(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	spec := s.cu.Spec.Drain
	facts := plan.DrainFacts{
		Since:       stateSince(n, s.now),
		Timeout:     s.cu.Spec.DrainTimeout(),
		Now:         s.now,
		ForceDelete: spec.OnTimeout == upgradev1alpha1.DrainTimeoutForceDelete,
		Cordon:      spec.OnTimeout == upgradev1alpha1.DrainTimeoutCordon && !s.controlPlane[n.Name],
	}
	opts := drainspec.Options(spec)
	// The pass runs in the background; this looks at the newest one that
	// began after the drain did. Without its state-since annotation
	// (removed by hand) the drain's start is unknown, and any pass of this
	// node will do.
	began := facts.Since
	if _, ok := n.Annotations[upgradev1alpha1.StateSinceAnnotation]; !ok {
		began = time.Time{}
	}
	var evicted []string
	if last := r.drains.Request(s.cu.Name, n.Name, began, opts, facts.Forcing()); last != nil {
		evicted = last.Owners
		facts.Last = &plan.DrainPass{Started: last.Started, Force: last.Force, Drained: last.Drained(),
			Kept: last.Kept, Err: last.Err, Message: last.Message}
		if last.Err != nil {
			logf.FromContext(ctx).Error(last.Err, "draining", "node", n.Name)
		}
	}
	d := plan.DrainStep(facts)
	if d.Outcome != plan.Wait {
		r.drains.Forget(n.Name)
	} else {
		// A pass that finds the node drained wakes the ClusterUpgrade;
		// until then it looks again every poll interval, which starts
		// the next pass.
		d.RequeueAfter = minRequeue(r.DrainPollInterval, d.RequeueAfter)
	}
	return r.act(ctx, s, n, d, func() (bool, error) {
		metrics.StepDuration.WithLabelValues(metrics.StepDrain).Observe(s.now.Sub(facts.Since).Seconds())
		annotations := map[string]string{}
		if s.cu.Spec.Health.ReplacementsReady != nil {
			annotations[upgradev1alpha1.EvictedOwnersAnnotation] = evictedOwnersValue(evicted, s.now)
		}
		return true, r.startUpgrade(ctx, s, n, annotations)
	})
}

// startUpgrade moves a drained node to upgrading with the target it is
// upgraded to and the deadline of its upgrade, and annotations. Its Job,
// in Job mode, comes in the upgrading step: the node is labelled before
// the Job exists, so no drain ever sees the Job's pod.
func (r *ClusterUpgradeReconciler) startUpgrade(ctx context.Context, s *scope, n *corev1.Node, annotations map[string]string) error {
	target := s.cu.Spec.TargetVersion
	all := map[string]string{
		upgradev1alpha1.TargetVersionAnnotation: target,
		upgradev1alpha1.UpgradeSinceAnnotation:  formatTime(s.now),
	}
	maps.Copy(all, annotations)
	if err := r.setState(ctx, s, n, upgradev1alpha1.NodeUpgrading, all); err != nil {
		return err
	}
	r.nodeEvent(s, n, corev1.EventTypeNormal, "Upgrading", "Upgrade", "upgrading node %s to %s (%s)", n.Name, target, s.cu.Spec.Upgrade.Type)
	return nil
}

// stepUpgrade waits for the kubelet to report the target (or a newer
// version) and be Ready. The kubelet is the truth: a failed Job only fails
// the node if the kubelet has not reached the target, and a node that has
// needs no Job. A target that moved mid-step is handled by retarget.
func (r *ClusterUpgradeReconciler) stepUpgrade(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	stepTarget := n.Annotations[upgradev1alpha1.TargetVersionAnnotation]
	if stepTarget != s.cu.Spec.TargetVersion {
		return r.retarget(ctx, s, n)
	}
	facts := plan.UpgradeFacts{
		Reached:        s.reached(n),
		Ready:          nodeview.Ready(n),
		KubeletVersion: n.Status.NodeInfo.KubeletVersion,
		Deadline:       upgradeDeadline(s, n),
		Timeout:        s.cu.Spec.UpgradeTimeout(),
		Now:            s.now,
	}
	held := false
	if !facts.Reached || !facts.Ready {
		switch err := r.ensureJob(ctx, s, n.Name, stepTarget); {
		case errors.Is(err, errJobHeld):
			held = true
		case err != nil:
			return false, 0, err
		}
	}
	if job := s.job(nodeupgrade.JobName(s.cu.Name, n.Name, stepTarget)); job != nil {
		phase, msg := nodeupgrade.JobPhase(job)
		facts.JobSucceeded, facts.JobFailed, facts.JobMessage = phase == nodeupgrade.JobSucceeded, phase == nodeupgrade.JobFailed, msg
	}
	d := plan.UpgradeStep(facts)
	if held && d.Outcome == plan.Wait {
		d.Message = fmt.Sprintf("held before its upgrade Job: %s (see the Stalled condition)", s.jobHold(n.Name).reason)
	}
	return r.act(ctx, s, n, d, func() (bool, error) {
		since := stateSince(n, s.now)
		metrics.StepDuration.WithLabelValues(metrics.StepUpgrade).Observe(s.now.Sub(since).Seconds())
		if verifiedAtOnce(s, n) {
			// Nothing to verify: one write to upgraded, and its slot is
			// free a write sooner.
			metrics.StepDuration.WithLabelValues(metrics.StepVerify).Observe(0)
			return false, r.finishNode(ctx, s, n)
		}
		if err := r.setState(ctx, s, n, upgradev1alpha1.NodeVerifying, nil); err != nil {
			return false, err
		}
		r.nodeEvent(s, n, corev1.EventTypeNormal, "Verifying", "Verify", "node %s reports %s and is Ready; soaking", n.Name, n.Status.NodeInfo.KubeletVersion)
		return true, nil
	})
}

// retarget carries a node in upgrading or verifying toward a changed
// spec.targetVersion. nodewave never downgrades and never cuts a Job
// short: a node whose kubelet is at or past the new target goes on to (or
// stays in) verifying under it, without a Job; otherwise a Job still
// running for the old target runs to its end, then the node restarts its
// upgrading step toward the new target (a new Job, a new deadline).
func (r *ClusterUpgradeReconciler) retarget(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	target := s.cu.Spec.TargetVersion
	state := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel])
	if s.reached(n) {
		if state == upgradev1alpha1.NodeVerifying {
			// Already soaking: the soak goes on under the new target.
			return true, 0, r.patchNode(ctx, s, n, func(n *corev1.Node) {
				setAnnotation(n, upgradev1alpha1.TargetVersionAnnotation, target)
			})
		}
		if err := r.setState(ctx, s, n, upgradev1alpha1.NodeVerifying,
			map[string]string{upgradev1alpha1.TargetVersionAnnotation: target}); err != nil {
			return false, 0, err
		}
		r.nodeEvent(s, n, corev1.EventTypeNormal, "Verifying", "Verify",
			"node %s reports %s, at or past the new target %s; soaking", n.Name, n.Status.NodeInfo.KubeletVersion, target)
		return true, 0, nil
	}
	for _, job := range s.jobsOf(n.Name) {
		if phase, _ := nodeupgrade.JobPhase(job); phase == nodeupgrade.JobRunning && job.DeletionTimestamp == nil {
			s.setWaitMessage(n.Name, fmt.Sprintf("the target moved to %s: its upgrade Job %s runs to its end first", target, job.Name))
			return false, 0, nil // the Job's end is an event
		}
	}
	if hold := s.jobHold(n.Name); hold != nil {
		s.setWaitMessage(n.Name, fmt.Sprintf("the target moved to %s; held before its new upgrade Job: %s (see the Stalled condition)",
			target, hold.reason))
		return false, 0, nil
	}
	for _, job := range s.jobsOf(n.Name) {
		if err := r.deleteJob(ctx, s, job.Name); err != nil {
			return false, 0, err
		}
	}
	return true, 0, r.startUpgrade(ctx, s, n, nil) // its drain's record stays
}

// act carries out a step decision: advance on Advance (which says whether
// the node can take another step in this pass), fail the node on Fail,
// block it on Block, and on Wait record what the node waits for and when to look again.
func (r *ClusterUpgradeReconciler) act(ctx context.Context, s *scope, n *corev1.Node, d plan.Decision,
	advance func() (bool, error)) (bool, time.Duration, error) {
	switch d.Outcome {
	case plan.Advance:
		more, err := advance()
		return more, 0, err
	case plan.Fail:
		return false, 0, r.failNode(ctx, s, n, d.Reason, d.Message)
	case plan.Block:
		return false, 0, r.blockNode(ctx, s, n, d.Reason, d.Message)
	default:
		s.setWaitMessage(n.Name, d.Message)
		return false, d.RequeueAfter, nil
	}
}

// stepVerify waits for the node to stay Ready at the target for the soak
// duration (and, for a control-plane node, for its checks to pass), and
// for no post-upgrade hook to hold it, then uncordons it (unless the cordon is not nodewave's) and marks it upgraded.
func (r *ClusterUpgradeReconciler) stepVerify(ctx context.Context, s *scope, n *corev1.Node) (bool, time.Duration, error) {
	if n.Annotations[upgradev1alpha1.TargetVersionAnnotation] != s.cu.Spec.TargetVersion {
		return r.retarget(ctx, s, n)
	}
	facts := verifyFacts(s, n, stateSince(n, s.now))
	d := plan.VerifyStep(facts)
	if d.Outcome == plan.Advance && s.controlPlane[n.Name] {
		// Soaked: a control-plane node counts as upgraded only once
		// nodewave's own checks of it and of etcd pass.
		problem := ""
		if err := r.checkControlPlane(ctx, n, s.cu.Spec.TargetVersion); err != nil {
			problem = err.Error()
		}
		d = plan.ChecksStep(problem, facts.Deadline, s.now)
	}
	if d.Outcome == plan.Advance {
		// Soaked (and checked): post-upgrade hooks hold the uncordon.
		var err error
		if d, err = r.hooksStep(ctx, s, n, plan.PostUpgrade); err != nil {
			return false, 0, err
		}
		if d.Outcome == plan.Wait {
			d.Message = "soaked; " + d.Message
		}
	}
	return r.act(ctx, s, n, d, func() (bool, error) {
		metrics.StepDuration.WithLabelValues(metrics.StepVerify).Observe(s.now.Sub(facts.Since).Seconds())
		return false, r.finishNode(ctx, s, n)
	})
}

// verifyFacts are what plan.VerifyStep decides n's verifying step on, had
// it entered verifying at since.
func verifyFacts(s *scope, n *corev1.Node, since time.Time) plan.VerifyFacts {
	facts := plan.VerifyFacts{
		Reached:  s.reached(n),
		Ready:    nodeview.Ready(n),
		Since:    since,
		Soak:     s.cu.Spec.SoakDuration(),
		Deadline: upgradeDeadline(s, n),
		Now:      s.now,
	}
	if c := nodeview.ReadyCondition(n); c != nil {
		facts.ReadySince = c.LastTransitionTime.Time
	}
	return facts
}

// verifiedAtOnce reports whether a node whose upgrade just ended would
// leave verifying in the same pass with nothing to wait for: no soak left
// (spec.health.soakDuration 0s), no checks (not a control-plane node) and
// no post-upgrade hook (annotation or Job). Such a node goes from
// upgrading to upgraded in one write, never labelled verifying.
func verifiedAtOnce(s *scope, n *corev1.Node) bool {
	if s.controlPlane[n.Name] || !hookFree(s, n, plan.PostUpgrade) {
		return false
	}
	return plan.VerifyStep(verifyFacts(s, n, s.now)).Outcome == plan.Advance
}

// upgradeDeadline is when the node's upgrade.timeout (as the spec says it
// now) runs out: counted from when it entered upgrading, or, without that
// annotation (removed by hand, or a node started by an older nodewave),
// from when it entered its current state.
func upgradeDeadline(s *scope, n *corev1.Node) time.Time {
	since, err := time.Parse(time.RFC3339, n.Annotations[upgradev1alpha1.UpgradeSinceAnnotation])
	if err != nil {
		since = stateSince(n, s.now)
	}
	return since.Add(s.cu.Spec.UpgradeTimeout())
}
