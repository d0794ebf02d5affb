package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// invariantMonitor watches nodes, pods, Jobs, PodDisruptionBudgets and
// ClusterUpgrades for the whole run and records every violation of what
// nodewave promises:
//   - budget, per ClusterUpgrade: no ClusterUpgrade cordons a node that
//     takes its selection's unavailable nodes (cordoned or NotReady) over
//     its maxUnavailable (see judge for what its selection is when its
//     selector changes);
//   - every PodDisruptionBudget keeps currentHealthy >= desiredHealthy,
//     except the ones a scenario sets up to block on purpose;
//   - no workload pod on a node nodewave is draining is deleted other than
//     through the Eviction API (the API server marks evicted pods with a
//     DisruptionTarget condition, reason EvictionByEvictionAPI);
//   - control-plane nodes are never touched;
//   - one holder at a time: a node held by one ClusterUpgrade (its
//     upgrade.nodewave.io/cluster-upgrade annotation names it while its
//     state is cordoned, draining, upgrading, verifying or failed) is never
//     taken by another (the annotation never switches from one to another
//     while the node is held), and no ClusterUpgrade gets an upgrade Job
//     for a node another holds.
//
// It also counts, per ClusterUpgrade and node, how often the ClusterUpgrade
// started the node (a move into cordoned, draining, upgrading or verifying
// from any other state, under its annotation) and how many distinct upgrade
// Jobs it gave the node: two ClusterUpgrades may legitimately upgrade the
// same node one after the other, each once. It logs every start and every
// node finished (upgraded) with its resourceVersion, keeps every version of
// every ClusterUpgrade it saw, and records every node on which an admin's
// cordon was recorded (upgrade.nodewave.io/was-unschedulable). It reads
// through informers, which re-list and re-watch, so it keeps watching
// across API server and etcd restarts (what changes while the API server
// is down is seen as one step: a hold switch inside such a gap, like a
// second start, would go unseen).
type invariantMonitor struct {
	mu    sync.Mutex
	nodes map[string]*corev1.Node
	// cus holds every version of each ClusterUpgrade seen, in the order
	// seen (the order of their resourceVersions), by name.
	cus        map[string][]cuVersion
	exempt     map[string]bool // PDBs allowed to block, namespace/name
	violations []string
	states     map[string]string // node -> last state label seen
	holders    map[string]string // node -> last cluster-upgrade annotation seen

	// What one scenario saw (see expect).
	selector      labels.Selector
	max           int
	maxSeen       int
	excursions    int                                      // node changes that left the scenario's nodes over its budget, not by nodewave
	excursionPeak int                                      // the most of its nodes unavailable in those
	starts        map[string]map[string]int                // ClusterUpgrade -> node -> starts
	jobs          map[string]map[string]map[types.UID]bool // ClusterUpgrade -> node -> upgrade Job UIDs
	seenJobs      map[types.UID]bool                       // every upgrade Job checked for its node's holder
	completeJobs  map[string]map[string]bool               // ClusterUpgrade -> node -> an upgrade Job of it was seen Complete
	atStarts      map[string]*startBudget                  // ClusterUpgrade -> its selection at its starts
	log           []nodeEvent                              // starts and finishes, in the order seen
	adminCordons  []string                                 // nodes on which an admin's cordon was recorded
	pendingTaint  map[string]map[string]bool               // ClusterUpgrade -> nodes seen with its pending taint and no state
	trails        map[string][]string                      // node -> its changes as seen (state, holder, pending taint), for failure messages
	evicted       map[types.UID]bool                       // workload pods seen evicted
	evictedAgain  map[types.UID]bool                       // of those, pods made in this scenario: replacements evicted again
	since         time.Time                                // when this scenario began (see expect)
}

