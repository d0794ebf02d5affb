package e2e

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// invariantMonitor watches nodes, pods, Jobs and PodDisruptionBudgets for
// the whole run and records every violation of what nodewave promises:
//   - nodewave never cordons a node that takes the selected unavailable
//     nodes (cordoned or NotReady) over maxUnavailable; without a node going
//     NotReady on its own, they never exceed it at all;
//   - every PodDisruptionBudget keeps currentHealthy >= desiredHealthy,
//     except the ones a scenario sets up to block on purpose;
//   - no workload pod on a node nodewave is draining is deleted other than
//     through the Eviction API (the API server marks evicted pods with a
//     DisruptionTarget condition, reason EvictionByEvictionAPI);
//   - control-plane nodes are never touched.
//
// It also counts, per node, how often nodewave started it (a move into
// cordoned, draining, upgrading or verifying from any other state) and how
// many distinct upgrade Jobs it got. It reads through informers, which
// re-list and re-watch, so it keeps watching across API server and etcd
// restarts (what changes while the API server is down is seen as one step).
type invariantMonitor struct {
	mu            sync.Mutex
	nodes         map[string]*corev1.Node
	selector      labels.Selector
	max           int
	maxSeen       int
	exempt        map[string]bool // PDBs allowed to block, namespace/name
	violations    []string
	starts        map[string]int
	states        map[string]string
	jobs          map[string]map[types.UID]bool // node -> upgrade Job UIDs
	excursions    int                           // node changes that left the pool over budget, not by nodewave
	excursionPeak int                           // the most selected nodes unavailable in those
}

func startMonitor(ctx context.Context) *invariantMonitor {
	m := &invariantMonitor{nodes: map[string]*corev1.Node{}, exempt: map[string]bool{},
		starts: map[string]int{}, states: map[string]string{}, jobs: map[string]map[types.UID]bool{},
		selector: labels.Nothing()}
	factory := informers.NewSharedInformerFactory(clientset, 0)
	handle(factory.Core().V1().Nodes().Informer(), m.node, func(n *corev1.Node) {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.nodes, n.Name)
	})
	handle(factory.Policy().V1().PodDisruptionBudgets().Informer(), m.pdb, nil)
	handle(factory.Core().V1().Pods().Informer(), m.pod, nil)
	handle(factory.Batch().V1().Jobs().Informer(), m.job, nil)
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			Fail(fmt.Sprintf("monitor: %v informer did not sync", typ))
		}
	}
	return m
}

// handle calls onChange for every add and update of an informer's objects
// and onDelete (when set) for deletions.
func handle[T any](inf cache.SharedIndexInformer, onChange func(T), onDelete func(T)) {
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { onChange(obj.(T)) },
		UpdateFunc: func(_, obj any) { onChange(obj.(T)) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if t, ok := obj.(T); ok && onDelete != nil {
				onDelete(t)
			}
		},
	})
	if err != nil {
		Fail(err.Error())
	}
}

// expect sets the selected nodes and budget of the scenario that starts,
// and clears its counters.
func (m *invariantMonitor) expect(sel labels.Selector, maxUnavailable int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.selector, m.max, m.maxSeen, m.excursions, m.excursionPeak = sel, maxUnavailable, 0, 0, 0
	m.starts = map[string]int{}
	m.jobs = map[string]map[types.UID]bool{}
}

func (m *invariantMonitor) exemptPDB(key string, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exempt[key] = on
}

// finished reports whether state is one nodewave leaves a node in at the
// end of its lifecycle.
func finished(state string) bool {
	return state == string(upgradev1alpha1.NodeUpgraded) || state == string(upgradev1alpha1.NodeFailed)
}

// inFlight reports whether a state label says nodewave is working on the node.
func inFlight(state string) bool {
	switch upgradev1alpha1.NodeState(state) {
	case upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining,
		upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying:
		return true
	}
	return false
}

func (m *invariantMonitor) node(n *corev1.Node) {
	if m.nodeLocked(n) {
		m.confirm(n)
	}
}

// nodeLocked records a node change; it returns true when the change looks
// like nodewave going over the budget, to be confirmed.
func (m *invariantMonitor) nodeLocked(n *corev1.Node) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, seen := m.nodes[n.Name]
	m.nodes[n.Name] = n
	state := n.Labels[upgradev1alpha1.NodeStateLabel]
	prevState := m.states[n.Name]
	// A node seen pending and next seen upgraded or failed was started
	// while the monitor was not watching: after an API server restart the
	// manager may reconnect, and take a fast node through its whole
	// lifecycle, before the monitor's informers re-list.
	started := (inFlight(state) && !inFlight(prevState)) || (finished(state) && prevState == "")
	if started {
		m.starts[n.Name]++
	}
	m.states[n.Name] = state
	if _, cp := n.Labels[upgradev1alpha1.ControlPlaneLabel]; cp && (state != "" || n.Spec.Unschedulable) {
		m.violate("control-plane node %s was touched (state %q, unschedulable %v)", n.Name, state, n.Spec.Unschedulable)
	}
	// Only nodewave's cordons can break the budget: a node that goes
	// NotReady on its own may take the pool over it, and then nodewave must
	// start nothing until it is back within.
	tookByNodewave := inFlight(state) && unavailable(n) && (!seen || !unavailable(prev))
	return m.check(tookByNodewave)
}

