package controller

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// A slot freed by a finishing node is handed on before the pass writes the
// other nodes in flight (issue 17: the handoff at 5,000 nodes waited for
// every drain's write of the pass).
var _ = Describe("Handing a freed slot on", func() {
	It("starts the next node before it advances the drains of the same pass", func(ctx SpecContext) {
		finishing, cordoned, pending, seen := resumeMidFlight(ctx, concurrent(newCU("hof", "hof"), "2"))

		expectSucceeded(ctx, "hof", []string{finishing, cordoned, pending})
		Expect(seen.index(finishing, upgradev1alpha1.NodeUpgraded)).To(BeNumerically("<", seen.start(pending)),
			"states written: %v", seen.all())
		Expect(seen.start(pending)).To(BeNumerically("<", seen.index(cordoned, upgradev1alpha1.NodeDraining)),
			"%s was started only after %s's drain began: its start waited for the other nodes of its pass (states written: %v)",
			pending, cordoned, seen.all())
	})

	It("starts the next node the moment a finishing node's write returns, not after the other finishing writes of the pass", func(ctx SpecContext) {
		const pool = "hoh"
		nodes := makeNodes(ctx, pool, 3)
		quick, slow, pending := nodes[0], nodes[1], nodes[2]
		withWrappedClient(func(c client.Client) client.Client { return &slowFinish{Client: c, node: slow, delay: 3 * time.Second} })
		var seen *stateLog
		stopManagerBriefly(func() {
			leaveFinishing(ctx, pool, quick)
			leaveFinishing(ctx, pool, slow)
			seen = watchStates(ctx, pool)
			createCU(ctx, concurrent(newCU(pool, pool), "2"))
		})

		expectSucceeded(ctx, pool, nodes)
		Expect(seen.index(quick, upgradev1alpha1.NodeUpgraded)).To(BeNumerically("<", seen.start(pending)),
			"states written: %v", seen.all())
		Expect(seen.start(pending)).To(BeNumerically("<", seen.index(slow, upgradev1alpha1.NodeUpgraded)),
			"%s was started only after %s's slow write returned: its slot, freed by %s, waited for the pass's other finishing writes (states written: %v)",
			pending, slow, quick, seen.all())
	})

	It("advances every node first when a drain's end can hold the starts (replacementsReady)", func(ctx SpecContext) {
		cu := concurrent(newCU("hog", "hog"), "2")
		cu.Spec.Health.ReplacementsReady = &upgradev1alpha1.ReplacementsReadySpec{}
		finishing, cordoned, pending, seen := resumeMidFlight(ctx, cu)

		expectSucceeded(ctx, "hog", []string{finishing, cordoned, pending})
		Expect(seen.index(cordoned, upgradev1alpha1.NodeDraining)).To(BeNumerically("<", seen.start(pending)),
			"states written: %v", seen.all())
	})
})

// resumeMidFlight, with the manager stopped, leaves three nodes of the
// pool named cu.Name mid-flight (leftMidFlight), watches their states and
// creates cu; then it starts the manager again.
func resumeMidFlight(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) (finishing, cordoned, pending string, seen *stateLog) {
	stopManagerBriefly(func() {
		finishing, cordoned, pending = leftMidFlight(ctx, cu.Name)
		seen = watchStates(ctx, cu.Name)
		createCU(ctx, cu)
	})
	return finishing, cordoned, pending, seen
}

// leftMidFlight leaves three nodes of pool as a manager that stopped
// mid-pass would have left them for a ClusterUpgrade named pool: one
// verifying at the target (it finishes in the next pass), one cordoned
// (its drain begins in the next pass), one pending. Call it with the
// manager stopped (stopManagerBriefly).
func leftMidFlight(ctx context.Context, pool string) (finishing, cordoned, pending string) {
	nodes := makeNodes(ctx, pool, 3)
	finishing, cordoned, pending = nodes[0], nodes[1], nodes[2]
	leaveFinishing(ctx, pool, finishing)
	holdAs(ctx, pool, cordoned, upgradev1alpha1.NodeCordoned, nil)
	return finishing, cordoned, pending
}