// cuVersion is one version of a ClusterUpgrade as the monitor saw it.
type cuVersion struct {
	UID                            types.UID
	RV                             uint64
	Generation, ObservedGeneration int64
	Phase                          upgradev1alpha1.Phase
	// Stalled is the reason of the Stalled condition when it is True.
	Stalled, StalledMessage string
	// Selector is nil when spec.nodeSelector does not parse.
	Selector labels.Selector
	// ControlPlane selects its control-plane nodes; nil without
	// spec.controlPlane (or when it does not parse).
	ControlPlane labels.Selector
	Strategy     upgradev1alpha1.UpgradeStrategy
	// Seen is when the monitor saw this version.
	Seen time.Time
}

// nodeEvent is a start or a finish (the node labelled upgraded) of a node
// by a ClusterUpgrade, at the node's resourceVersion.
type nodeEvent struct {
	Node, CU string
	RV       uint64
	Finish   bool
}

// startBudget is what a ClusterUpgrade's selection looked like at its own
// starts, as the monitor saw them: how many starts, the most of its
// selection unavailable at one and its budget then (more is a violation),
// and the most nodes it held outside its selector that counted at one.
// OverSelectedBudget counts the starts that a percentage taken of the
// selector's nodes alone, without the held ones, would have refused.
type startBudget struct {
	Starts, MaxUnavailable, Budget, MaxHeldOutside, OverSelectedBudget int
}

func startMonitor(ctx context.Context) *invariantMonitor {
	m := &invariantMonitor{nodes: map[string]*corev1.Node{}, cus: map[string][]cuVersion{}, exempt: map[string]bool{},
		states: map[string]string{}, holders: map[string]string{}, seenJobs: map[types.UID]bool{}}
	m.reset(labels.Nothing(), 0)
	factory := informers.NewSharedInformerFactory(clientset, 0)
	handle(factory.Core().V1().Nodes().Informer(), m.node, func(n *corev1.Node) {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.nodes, n.Name)
	})
	handle(factory.Policy().V1().PodDisruptionBudgets().Informer(), m.pdb, nil)
	handle(factory.Core().V1().Pods().Informer(), m.pod, nil)
	handle(factory.Batch().V1().Jobs().Informer(), m.job, nil)
	cuCache, err := crcache.New(adminCfg, crcache.Options{Scheme: admin.Scheme()})
	if err != nil {
		Fail(fmt.Sprintf("monitor: ClusterUpgrade cache: %v", err))
	}
	cuInformer, err := cuCache.GetInformer(ctx, &upgradev1alpha1.ClusterUpgrade{})
	if err != nil {
		Fail(fmt.Sprintf("monitor: ClusterUpgrade informer: %v", err))
	}
	handle(cuInformer, m.clusterUpgrade, nil)
	factory.Start(ctx.Done())
	go func() { _ = cuCache.Start(ctx) }()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			Fail(fmt.Sprintf("monitor: %v informer did not sync", typ))
		}
	}
	if !cuCache.WaitForCacheSync(ctx) {
		Fail("monitor: the ClusterUpgrade informer did not sync")
	}
	return m
}

// eventSource is an informer: client-go's, or controller-runtime's.
type eventSource interface {
	AddEventHandler(handler cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error)
}