// confirm checks a suspected budget violation against the API server's
// state at the very revision of the cordon (an exact-revision list): after
// an API server restart the informer re-lists and replays the nodes one by
// one, so for a moment the monitor mixes their new and old states.
func (m *invariantMonitor) confirm(n *corev1.Node) {
	list, err := clientset.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{
		ResourceVersion: n.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.violate("nodewave cordoned %s over the budget as the monitor saw it; the API server could not confirm it: %v", n.Name, err)
		return
	}
	count := 0
	for i := range list.Items {
		if m.selector.Matches(labels.Set(list.Items[i].Labels)) && unavailable(&list.Items[i]) {
			count++
		}
	}
	if count > m.max {
		m.violate("nodewave cordoned %s with %d selected nodes unavailable, maxUnavailable %d", n.Name, count, m.max)
	}
}

func unavailable(n *corev1.Node) bool { return n.Spec.Unschedulable || !ready(n) }

// check counts the selected unavailable nodes. Over the budget, it is a
// suspected violation when nodewave's cordon made it so (to be confirmed);
// otherwise the world did (a node went NotReady): an excursion.
func (m *invariantMonitor) check(cordonedByNodewave bool) bool {
	count := 0
	for _, n := range m.nodes {
		if m.selector.Matches(labels.Set(n.Labels)) && unavailable(n) {
			count++
		}
	}
	if count <= m.max || m.max == 0 {
		m.maxSeen = max(m.maxSeen, count)
		return false
	}
	// Over the budget: a violation if confirmed, else the world's doing
	// (or a re-list replaying old and new states together).
	m.maxSeen = max(m.maxSeen, m.max)
	if !cordonedByNodewave {
		m.excursions++
		m.excursionPeak = max(m.excursionPeak, count)
	}
	return cordonedByNodewave
}

func (m *invariantMonitor) pdb(p *policyv1.PodDisruptionBudget) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := p.Namespace + "/" + p.Name
	if m.exempt[key] || p.Status.ObservedGeneration < p.Generation {
		return
	}
	if p.Status.CurrentHealthy < p.Status.DesiredHealthy {
		m.violate("PodDisruptionBudget %s: %d healthy, %d desired", key, p.Status.CurrentHealthy, p.Status.DesiredHealthy)
	}
}

// pod flags a workload pod that is being deleted, on a node nodewave is
// draining, without having been evicted. The scenarios use drain.onTimeout
// Fail, so nodewave may never delete a pod directly.
func (m *invariantMonitor) pod(p *corev1.Pod) {
	if p.DeletionTimestamp == nil || p.Namespace != "workloads" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.nodes[p.Spec.NodeName]
	if !ok || n.Labels[upgradev1alpha1.NodeStateLabel] != string(upgradev1alpha1.NodeDraining) {
		return
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "EvictionByEvictionAPI" {
			return
		}
	}
	m.violate("pod %s/%s on draining node %s was deleted without eviction", p.Namespace, p.Name, n.Name)
}

func (m *invariantMonitor) job(j *batchv1.Job) {
	node := j.Labels[upgradev1alpha1.JobNodeLabel]
	if node == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.jobs[node] == nil {
		m.jobs[node] = map[types.UID]bool{}
	}
	m.jobs[node][j.UID] = true
}

func (m *invariantMonitor) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	m.violations = append(m.violations, msg)
	GinkgoWriter.Println("INVARIANT VIOLATED:", msg)
}

// overBudget is how many node changes in this scenario left the pool over
// its budget without nodewave causing it (a node going NotReady), and the
// most nodes unavailable then.
func (m *invariantMonitor) overBudget() (changes, peak int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.excursions, m.excursionPeak
}

// report returns the violations so far, the most selected nodes seen
// unavailable at once in this scenario within the budget (see overBudget
// for beyond it), and how often each node was started.
func (m *invariantMonitor) report() ([]string, int, map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	starts := make(map[string]int, len(m.starts))
	for k, v := range m.starts {
		starts[k] = v
	}
	return append([]string(nil), m.violations...), m.maxSeen, starts
}

// jobsPerNode returns how many distinct upgrade Jobs each node got in this
// scenario.
func (m *invariantMonitor) jobsPerNode() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(m.jobs))
	for node, uids := range m.jobs {
		out[node] = len(uids)
	}
	return out
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
