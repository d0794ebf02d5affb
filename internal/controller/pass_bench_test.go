package controller

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
)

// passNodes is how many nodes BenchmarkPassReads's scope holds: the size
// of issue 17's cluster.
const passNodes = 5000

// BenchmarkPassReads measures what one pass computes from the nodes it
// observed, apart from its API calls: the nodes in flight, both waves'
// plans, each node's pending-taint decision and the status, over 5,000
// nodes of which 500 are in flight, 2,000 upgraded and the rest pending
// (the middle of issue 17's run). The scope is built once; each iteration
// is one pass's reads of it, from a fresh set of plan views as a new pass
// has:
//
//	go test ./internal/controller -run '^$' -bench BenchmarkPassReads -benchmem
func BenchmarkPassReads(b *testing.B) {
	s := passScope(b)
	b.ReportAllocs()
	for b.Loop() {
		s.views = make(map[string]nodeView, len(s.nodes)) // as observe makes it
		if got := len(s.inFlight()); got != 500 {
			b.Fatalf("%d nodes in flight, want 500", got)
		}
		w := waves{controlPlane: plan.Compute(s.planInput(true, false)), workers: plan.Compute(s.planInput(false, false))}
		if w.workers.Upgraded != 2000 || w.workers.Pending != passNodes-2500 {
			b.Fatalf("plan counts %d upgraded, %d pending; want 2000 and %d", w.workers.Upgraded, w.workers.Pending, passNodes-2500)
		}
		for _, name := range s.order {
			n := s.nodes[name]
			_ = plan.PendingTaint(s.planNode(n), s.selects(n), true)
		}
		setProgressStatus(s.cu, s, w, s.now)
	}
}

// passScope is the scope BenchmarkPassReads reads: nodes the size of real
// ones once the cache has stripped them (see createBenchNode), each with
// its resourceVersion, as observe reads them.
func passScope(b *testing.B) *scope {
	b.Helper()
	cu := concurrent(newCU("bench", "bench"), "10%")
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	s := &scope{cu: cu, now: now, nodes: map[string]*corev1.Node{}, messages: map[string]string{},
		controlPlane: map[string]bool{}, selector: labels.SelectorFromSet(labels.Set{poolLabel: "bench"}), maxUnavailable: 500}
	var err error
	if s.target, err = version.Parse(cu.Spec.TargetVersion); err != nil {
		b.Fatal(err)
	}
	for i := range passNodes {
		name := fmt.Sprintf("bench-%04d", i)
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: fmt.Sprint(1000 + i),
				Labels: map[string]string{
					poolLabel: "bench", upgradev1alpha1.ZoneLabel: fmt.Sprintf("zone-%c", 'a'+i%3),
					corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
				},
				Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
			},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.36.3"},
			},
		}
		switch {
		case i < 2000:
			n.Labels[upgradev1alpha1.NodeStateLabel] = string(upgradev1alpha1.NodeUpgraded)
			n.Status.NodeInfo.KubeletVersion = cu.Spec.TargetVersion
		case i < 2500:
			n.Labels[upgradev1alpha1.NodeStateLabel] = string(upgradev1alpha1.NodeDraining)
			n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] = cu.Name
			n.Annotations[upgradev1alpha1.StateSinceAnnotation] = formatTime(now.Add(-time.Minute))
			n.Spec.Unschedulable = true
			s.messages[name] = "evicting 5 pods"
		default:
			n.Spec.Taints = []corev1.Taint{{Key: upgradev1alpha1.PendingTaintKey, Value: cu.Name, Effect: corev1.TaintEffectPreferNoSchedule}}
		}
		s.nodes[name] = n
		s.selected++
	}
	// In plan order, as observe leaves it.
	ordered := make([]plan.Node, 0, len(s.nodes))
	for name, n := range s.nodes {
		ordered = append(ordered, plan.Node{Name: name, Zone: n.Labels[upgradev1alpha1.ZoneLabel]})
	}
	for _, n := range plan.Order(ordered) {
		s.order = append(s.order, n.Name)
	}
	return s
}