// handle calls onChange for every add and update of an informer's objects
// and onDelete (when set) for deletions.
func handle[T any](inf eventSource, onChange func(T), onDelete func(T)) {
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

// expect starts a scenario: sel and maxUnavailable are the nodes and
// budget of its ClusterUpgrade, for report's maxSeen and overBudget (with
// two ClusterUpgrades, labels.Nothing() and 0: see startsAt for each one's
// figures). The budget itself is judged per ClusterUpgrade, from the
// ClusterUpgrades the monitor watches. It clears the scenario's counters
// and logs.
func (m *invariantMonitor) expect(sel labels.Selector, maxUnavailable int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reset(sel, maxUnavailable)
}

func (m *invariantMonitor) reset(sel labels.Selector, maxUnavailable int) {
	m.selector, m.max, m.maxSeen, m.excursions, m.excursionPeak = sel, maxUnavailable, 0, 0, 0
	m.starts = map[string]map[string]int{}
	m.jobs = map[string]map[string]map[types.UID]bool{}
	m.completeJobs = map[string]map[string]bool{}
	m.atStarts = map[string]*startBudget{}
	m.log, m.adminCordons = nil, nil
	m.pendingTaint, m.evicted, m.evictedAgain = map[string]map[string]bool{}, map[types.UID]bool{}, map[types.UID]bool{}
	m.trails = map[string][]string{}
	// Whole seconds, as creation timestamps are: a pod made in the same
	// second counts as made before.
	m.since = time.Now().Truncate(time.Second).Add(time.Second)
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

// held reports whether a state label says the ClusterUpgrade named in the
// node's annotation holds it: in flight or failed.
func held(state string) bool {
	return inFlight(state) || state == string(upgradev1alpha1.NodeFailed)
}

// holder is the ClusterUpgrade a node's annotation names.
func holder(n *corev1.Node) string { return n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] }

// rvOf reads a resourceVersion as the etcd revision it is (0 when it is
// not a number). Comparing them orders writes across resources, which the
// etcd-backed API server guarantees and nodewave itself relies on.
func rvOf(rv string) uint64 {
	v, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func (m *invariantMonitor) node(n *corev1.Node) {
	if cu := m.nodeLocked(n); cu != "" {
		m.confirm(n, cu)
	}
}

// nodeLocked records a node change; it returns the ClusterUpgrade whose
// cordon looks like going over its budget, to be confirmed, or "".
func (m *invariantMonitor) nodeLocked(n *corev1.Node) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, seen := m.nodes[n.Name]
	m.nodes[n.Name] = n
	state, by := n.Labels[upgradev1alpha1.NodeStateLabel], holder(n)
	m.notePendingTaint(n)
	prevState, prevBy := m.states[n.Name], m.holders[n.Name]
	rv := rvOf(n.ResourceVersion)
	// A node seen pending and next seen upgraded or failed was started
	// while the monitor was not watching: after an API server restart the
	// manager may reconnect, and take a fast node through its whole
	// lifecycle, before the monitor's informers re-list.
	if (inFlight(state) && !inFlight(prevState)) || (finished(state) && prevState == "") {
		if m.starts[by] == nil {
			m.starts[by] = map[string]int{}
		}
		m.starts[by][n.Name]++
		m.log = append(m.log, nodeEvent{Node: n.Name, CU: by, RV: rv})
	}
	if state == string(upgradev1alpha1.NodeUpgraded) && (prevState != state || prevBy != by) {
		m.log = append(m.log, nodeEvent{Node: n.Name, CU: by, RV: rv, Finish: true})
	}
	if prevBy != "" && by != "" && prevBy != by && held(prevState) {
		m.violate("node %s, %s under %s, was taken by %s (now %q)", n.Name, prevState, prevBy, by, state)
	}
	if n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == "true" &&
		(!seen || prev.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] != "true") {
		m.adminCordons = append(m.adminCordons, fmt.Sprintf("%s (%q under %s)", n.Name, state, by))
	}
	m.states[n.Name], m.holders[n.Name] = state, by
	if _, cp := n.Labels[upgradev1alpha1.ControlPlaneLabel]; cp && (state != "" || n.Spec.Unschedulable) && !m.upgradesControlPlane(by, n) {
		m.violate("control-plane node %s was touched (state %q, unschedulable %v)", n.Name, state, n.Spec.Unschedulable)
	}
	// Only nodewave's cordons can break a budget: a node that goes NotReady
	// on its own may take a pool over it, and then nodewave must start
	// nothing until it is back within. The cordon is judged against the
	// budget of the ClusterUpgrade that made it.
	tookByNodewave := inFlight(state) && unavailable(n) && (!seen || !unavailable(prev))
	m.scenarioCount(tookByNodewave)
	if !tookByNodewave {
		return ""
	}
	nodes := make([]*corev1.Node, 0, len(m.nodes))
	for _, node := range m.nodes {
		nodes = append(nodes, node)
	}
	versions := m.specsActedOn(by, nil)
	within, best := judge(nodes, n, by, versions)
	if len(versions) > 0 {
		st := m.atStarts[by]
		if st == nil {
			st = &startBudget{}
			m.atStarts[by] = st
		}
		st.Starts++
		if best.unavailable >= st.MaxUnavailable {
			st.MaxUnavailable, st.Budget = best.unavailable, best.budget
		}
		st.MaxHeldOutside = max(st.MaxHeldOutside, best.heldOutside)
		if best.unavailable > best.selectedBudget {
			st.OverSelectedBudget++
		}
	}
	if within {
		return ""
	}
	return by
}

