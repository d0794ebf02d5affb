package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/test/nodeagent"
)

const (
	oldVersion    = "v1.36.3"
	targetVersion = "v1.37.2" // the envtest API server's own version
	poolLabel     = "test.nodewave.io/pool"
)

// makeNodes creates count Ready, schedulable nodes at oldVersion in pool,
// spread over three zones, and returns their names.
func makeNodes(ctx context.Context, pool string, count int) []string {
	names := make([]string, 0, count)
	for i := range count {
		name := fmt.Sprintf("%s-%02d", pool, i)
		makeNode(ctx, name, pool, fmt.Sprintf("zone-%c", 'a'+i%3), oldVersion, false)
		names = append(names, name)
	}
	return names
}

// makeNode creates one Ready node reporting kubelet, labelled with its
// hostname when the name fits in a label value.
func makeNode(ctx context.Context, name, pool, zone, kubelet string, unschedulable bool) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			poolLabel: pool, upgradev1alpha1.ZoneLabel: zone,
		}},
		Spec: corev1.NodeSpec{Unschedulable: unschedulable},
	}
	if len(name) <= 63 {
		n.Labels[corev1.LabelHostname] = name
	}
	Expect(env.Client.Create(ctx, n)).To(Succeed())
	// A patch, not an update: a running ClusterUpgrade may have tainted
	// the new node already (its pending taint), and an update would then
	// be refused as a conflict.
	base := n.DeepCopy()
	n.Status = corev1.NodeStatus{
		NodeInfo: corev1.NodeSystemInfo{KubeletVersion: kubelet},
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.NewTime(time.Now().Add(-time.Hour)),
		}},
	}
	Expect(env.Client.Status().Patch(ctx, n, client.MergeFrom(base))).To(Succeed())
	DeferCleanup(func(ctx context.Context) {
		Expect(client.IgnoreNotFound(env.Client.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}))).To(Succeed())
	})
}

// fakeKubelet plays the parts of a cluster that envtest lacks (DESIGN.md
// section 6): it deletes pods that were evicted or deleted (as a kubelet
// confirms a pod's termination), and, through the simulated node agent, makes
// a node labelled upgrading report its target-version annotation.
type fakeKubelet struct {
	agent *nodeagent.Agent
}

// set fixes how the node agent treats node.
func (k *fakeKubelet) set(node string, b nodeagent.Behaviour) { k.agent.Set(node, b) }

func (k *fakeKubelet) run(ctx context.Context, c client.Client) {
	defer GinkgoRecover()
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		k.terminatePods(ctx, c)
		k.agent.Step(ctx)
	}, 100*time.Millisecond)
}

func (k *fakeKubelet) terminatePods(ctx context.Context, c client.Client) {
	pods := &corev1.PodList{}
	if c.List(ctx, pods) != nil {
		return
	}
	for i := range pods.Items {
		if p := &pods.Items[i]; p.DeletionTimestamp != nil {
			_ = c.Delete(ctx, p, client.GracePeriodSeconds(0))
		}
	}
}

// budgetMonitor watches every Node change of one pool and records what a
// user relies on: the most nodes ever unavailable at once, and how often
// nodewave started each node (it entered a state in flight from one that
// is not: cordoned, or draining when no pre-drain hook holds the cordon).
type budgetMonitor struct {
	mu             sync.Mutex
	unavailable    map[string]bool
	maxUnavailable int
	starts         map[string]int
	everTouched    map[string]bool
	zoneMax        int                  // the most unavailable nodes of one zone at once
	zonesMax       int                  // the most zones with an unavailable node at once
	firstTouched   map[string]time.Time // when the node was first seen with a state
	upgradedAt     map[string]time.Time // when it was first seen upgraded
	events         int
	stop           context.CancelFunc
}

// watchBudget starts a monitor on pool's nodes; stop it with m.stop.
func watchBudget(ctx context.Context, cs kubernetes.Interface, pool string) *budgetMonitor {
	m := &budgetMonitor{unavailable: map[string]bool{}, starts: map[string]int{}, everTouched: map[string]bool{},
		firstTouched: map[string]time.Time{}, upgradedAt: map[string]time.Time{}}
	ctx, m.stop = context.WithCancel(ctx)
	DeferCleanup(m.stop)
	w, err := cs.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{LabelSelector: poolLabel + "=" + pool, AllowWatchBookmarks: false})
	Expect(err).NotTo(HaveOccurred())
	states, zones := map[string]string{}, map[string]string{}
	go func() {
		defer GinkgoRecover()
		defer w.Stop()
		for ev := range w.ResultChan() {
			n, ok := ev.Object.(*corev1.Node)
			if !ok {
				continue
			}
			m.mu.Lock()
			if ev.Type == watch.Deleted {
				delete(m.unavailable, n.Name)
			} else {
				m.unavailable[n.Name] = n.Spec.Unschedulable || !nodeview.Ready(n)
				state := n.Labels[upgradev1alpha1.NodeStateLabel]
				if plan.InFlight(upgradev1alpha1.NodeState(state)) && !plan.InFlight(upgradev1alpha1.NodeState(states[n.Name])) {
					m.starts[n.Name]++
				}
				if state != "" && !m.everTouched[n.Name] {
					m.everTouched[n.Name] = true
					m.firstTouched[n.Name] = time.Now()
				}
				if _, seen := m.upgradedAt[n.Name]; state == string(upgradev1alpha1.NodeUpgraded) && !seen {
					m.upgradedAt[n.Name] = time.Now()
				}
				states[n.Name] = state
			}
			if ev.Type != watch.Deleted {
				zones[n.Name] = n.Labels[upgradev1alpha1.ZoneLabel]
			}
			count, byZone := 0, map[string]int{}
			for name, u := range m.unavailable {
				if u {
					count++
					byZone[zones[name]]++
				}
			}
			m.maxUnavailable = max(m.maxUnavailable, count)
			m.zonesMax = max(m.zonesMax, len(byZone))
			for _, c := range byZone {
				m.zoneMax = max(m.zoneMax, c)
			}
			m.events++
			m.mu.Unlock()
		}
	}()
	return m
}