// leaveFinishing leaves the node named name as a manager that stopped
// mid-pass would have left it for a ClusterUpgrade named pool: verifying,
// its kubelet at the target, so that it finishes in the next pass.
func leaveFinishing(ctx context.Context, pool, name string) {
	since := formatTime(time.Now().Add(-time.Minute))
	holdAs(ctx, pool, name, upgradev1alpha1.NodeVerifying, map[string]string{
		upgradev1alpha1.TargetVersionAnnotation: targetVersion,
		upgradev1alpha1.UpgradeSinceAnnotation:  since,
	})
	n := getNode(ctx, name)
	base := n.DeepCopy()
	n.Status.NodeInfo.KubeletVersion = targetVersion
	Expect(env.Client.Status().Patch(ctx, n, client.MergeFrom(base))).To(Succeed())
}

// holdAs cordons the node named name and marks it held in state by the
// ClusterUpgrade named pool since a minute ago, with extra annotations.
func holdAs(ctx context.Context, pool, name string, state upgradev1alpha1.NodeState, annotations map[string]string) {
	n := getNode(ctx, name)
	base := n.DeepCopy()
	n.Spec.Unschedulable = true
	n.Labels[upgradev1alpha1.NodeStateLabel] = string(state)
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] = pool
	n.Annotations[upgradev1alpha1.StateSinceAnnotation] = formatTime(time.Now().Add(-time.Minute))
	for k, v := range annotations {
		n.Annotations[k] = v
	}
	Expect(env.Client.Patch(ctx, n, client.MergeFrom(base))).To(Succeed())
}

// slowFinish wraps the reconciler's client so that the Node write that
// marks the node named node upgraded takes delay longer, as one write
// does on a busy API server.
type slowFinish struct {
	client.Client
	node  string
	delay time.Duration
}

func (c *slowFinish) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if n, ok := obj.(*corev1.Node); ok && n.Name == c.node &&
		n.Labels[upgradev1alpha1.NodeStateLabel] == string(upgradev1alpha1.NodeUpgraded) {
		time.Sleep(c.delay)
	}
	return c.Client.Patch(ctx, obj, patch, opts...)
}

// stateLog records, in the API server's order, each state a pool's nodes
// entered.
type stateLog struct {
	mu      sync.Mutex
	entered []string // "node=state"
}

// watchStates starts a stateLog on pool's nodes, stopped when the spec ends.
func watchStates(ctx context.Context, pool string) *stateLog {
	l := &stateLog{}
	ctx, stop := context.WithCancel(ctx)
	DeferCleanup(stop)
	w, err := clientset.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{LabelSelector: poolLabel + "=" + pool})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		defer w.Stop()
		states := map[string]string{}
		for ev := range w.ResultChan() {
			n, ok := ev.Object.(*corev1.Node)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			state := n.Labels[upgradev1alpha1.NodeStateLabel]
			if states[n.Name] != state {
				states[n.Name] = state
				l.mu.Lock()
				l.entered = append(l.entered, n.Name+"="+state)
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// index is where node entered state in the log; it fails the spec when
// the node never did.
func (l *stateLog) index(node string, state upgradev1alpha1.NodeState) int {
	all := l.all()
	i := slices.Index(all, node+"="+string(state))
	ExpectWithOffset(1, i).NotTo(Equal(-1), "%s never entered %s (states written: %v)", node, state, all)
	return i
}

// start is where node first entered a state in flight (cordoned, or
// draining when no pre-drain hook holds its cordon); it fails the spec
// when the node never did.
func (l *stateLog) start(node string) int {
	all := l.all()
	i := slices.IndexFunc(all, func(e string) bool {
		name, state, _ := strings.Cut(e, "=")
		return name == node && plan.InFlight(upgradev1alpha1.NodeState(state))
	})
	ExpectWithOffset(1, i).NotTo(Equal(-1), "%s was never started (states written: %v)", node, all)
	return i
}

func (l *stateLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entered)
}