// selection is what one spec of a ClusterUpgrade answers for at one instant.
type selection struct {
	nodes, unavailable, budget, heldOutside int
	// selected counts the nodes its selector selects; selectedBudget is
	// the budget over them alone.
	selected, selectedBudget int
}

// judge decides whether the ClusterUpgrade named cu is within its budget
// over nodes under any of versions (the specs it may have acted on; see
// specsActedOn), and returns the selection under the one that fits best.
//
// What "the selected nodes" are when a selector changes: a ClusterUpgrade
// answers for the nodes its selector selects and the nodes it holds (its
// annotation, in flight or failed), which it carries to the end whatever
// its selector says now (docs/user-guide.md, "The nodes a ClusterUpgrade
// holds"). Both count against its budget, and a percentage is taken of
// them all, as nodewave does and as status.totalNodes counts them. Which
// selector: the manager acts on the spec it last read, so a cordon made
// just after an edit may have been decided on the spec before it; the
// monitor accepts a cordon that is within the budget under any spec from
// the generation the ClusterUpgrade's status last observed to its current
// one, and nothing older.
func judge(nodes []*corev1.Node, taken *corev1.Node, cu string, versions []cuVersion) (bool, selection) {
	var best selection
	for i, v := range versions {
		s := selection{}
		// A ClusterUpgrade with spec.controlPlane takes its control-plane
		// nodes one at a time, apart from the others' budget.
		controlPlane := v.ControlPlane != nil && v.ControlPlane.Matches(labels.Set(taken.Labels))
		for _, n := range nodes {
			isCP := v.ControlPlane != nil && v.ControlPlane.Matches(labels.Set(n.Labels))
			selected := isCP || (v.Selector != nil && v.Selector.Matches(labels.Set(n.Labels)))
			holds := holder(n) == cu && held(n.Labels[upgradev1alpha1.NodeStateLabel])
			if (!selected && !holds) || (selected && isCP != controlPlane) {
				continue
			}
			s.nodes++
			if selected {
				s.selected++
			}
			if unavailable(n) {
				s.unavailable++
				if !selected {
					s.heldOutside++
				}
			}
		}
		s.budget, s.selectedBudget = budgetOf(v.Strategy, s.nodes), budgetOf(v.Strategy, s.selected)
		if controlPlane {
			s.budget, s.selectedBudget = 1, 1
		}
		if i == 0 || s.unavailable-s.budget < best.unavailable-best.budget {
			best = s
		}
	}
	return len(versions) > 0 && best.unavailable <= best.budget, best
}

// budgetOf resolves a strategy's maxUnavailable over total nodes as the
// user guide says: 1 for Sequential, the count, or the percentage of the
// nodes rounded down but at least 1.
func budgetOf(s upgradev1alpha1.UpgradeStrategy, total int) int {
	if s.Type != upgradev1alpha1.ConcurrentStrategy {
		return 1
	}
	if s.MaxUnavailable == nil {
		return 0
	}
	if s.MaxUnavailable.Type == intstr.Int {
		return int(s.MaxUnavailable.IntVal)
	}
	pct, err := strconv.Atoi(strings.TrimSuffix(s.MaxUnavailable.StrVal, "%"))
	if err != nil {
		return 0
	}
	return max(1, pct*total/100)
}

