package controller

import (
	"context"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
	"github.com/nodewave/nodewave/internal/window"
)

// scope is what one pass observed: the ClusterUpgrade, its nodes and their
// Jobs. It is built fresh on every pass.
type scope struct {
	cu  *upgradev1alpha1.ClusterUpgrade
	now time.Time

	// target is the parsed spec.targetVersion; targetErr when it does not parse.
	target    version.Version
	targetErr error
	// selector selects the nodes; nil when spec.nodeSelector does not parse.
	selector    labels.Selector
	selectorErr error
	// cpSelector selects the control-plane nodes; nil when
	// spec.controlPlane is absent, or does not parse (cpSelectorErr).
	cpSelector    labels.Selector
	cpSelectorErr error
	// nodes are the ClusterUpgrade's nodes by name: the selected ones and
	// the ones it holds (in flight or failed) that the selectors no longer
	// select; order is their plan order, the control-plane nodes first.
	// controlPlane names the control-plane nodes (those cpSelector
	// selects); selected counts the other selected ones.
	//
	// They are read-only views of the cache's Nodes (listed without a
	// deep copy), or of the pass's own writes the cache has not shown yet
	// (see nodeWrites): each is a struct of observe's own, but its labels,
	// annotations, conditions and every other map and slice are shared.
	// Nothing writes to them; every change to a node goes through
	// patchNode, which patches a copy and then replaces the struct.
	nodes        map[string]*corev1.Node
	order        []string
	controlPlane map[string]bool
	selected     int
	// mu guards jobs and messages, which the nodes in flight, advanced
	// concurrently, read and write.
	mu sync.Mutex
	// jobs are this ClusterUpgrade's upgrade Jobs by name.
	jobs map[string]*batchv1.Job
	// maxUnavailable is the resolved budget.
	maxUnavailable int
	// messages are what in-flight nodes wait for, by node name, for status.
	messages map[string]string
	// window is the parsed spec.window, nil when there is none;
	// windowErr when it cannot be read (then nothing new starts).
	window    *window.Window
	windowErr error
	// holds are what the pre-flight checks found (see holds).
	holds holds
	// gate is the closed gate of spec.health that holds new starts, nil
	// when none does (or none was judged).
	gate *plan.Gate
}

// observe reads everything a pass needs from the cache, and overlays the
// Node writes of earlier passes that the cache does not show yet.
func (r *ClusterUpgradeReconciler) observe(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) (*scope, error) {
	s := &scope{cu: cu, now: r.Clock.Now(), messages: map[string]string{}, nodes: map[string]*corev1.Node{},
		controlPlane: map[string]bool{}, jobs: map[string]*batchv1.Job{}}
	s.target, s.targetErr = version.Parse(cu.Spec.TargetVersion)
	s.selector, s.selectorErr = cu.Selector()
	s.cpSelector, s.cpSelectorErr = cu.ControlPlaneSelector()
	s.parseWindow()
	// Without a deep copy: at 1,000 nodes, copying every selected Node on
	// every pass was most of the manager's allocations. The items share
	// their maps and slices with the cache (see scope.nodes).
	var found []*corev1.Node
	for _, sel := range []labels.Selector{s.cpSelector, s.selector} {
		if sel == nil {
			continue
		}
		selected := &corev1.NodeList{}
		if err := r.List(ctx, selected, client.UnsafeDisableDeepCopy,
			client.MatchingLabelsSelector{Selector: sel}); err != nil {
			return nil, err
		}
		for i := range selected.Items {
			found = append(found, &selected.Items[i])
		}
	}
	held := &corev1.NodeList{}
	if err := r.List(ctx, held, client.UnsafeDisableDeepCopy, client.MatchingFields{heldByField: cu.Name}); err != nil {
		return nil, err
	}
	for i := range held.Items {
		found = append(found, &held.Items[i])
	}
	var cpNodes, workerNodes []plan.Node
	for _, n := range found {
		if _, dup := s.nodes[n.Name]; dup {
			continue
		}
		n = r.nodeWrites.overlay(n)
		set := labels.Set(n.Labels)
		isCP := s.cpSelector != nil && s.cpSelector.Matches(set)
		isSelected := isCP || (s.selector != nil && s.selector.Matches(set))
		if !isSelected && !nodeview.Holds(n, cu.Name) {
			continue // a node it let go of, or one whose newer labels the cache lags behind
		}
		s.nodes[n.Name] = n
		pnode := plan.Node{Name: n.Name, Zone: nodeview.Zone(n, cu)}
		pnode.Priority, _ = nodeview.Priority(n, cu) // an error holds the upgrade: checkPriorities
		if isCP {
			s.controlPlane[n.Name] = true
			cpNodes = append(cpNodes, pnode)
			continue
		}
		if isSelected {
			s.selected++
		}
		workerNodes = append(workerNodes, pnode) // or held, selected by neither any more
	}
	for _, n := range append(plan.Order(cpNodes), plan.Order(workerNodes)...) {
		s.order = append(s.order, n.Name)
	}
	jobList := &batchv1.JobList{}
	if err := r.List(ctx, jobList, client.InNamespace(r.JobNamespace),
		client.MatchingLabels{upgradev1alpha1.JobClusterUpgradeLabel: cu.Name}); err != nil {
		return nil, err
	}
	for i := range jobList.Items {
		s.jobs[jobList.Items[i].Name] = &jobList.Items[i]
	}
	if err := s.resolveBudget(); err != nil {
		return nil, err
	}
	return s, nil
}

