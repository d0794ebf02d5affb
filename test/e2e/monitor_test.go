package e2e

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// invariantMonitor watches nodes and PodDisruptionBudgets for the whole run
// and records every violation of what nodewave promises:
//   - the selected nodes that are unavailable (cordoned or NotReady) never
//     exceed maxUnavailable;
//   - every PodDisruptionBudget keeps currentHealthy >= desiredHealthy,
//     except the ones a scenario sets up to block on purpose;
//   - control-plane nodes are never touched.
//
// It also counts, per node, how often nodewave cordoned it.
type invariantMonitor struct {
	mu         sync.Mutex
	nodes      map[string]*corev1.Node
	selector   labels.Selector
	max        int
	maxSeen    int
	exempt     map[string]bool // PDBs allowed to block, namespace/name
	violations []string
	cordons    map[string]int
	states     map[string]string
}

func startMonitor(ctx context.Context) *invariantMonitor {
	m := &invariantMonitor{nodes: map[string]*corev1.Node{}, exempt: map[string]bool{},
		cordons: map[string]int{}, states: map[string]string{}, selector: labels.Nothing()}
	nodes, err := clientset.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{})
	if err != nil {
		Fail(err.Error())
	}
	pdbs, err := clientset.PolicyV1().PodDisruptionBudgets("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		Fail(err.Error())
	}
	go func() {
		for ev := range nodes.ResultChan() {
			if n, ok := ev.Object.(*corev1.Node); ok {
				m.node(ev.Type, n)
			}
		}
	}()
	go func() {
		for ev := range pdbs.ResultChan() {
			if p, ok := ev.Object.(*policyv1.PodDisruptionBudget); ok && ev.Type != watch.Deleted {
				m.pdb(p)
			}
		}
	}()
	return m
}

// expect sets the selected nodes and budget of the scenario that starts,
// and clears its counters.
func (m *invariantMonitor) expect(sel labels.Selector, maxUnavailable int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.selector, m.max, m.maxSeen = sel, maxUnavailable, 0
	m.cordons = map[string]int{}
	m.check()
}

func (m *invariantMonitor) exemptPDB(key string, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exempt[key] = on
}

func (m *invariantMonitor) node(t watch.EventType, n *corev1.Node) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t == watch.Deleted {
		delete(m.nodes, n.Name)
		return
	}
	m.nodes[n.Name] = n
	state := n.Labels[upgradev1alpha1.NodeStateLabel]
	if state == string(upgradev1alpha1.NodeCordoned) && m.states[n.Name] != state {
		m.cordons[n.Name]++
	}
	m.states[n.Name] = state
	if _, cp := n.Labels[upgradev1alpha1.ControlPlaneLabel]; cp && (state != "" || n.Spec.Unschedulable) {
		m.violate("control-plane node %s was touched (state %q, unschedulable %v)", n.Name, state, n.Spec.Unschedulable)
	}
	m.check()
}

func (m *invariantMonitor) check() {
	unavailable := 0
	for _, n := range m.nodes {
		if m.selector.Matches(labels.Set(n.Labels)) && (n.Spec.Unschedulable || !ready(n)) {
			unavailable++
		}
	}
	m.maxSeen = max(m.maxSeen, unavailable)
	if unavailable > m.max && m.max > 0 {
		m.violate("%d selected nodes unavailable, maxUnavailable %d", unavailable, m.max)
	}
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

func (m *invariantMonitor) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	m.violations = append(m.violations, msg)
	GinkgoWriter.Println("INVARIANT VIOLATED:", msg)
}

// report returns the violations so far, the most selected nodes seen
// unavailable at once in this scenario, and the cordon counts.
func (m *invariantMonitor) report() ([]string, int, map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cordons := make(map[string]int, len(m.cordons))
	for k, v := range m.cordons {
		cordons[k] = v
	}
	return append([]string(nil), m.violations...), m.maxSeen, cordons
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