// specsActedOn are the versions of the ClusterUpgrade named cu whose spec
// the manager may be acting on: every generation from the one its status
// last observed to its current one, as at (the ClusterUpgrade as the API
// server had it at the revision judged; nil: the newest version seen).
// Older generations come from what the monitor saw. Nil when the monitor
// never saw it.
func (m *invariantMonitor) specsActedOn(cu string, at *cuVersion) []cuVersion {
	history := m.cus[cu]
	if at == nil {
		if len(history) == 0 {
			return nil
		}
		at = &history[len(history)-1]
	}
	out := []cuVersion{*at}
	for gen := max(at.ObservedGeneration, 1); gen < at.Generation; gen++ {
		for i := len(history) - 1; i >= 0; i-- {
			if history[i].UID == at.UID && history[i].Generation == gen {
				out = append(out, history[i])
				break
			}
		}
	}
	return out
}

// confirm checks a suspected budget violation against the API server's
// state at the very revision of the cordon (an exact-revision list of the
// nodes and of the ClusterUpgrades): after an API server restart the
// informer re-lists and replays the nodes one by one, so for a moment the
// monitor mixes their new and old states, and the ClusterUpgrade informer
// may lag behind the node informer.
func (m *invariantMonitor) confirm(n *corev1.Node, cu string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exact := metav1.ListOptions{ResourceVersion: n.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact}
	list, err := clientset.CoreV1().Nodes().List(ctx, exact)
	cus := &upgradev1alpha1.ClusterUpgradeList{}
	if err == nil {
		err = admin.List(ctx, cus, &client.ListOptions{Raw: &exact})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.violate("%s cordoned %s over its budget as the monitor saw it; the API server could not confirm it: %v", cu, n.Name, err)
		return
	}
	var at *cuVersion
	for i := range cus.Items {
		if cus.Items[i].Name == cu {
			v := versionOf(&cus.Items[i])
			at = &v
		}
	}
	if at == nil {
		m.violate("node %s was cordoned under %q, which does not exist at revision %s", n.Name, cu, n.ResourceVersion)
		return
	}
	nodes := make([]*corev1.Node, len(list.Items))
	for i := range list.Items {
		nodes[i] = &list.Items[i]
	}
	if within, s := judge(nodes, n, cu, m.specsActedOn(cu, at)); !within {
		m.violate("%s cordoned %s with %d of its %d nodes unavailable (%d held outside its selector), maxUnavailable %d",
			cu, n.Name, s.unavailable, s.nodes, s.heldOutside, s.budget)
	}
}

// upgradesControlPlane reports whether the ClusterUpgrade named cu, as
// last seen, upgrades n as a control-plane node (spec.controlPlane).
func (m *invariantMonitor) upgradesControlPlane(cu string, n *corev1.Node) bool {
	history := m.cus[cu]
	if cu == "" || len(history) == 0 {
		return false
	}
	sel := history[len(history)-1].ControlPlane
	return sel != nil && sel.Matches(labels.Set(n.Labels))
}

func unavailable(n *corev1.Node) bool { return n.Spec.Unschedulable || !ready(n) }

// scenarioCount counts the scenario's unavailable nodes (see expect) for
// report and overBudget: within its budget, the most at once; over it,
// when nodewave's cordon did not make it so, an excursion (a node went
// NotReady, or a re-list replayed old and new states together).
func (m *invariantMonitor) scenarioCount(cordonedByNodewave bool) {
	count := 0
	for _, n := range m.nodes {
		if m.selector.Matches(labels.Set(n.Labels)) && unavailable(n) {
			count++
		}
	}
	if count <= m.max || m.max == 0 {
		m.maxSeen = max(m.maxSeen, count)
		return
	}
	m.maxSeen = max(m.maxSeen, m.max)
	if !cordonedByNodewave {
		m.excursions++
		m.excursionPeak = max(m.excursionPeak, count)
	}
}

