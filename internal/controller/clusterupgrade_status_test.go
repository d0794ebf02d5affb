package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// statusScope is a scope of n nodes in flight (draining, each waiting
// with message) for a status computation.
func statusScope(n int, message string) (*scope, plan.Plan) {
	cu := newCU("status", "p")
	s := &scope{cu: cu, now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), nodes: map[string]*corev1.Node{},
		messages: map[string]string{}, maxUnavailable: n}
	var p plan.Plan
	for i := range n {
		name := fmt.Sprintf("node-%05d", i)
		s.nodes[name] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels:      map[string]string{upgradev1alpha1.NodeStateLabel: string(upgradev1alpha1.NodeDraining)},
			Annotations: map[string]string{upgradev1alpha1.ClusterUpgradeAnnotation: cu.Name}}}
		s.order = append(s.order, name)
		s.messages[name] = message
		p.InFlight++
		p.InFlightNodes = append(p.InFlightNodes, name)
	}
	return s, p
}

// workersOnly is the waves of a ClusterUpgrade without spec.controlPlane.
func workersOnly(p plan.Plan) waves {
	return waves{controlPlane: plan.Compute(plan.Input{}), workers: p}
}

func TestStatusSetsStartedAtWhenACrashLostIt(t *testing.T) {
	s, p := statusScope(1, "evicting its pods")
	setProgressStatus(s.cu, s, workersOnly(p), s.now)
	if s.cu.Status.StartedAt == nil || !s.cu.Status.StartedAt.Time.Equal(s.now) {
		t.Fatalf("startedAt = %v with a node in flight, want %v", s.cu.Status.StartedAt, s.now)
	}
	started := s.cu.Status.StartedAt.DeepCopy()
	setProgressStatus(s.cu, s, workersOnly(p), s.now.Add(time.Hour))
	if !s.cu.Status.StartedAt.Equal(started) {
		t.Fatal("startedAt moved once set")
	}
}

func TestStatusListsEveryNodeInFlightWithinBounds(t *testing.T) {
	s, p := statusScope(3, "drain: "+strings.Repeat("x", 2000))
	setProgressStatus(s.cu, s, workersOnly(p), s.now)
	if got := len(s.cu.Status.InProgress); got != 3 {
		t.Fatalf("inProgress lists %d nodes, want all 3 in flight", got)
	}
	if m := s.cu.Status.InProgress[0].Message; len(m) > maxStatusMessage || !strings.HasSuffix(m, "…") {
		t.Fatalf("a %d-byte message was not cut to %d: %d bytes", 2006, maxStatusMessage, len(m))
	}
	// Thousands of nodes at maxUnavailable 100%: the list stops at
	// maxStatusNodes, the count stays exact.
	s, p = statusScope(2*maxStatusNodes, "evicting its pods")
	setProgressStatus(s.cu, s, workersOnly(p), s.now)
	if got := len(s.cu.Status.InProgress); got != maxStatusNodes || s.cu.Status.UpgradingNodes != 2*maxStatusNodes {
		t.Fatalf("inProgress %d entries (want %d), upgradingNodes %d (want %d)", got, maxStatusNodes, s.cu.Status.UpgradingNodes, 2*maxStatusNodes)
	}
}