// resolveBudget resolves spec.strategy over the pass's nodes apart from
// its control-plane ones (which go one at a time) into maxUnavailable.
func (s *scope) resolveBudget() error {
	var err error
	s.maxUnavailable, err = plan.MaxUnavailable(s.cu.Spec.Strategy, len(s.nodes)-len(s.controlPlane))
	return err
}

// letGo drops the nodes the pass let go of: held outside the selectors
// when it began, finished by it since. Such a node counts against the
// budget only while it is held, so the budget is resolved again over the
// nodes left, before anything starts: a base that shrank can lower it.
func (s *scope) letGo() {
	kept := s.order[:0]
	for _, name := range s.order {
		if n := s.nodes[name]; s.selects(n) || nodeview.Holds(n, s.cu.Name) {
			kept = append(kept, name)
			continue
		}
		delete(s.nodes, name)
	}
	if len(kept) == len(s.order) {
		return
	}
	s.order = kept
	// observe resolved the same strategy, so this cannot fail; if it did,
	// the budget would be 0 and nothing would start.
	_ = s.resolveBudget()
}

// planNode is what the planner needs to know of a node.
func (s *scope) planNode(n *corev1.Node) plan.Node {
	return nodeview.PlanNode(n, s.cu, s.target)
}

// planInput is the planner's input for one wave from the nodes as they
// are now (plan.WaveInput): the control-plane nodes (controlPlane true)
// go one at a time and the first failure halts them; the others go by
// spec.strategy and spec.maxFailedNodes. held adds a hold of the wave's
// own to the pre-flight checks' (the workers wait for the control plane).
// The workers' wave carries spec.strategy.canary and .zones.
func (s *scope) planInput(controlPlane, held bool) plan.Input {
	in := plan.Input{
		MaxUnavailable:  s.maxUnavailable,
		MaxFailedNodes:  int(s.cu.Spec.MaxFailedNodes),
		MaxBlockedNodes: s.cu.Spec.MaxBlockedNodes(s.maxUnavailable),
		Paused:          s.cu.Spec.Paused,
		Closed:          s.windowClosed(),
		Held:            s.holds.start != nil || held,
		Now:             s.now,
	}
	if !controlPlane {
		in.Canary = plan.CanaryOf(s.cu.Spec.Strategy.Canary, s.cu.Spec.CanarySoakDuration(), len(s.nodes)-len(s.controlPlane))
		in.Zones = plan.ZonesOf(s.cu.Spec.Strategy.Zones)
	}
	in.Gate = s.gate
	nodes := make([]plan.Node, 0, len(s.order))
	for _, name := range s.order {
		nodes = append(nodes, s.planNode(s.nodes[name]))
	}
	return plan.WaveInput(in, nodes, controlPlane, s.isControlPlane)
}

// isControlPlane reports whether the node named name is one of the
// ClusterUpgrade's control-plane nodes.
func (s *scope) isControlPlane(name string) bool { return s.controlPlane[name] }

// selects reports whether the spec selects n, as a worker or as a
// control-plane node (the nodes of s that it does not select are the ones
// it still holds).
func (s *scope) selects(n *corev1.Node) bool {
	set := labels.Set(n.Labels)
	return (s.selector != nil && s.selector.Matches(set)) || (s.cpSelector != nil && s.cpSelector.Matches(set))
}

// inFlight names the nodes this ClusterUpgrade has in flight, in plan order.
func (s *scope) inFlight() []string {
	var names []string
	for _, name := range s.order {
		if plan.Classify(s.planNode(s.nodes[name])) == plan.ClassInFlight {
			names = append(names, name)
		}
	}
	return names
}

// job is the upgrade Job named name, or nil.
func (s *scope) job(name string) *batchv1.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[name]
}

// setJob records (job non-nil) or forgets an upgrade Job.
func (s *scope) setJob(name string, job *batchv1.Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if job == nil {
		delete(s.jobs, name)
		return
	}
	s.jobs[name] = job
}

// setWaitMessage records what an in-flight node waits for, for status.
func (s *scope) setWaitMessage(node, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages[node] = message
}

// jobsOf is the upgrade Jobs of node.
func (s *scope) jobsOf(node string) []*batchv1.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var jobs []*batchv1.Job
	for _, job := range s.jobs {
		if job.Labels[upgradev1alpha1.JobNodeLabel] == node {
			jobs = append(jobs, job)
		}
	}
	return jobs
}

// reached reports whether the node's kubelet is at or past the spec's
// target.
func (s *scope) reached(n *corev1.Node) bool {
	return s.planNode(n).Reached()
}