// clusterUpgrade records a version of a ClusterUpgrade.
func (m *invariantMonitor) clusterUpgrade(cu *upgradev1alpha1.ClusterUpgrade) {
	v := versionOf(cu)
	m.mu.Lock()
	defer m.mu.Unlock()
	history := m.cus[cu.Name]
	if len(history) > 0 && history[0].UID != v.UID {
		history = nil // a new object of the same name
	}
	m.cus[cu.Name] = append(history, v)
}

func versionOf(cu *upgradev1alpha1.ClusterUpgrade) cuVersion {
	v := cuVersion{UID: cu.UID, RV: rvOf(cu.ResourceVersion), Generation: cu.Generation,
		ObservedGeneration: cu.Status.ObservedGeneration, Phase: cu.Status.Phase, Strategy: cu.Spec.Strategy, Seen: time.Now()}
	if c := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		v.Stalled, v.StalledMessage = c.Reason, c.Message
	}
	if sel, err := cu.Selector(); err == nil {
		v.Selector = sel
	}
	if sel, err := cu.ControlPlaneSelector(); err == nil {
		v.ControlPlane = sel
	}
	return v
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
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "EvictionByEvictionAPI" {
			m.evicted[p.UID] = true
			if !p.CreationTimestamp.Time.Before(m.since) {
				m.evictedAgain[p.UID] = true
			}
			return
		}
	}
	n, ok := m.nodes[p.Spec.NodeName]
	if !ok || n.Labels[upgradev1alpha1.NodeStateLabel] != string(upgradev1alpha1.NodeDraining) {
		return
	}
	m.violate("pod %s/%s on draining node %s was deleted without eviction", p.Namespace, p.Name, n.Name)
}

// job counts an upgrade Job for its ClusterUpgrade and node, and checks,
// the first time it sees the Job, that no other ClusterUpgrade held the
// node at that revision.
func (m *invariantMonitor) job(j *batchv1.Job) {
	node, cu := j.Labels[upgradev1alpha1.JobNodeLabel], j.Labels[upgradev1alpha1.JobClusterUpgradeLabel]
	if node == "" || j.Labels[upgradev1alpha1.JobHookLabel] != "" {
		return // not an upgrade Job: a hook Job (spec.hooks) is checked by its spec
	}
	m.mu.Lock()
	if m.jobs[cu] == nil {
		m.jobs[cu] = map[string]map[types.UID]bool{}
	}
	if m.jobs[cu][node] == nil {
		m.jobs[cu][node] = map[types.UID]bool{}
	}
	m.jobs[cu][node][j.UID] = true
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			if m.completeJobs[cu] == nil {
				m.completeJobs[cu] = map[string]bool{}
			}
			m.completeJobs[cu][node] = true
		}
	}
	first := !m.seenJobs[j.UID]
	m.seenJobs[j.UID] = true
	viewed := m.nodes[node]
	m.mu.Unlock()
	if !first {
		return
	}
	// The node as it was at the Job's revision; if the API server cannot
	// say, as the monitor sees it now.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", node).String(),
		ResourceVersion: j.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	n := viewed
	if err == nil && len(list.Items) == 1 {
		n = &list.Items[0]
	}
	if n == nil {
		return
	}
	if by, state := holder(n), n.Labels[upgradev1alpha1.NodeStateLabel]; by != "" && by != cu && held(state) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.violate("%s got upgrade Job %s for node %s, %s under %s", cu, j.Name, node, state, by)
	}
}

func (m *invariantMonitor) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	m.violations = append(m.violations, msg)
	GinkgoWriter.Println("INVARIANT VIOLATED:", msg)
}

// overBudget is how many node changes in this scenario left its nodes over
// its budget without nodewave causing it (a node going NotReady), and the
// most nodes unavailable then.
func (m *invariantMonitor) overBudget() (changes, peak int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.excursions, m.excursionPeak
}

