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

// scope is what one pass observed: the ClusterUpgrade, its selected nodes
// and their Jobs. It is built fresh on every pass.
type scope struct {
	cu  *upgradev1alpha1.ClusterUpgrade
	now time.Time

	// target is the parsed spec.targetVersion; targetErr when it does not parse.
	target    version.Version
	targetErr error
	// selector selects the nodes; nil when spec.nodeSelector does not parse.
	selector    labels.Selector
	selectorErr error
	// nodes are the selected nodes by name; order is their plan order.
	// They are read-only views of the cache's Nodes (listed without a
	// deep copy): each is a struct of observe's own, but its labels,
	// annotations, conditions and every other map and slice are the
	// cache's. Nothing writes to them; every change to a node goes
	// through patchNode, which patches a copy and then replaces the
	// struct.
	nodes map[string]*corev1.Node
	order []string
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
	// jobHold, when set, holds every new upgrade Job: no node starts, and
	// a node in flight that needs a Job it does not have yet waits where
	// it is (errJobHeld). It is why the ClusterUpgrade is Stalled.
	jobHold *blocker
}

// observe reads everything a pass needs from the cache.
func (r *ClusterUpgradeReconciler) observe(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) (*scope, error) {
	s := &scope{cu: cu, now: r.Clock.Now(), messages: map[string]string{}, nodes: map[string]*corev1.Node{}, jobs: map[string]*batchv1.Job{}}
	var err error
	s.target, s.targetErr = version.Parse(cu.Spec.TargetVersion)
	s.selector, s.selectorErr = nodeview.Selector(cu)
	s.parseWindow()
	if s.selectorErr == nil {
		// Without a deep copy: at 1,000 nodes, copying every selected Node
		// on every pass was most of the manager's allocations. The items
		// share their maps and slices with the cache (see scope.nodes).
		nodeList := &corev1.NodeList{}
		if err := r.List(ctx, nodeList, client.UnsafeDisableDeepCopy,
			client.MatchingLabelsSelector{Selector: s.selector}); err != nil {
			return nil, err
		}
		var pn []plan.Node
		for i := range nodeList.Items {
			n := &nodeList.Items[i]
			s.nodes[n.Name] = n
			pn = append(pn, plan.Node{Name: n.Name, Zone: n.Labels[upgradev1alpha1.ZoneLabel]})
		}
		for _, n := range plan.Order(pn) {
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
	if s.maxUnavailable, err = plan.MaxUnavailable(cu.Spec.Strategy, len(s.nodes)); err != nil {
		return nil, err
	}
	return s, nil
}

// planNode is what the planner needs to know of a node. Another
// ClusterUpgrade's state says nothing of this one's work: the kubelet
// version decides, and the budget still counts the node if it is cordoned.
func (s *scope) planNode(n *corev1.Node) plan.Node {
	return nodeview.PlanNode(n, s.cu.Name, s.target)
}

// planInput is the planner's input from the nodes as they are now.
func (s *scope) planInput() plan.Input {
	in := plan.Input{
		MaxUnavailable: s.maxUnavailable,
		MaxFailedNodes: int(s.cu.Spec.MaxFailedNodes),
		Paused:         s.cu.Spec.Paused,
		Closed:         s.windowClosed(),
	}
	for _, name := range s.order {
		in.Nodes = append(in.Nodes, s.planNode(s.nodes[name]))
	}
	return in
}

// readyCondition is the node's Ready condition, or nil.
func readyCondition(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// heldByOther reports whether another ClusterUpgrade holds the node.
func (s *scope) heldByOther(n *corev1.Node) bool {
	holder := n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation]
	return holder != "" && holder != s.cu.Name
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

// say records what an in-flight node waits for.
func (s *scope) say(node, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages[node] = message
}

// jobsOf names the upgrade Jobs of node.
func (s *scope) jobsOf(node string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, job := range s.jobs {
		if job.Labels[upgradev1alpha1.JobNodeLabel] == node {
			names = append(names, name)
		}
	}
	return names
}