func (m *budgetMonitor) max() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.maxUnavailable
}

func (m *budgetMonitor) startCount(node string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.starts[node]
}

func (m *budgetMonitor) touched(node string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.everTouched[node]
}

// zoneMaxima returns the most unavailable nodes of one zone at once, and
// the most zones with an unavailable node at once.
func (m *budgetMonitor) zoneMaxima() (perZone, zones int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.zoneMax, m.zonesMax
}

// times returns when the monitor first saw node touched and upgraded
// (zero when it did not).
func (m *budgetMonitor) times(node string) (touched, upgraded time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.firstTouched[node], m.upgradedAt[node]
}

// newCU returns a ClusterUpgrade of pool's nodes in External mode with a
// zero soak; tests change what they exercise.
func newCU(name, pool string) *upgradev1alpha1.ClusterUpgrade {
	return &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: upgradev1alpha1.ClusterUpgradeSpec{
			TargetVersion: targetVersion,
			NodeSelector:  &metav1.LabelSelector{MatchLabels: map[string]string{poolLabel: pool}},
			Upgrade:       upgradev1alpha1.NodeUpgradeSpec{Type: upgradev1alpha1.ExternalUpgrade},
			Health:        upgradev1alpha1.HealthSpec{SoakDuration: &metav1.Duration{Duration: 0}},
		},
	}
}

// concurrent sets a Concurrent strategy with maxUnavailable.
func concurrent(cu *upgradev1alpha1.ClusterUpgrade, maxUnavailable string) *upgradev1alpha1.ClusterUpgrade {
	v := intOrString(maxUnavailable)
	cu.Spec.Strategy = upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: &v}
	return cu
}

// createCU creates cu and deletes it (waiting for its finalizer) after the test.
func createCU(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) {
	Expect(env.Client.Create(ctx, cu)).To(Succeed())
	DeferCleanup(func(ctx context.Context) {
		Expect(client.IgnoreNotFound(env.Client.Delete(ctx, cu))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(cu), &upgradev1alpha1.ClusterUpgrade{}))
		}).WithTimeout(30 * time.Second).Should(BeTrue())
	})
}

// getCU reads cu's current state.
func getCU(ctx context.Context, name string) *upgradev1alpha1.ClusterUpgrade {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	Expect(env.Client.Get(ctx, client.ObjectKey{Name: name}, cu)).To(Succeed())
	return cu
}

// getNode reads a node's current state.
func getNode(ctx context.Context, name string) *corev1.Node {
	n := &corev1.Node{}
	Expect(env.Client.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
	return n
}

// makePod creates a Running, Ready pod on node owned by a (fake) ReplicaSet.
func makePod(ctx context.Context, ns, name, node string, podLabels map[string]string) {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: podLabels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + name,
				UID: "00000000-0000-0000-0000-000000000001", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "example.com/app:v1"}},
			TerminationGracePeriodSeconds: ptr.To[int64](30)},
	}
	Expect(env.Client.Create(ctx, p)).To(Succeed())
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	Expect(env.Client.Status().Update(ctx, p)).To(Succeed())
}

// intOrString reads "3" as a count and "25%" as a percentage.
func intOrString(s string) intstr.IntOrString { return intstr.Parse(s) }

// shiftedClock is real time moved by an offset that a test sets to play
// the calendar (a maintenance window that opens and closes), while time
// still passes as usual: RequeueAfter delays, timeouts and the soak keep
// their real lengths. Its zero value is the real clock.
type shiftedClock struct{ offset atomic.Int64 }

// Now is the shifted time.
func (c *shiftedClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Since is the shifted time elapsed since t.
func (c *shiftedClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// set shifts the clock so that it reads t now, and then runs on from there.
func (c *shiftedClock) set(t time.Time) { c.offset.Store(int64(time.Until(t))) }

// reset makes it the real clock again.
func (c *shiftedClock) reset() { c.offset.Store(0) }