// report returns the violations so far, the most of the scenario's nodes
// (see expect) seen unavailable at once within its budget (see overBudget
// for beyond it), and how often each node was started in this scenario,
// by any ClusterUpgrade (startsBy counts per ClusterUpgrade).
func (m *invariantMonitor) report() ([]string, int, map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	starts := map[string]int{}
	for _, byNode := range m.starts {
		for node, n := range byNode {
			starts[node] += n
		}
	}
	return append([]string(nil), m.violations...), m.maxSeen, starts
}

// notePendingTaint records a node seen with a ClusterUpgrade's pending
// taint and no state (not started).
func (m *invariantMonitor) notePendingTaint(n *corev1.Node) {
	taint := "-"
	for _, t := range n.Spec.Taints {
		if t.Key == upgradev1alpha1.PendingTaintKey {
			taint = t.Value
		}
	}
	if trail := m.trails[n.Name]; len(trail) < maxTrail {
		m.trails[n.Name] = append(trail, fmt.Sprintf("%s rv %s state %q holder %q pending-taint %s unschedulable %v",
			time.Since(m.since).Round(time.Millisecond), n.ResourceVersion, n.Labels[upgradev1alpha1.NodeStateLabel], holder(n), taint, n.Spec.Unschedulable))
	}
	if n.Labels[upgradev1alpha1.NodeStateLabel] != "" {
		return
	}
	for _, t := range n.Spec.Taints {
		if t.Key == upgradev1alpha1.PendingTaintKey {
			if m.pendingTaint[t.Value] == nil {
				m.pendingTaint[t.Value] = map[string]bool{}
			}
			m.pendingTaint[t.Value][n.Name] = true
		}
	}
}

// maxTrail bounds each node's trail of changes.
const maxTrail = 40

// trail returns the changes the monitor saw of node in this scenario, one
// line each, for failure messages.
func (m *invariantMonitor) trail(node string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.trails[node], "\n  ")
}

// taintedPending returns the nodes seen carrying cu's pending taint while
// no ClusterUpgrade had started them, in this scenario.
func (m *invariantMonitor) taintedPending(cu string) map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.pendingTaint[cu])
}

// evictions returns how many workload pods were evicted in this
// scenario, and how many of them were made in it: the replacement of a
// pod evicted earlier in the scenario, evicted again.
func (m *invariantMonitor) evictions() (all, again int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.evicted), len(m.evictedAgain)
}

// startsBy returns how often the ClusterUpgrade named cu started each node
// in this scenario.
func (m *invariantMonitor) startsBy(cu string) map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for node, n := range m.starts[cu] {
		out[node] = n
	}
	return out
}

// jobsPerNode returns how many distinct upgrade Jobs each node got in this
// scenario, from any ClusterUpgrade (jobsBy counts per ClusterUpgrade).
func (m *invariantMonitor) jobsPerNode() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, byNode := range m.jobs {
		for node, uids := range byNode {
			out[node] += len(uids)
		}
	}
	return out
}

// completedJobs is the nodes an upgrade Job of cu was seen Complete for.
func (m *invariantMonitor) completedJobs(cu string) map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for node := range m.completeJobs[cu] {
		out[node] = true
	}
	return out
}

// jobsBy returns how many distinct upgrade Jobs the ClusterUpgrade named cu
// gave each node in this scenario.
func (m *invariantMonitor) jobsBy(cu string) map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for node, uids := range m.jobs[cu] {
		out[node] = len(uids)
	}
	return out
}

// startsAt returns what the ClusterUpgrade named cu's selection looked like
// at its starts in this scenario.
func (m *invariantMonitor) startsAt(cu string) startBudget {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.atStarts[cu]; st != nil {
		return *st
	}
	return startBudget{}
}

// events returns the starts and finishes of this scenario in the order seen.
func (m *invariantMonitor) events() []nodeEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

// history returns every version of the ClusterUpgrade named cu seen.
func (m *invariantMonitor) history(cu string) []cuVersion {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.cus[cu])
}

// adminCordonsRecorded returns the nodes on which an admin's cordon was
// recorded in this scenario.
func (m *invariantMonitor) adminCordonsRecorded() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.adminCordons)
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
