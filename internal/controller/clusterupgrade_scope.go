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
	// They are the cache's own Nodes (see nodeIndex), or the pass's own
	// writes the cache has not shown yet (see nodeWrites): read-only.
	// Every change to a node goes through patchNode, which patches a copy
	// and then replaces the struct of the pass's own copy of the node
	// (own): its labels, annotations, conditions and every other map and
	// slice stay shared with the cache, and are never written.
	nodes        map[string]*corev1.Node
	order        []string
	controlPlane map[string]bool
	selected     int
	// mu guards jobs, messages, views and owned, which the nodes in
	// flight, advanced concurrently, read and write.
	mu sync.Mutex
	// owned are the nodes of nodes that are the pass's own copies (own):
	// the only ones patchNode writes.
	owned map[*corev1.Node]bool
	// views are the nodes' plan views (planNode) by name, each with the
	// resourceVersion it was made from: a pass asks for a node's view
	// several times (its class, its budget, its taint, its status), and
	// at 5,000 nodes making it again each time was a sixth of the
	// manager's CPU.
	views map[string]nodeView
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
	s := &scope{cu: cu, now: r.Clock.Now(), messages: map[string]string{},
		controlPlane: map[string]bool{}, jobs: map[string]*batchv1.Job{}}
	s.target, s.targetErr = version.Parse(cu.Spec.TargetVersion)
	s.selector, s.selectorErr = cu.Selector()
	s.cpSelector, s.cpSelectorErr = cu.ControlPlaneSelector()
	s.parseWindow()
	// The cache's own Nodes, read in place (see nodeIndex): at 1,000
	// nodes, copying every selected Node on every pass was most of the
	// manager's allocations, and at 5,000 the shallow copies a list makes
	// were still a fifth of them.
	var found []*corev1.Node
	for _, sel := range []labels.Selector{s.cpSelector, s.selector} {
		if sel != nil {
			found = append(found, r.nodeIndex.matching(sel)...)
		}
	}
	held, err := r.nodeIndex.indexed(heldByIndexName, cu.Name)
	if err != nil {
		return nil, err
	}
	found = append(found, held...)
	s.nodes = make(map[string]*corev1.Node, len(found))
	var cpNodes []plan.Node
	workerNodes := make([]plan.Node, 0, len(found))
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
	s.views = make(map[string]nodeView, len(s.nodes))
	s.order = make([]string, 0, len(s.nodes))
	for _, wave := range [][]plan.Node{plan.Order(cpNodes), plan.Order(workerNodes)} {
		for _, n := range wave {
			s.order = append(s.order, n.Name)
		}
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

// own makes the named node's entry in nodes a struct of the pass's own,
// which patchNode may replace, and returns it; its maps and slices stay
// the cache's. Only the nodes a pass writes are copied. It changes nodes,
// so it runs before the goroutines that read them start (eachNode).
func (s *scope) own(name string) *corev1.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[name]
	if s.owned[n] {
		return n
	}
	c := *n
	if s.owned == nil {
		s.owned = map[*corev1.Node]bool{}
	}
	s.owned[&c] = true
	s.nodes[name] = &c
	return &c
}

// owns reports whether n is one of the pass's own copies (own).
func (s *scope) owns(n *corev1.Node) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owned[n]
}

// nodeView is a node's plan view, made from the node at resourceVersion rv.
type nodeView struct {
	rv   string
	node plan.Node
}

// planNode is what the planner needs to know of a node, made once per
// resourceVersion of it in a pass: patchNode replaces a node that it
// writes with the API server's answer, whose resourceVersion is new. A
// node without one (never written to an API server) is viewed afresh.
func (s *scope) planNode(n *corev1.Node) plan.Node {
	rv := n.ResourceVersion
	s.mu.Lock()
	v, ok := s.views[n.Name]
	s.mu.Unlock()
	if ok && rv != "" && v.rv == rv {
		return v.node
	}
	pn := nodeview.PlanNode(n, s.cu, s.target)
	if rv != "" {
		s.mu.Lock()
		if s.views == nil {
			s.views = map[string]nodeView{}
		}
		s.views[n.Name] = nodeView{rv: rv, node: pn}
		s.mu.Unlock()
	}
	return pn
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
	size := len(s.controlPlane)
	if !controlPlane {
		size = max(0, len(s.order)-size)
	}
	nodes := make([]plan.Node, 0, size)
	for _, name := range s.order {
		if s.controlPlane[name] == controlPlane {
			nodes = append(nodes, s.planNode(s.nodes[name]))
		}
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
