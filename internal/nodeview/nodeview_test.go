package nodeview

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/version"
)

func TestPlanNode(t *testing.T) {
	target := version.MustParse("v1.37.2")
	node := func(holder, state, kubelet string, ready corev1.ConditionStatus) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: map[string]string{
				upgradev1alpha1.ZoneLabel: "zone-a", upgradev1alpha1.NodeStateLabel: state},
				Annotations: map[string]string{upgradev1alpha1.ClusterUpgradeAnnotation: holder}},
			Spec: corev1.NodeSpec{Unschedulable: state != ""},
			Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: kubelet},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}},
		}
	}
	for _, tc := range []struct {
		name, holder, state, kubelet string
		ready                        corev1.ConditionStatus
		wantState                    upgradev1alpha1.NodeState
		wantReady, atTarget, newer   bool
	}{
		{"ours, draining", "cu", "draining", "v1.36.3", corev1.ConditionTrue, upgradev1alpha1.NodeDraining, true, false, false},
		{"another's state is not ours", "other", "draining", "v1.36.3", corev1.ConditionTrue, "", true, false, false},
		{"at the target, NotReady", "", "", "v1.37.2", corev1.ConditionFalse, "", false, true, false},
		{"newer than the target", "", "", "v1.38.0", corev1.ConditionTrue, "", true, false, true},
		{"unparsable kubelet version", "", "", "garbage", corev1.ConditionUnknown, "", false, false, false},
	} {
		got := PlanNode(node(tc.holder, tc.state, tc.kubelet, tc.ready), cuNamed("cu"), target)
		if got.State != tc.wantState || got.Ready != tc.wantReady || got.AtTarget != tc.atTarget || got.Newer != tc.newer ||
			got.Zone != "zone-a" || got.Unschedulable != (tc.state != "") {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}

func TestPlanNodeHolds(t *testing.T) {
	target := version.MustParse("v1.37.2")
	node := func(holder, state string, unschedulable bool) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: map[string]string{upgradev1alpha1.NodeStateLabel: state},
				Annotations: map[string]string{upgradev1alpha1.ClusterUpgradeAnnotation: holder}},
			Spec:   corev1.NodeSpec{Unschedulable: unschedulable},
			Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"}},
		}
	}
	for _, tc := range []struct {
		name          string
		n             *corev1.Node
		wantElsewhere upgradev1alpha1.NodeState
		wantRetried   bool
		holds         bool
	}{
		{"another's node in flight", node("other", "upgrading", true), upgradev1alpha1.NodeUpgrading, false, false},
		{"another's failed node", node("other", "failed", true), upgradev1alpha1.NodeFailed, false, false},
		{"another's upgraded node is nobody's", node("other", "upgraded", false), "", false, false},
		{"ours in flight", node("cu", "verifying", true), "", false, true},
		{"ours failed", node("cu", "failed", true), "", false, true},
		{"ours, state removed, still cordoned: a retry", node("cu", "", true), "", true, false},
		{"ours, state removed and uncordoned: not a retry", node("cu", "", false), "", false, false},
		{"ours, upgraded", node("cu", "upgraded", false), "", false, false},
	} {
		got := PlanNode(tc.n, cuNamed("cu"), target)
		if got.HeldElsewhere != tc.wantElsewhere || got.Retried != tc.wantRetried || Holds(tc.n, "cu") != tc.holds {
			t.Errorf("%s: %+v, holds %v", tc.name, got, Holds(tc.n, "cu"))
		}
	}
}

func TestOutOfScheduling(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec corev1.NodeSpec
		want bool
	}{
		{"schedulable", corev1.NodeSpec{}, false},
		{"cordoned", corev1.NodeSpec{Unschedulable: true}, true},
		{"Karpenter's disruption taint", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectNoSchedule}}}, true},
		{"the Cluster Autoscaler's scale-down taint", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "ToBeDeletedByClusterAutoscaler", Value: "1733480000", Effect: corev1.TaintEffectNoSchedule}}}, true},
		{"the unschedulable taint trailing an uncordon", corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}}}, false},
		{"a PreferNoSchedule taint does not take a node out", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectPreferNoSchedule}}}, false},
		{"anyone else's taint", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "gpu", Effect: corev1.TaintEffectNoSchedule}}}, false},
	} {
		if got := OutOfScheduling(&corev1.Node{Spec: tc.spec}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// cuNamed is a ClusterUpgrade of that name with an empty spec.
func cuNamed(name string) *upgradev1alpha1.ClusterUpgrade {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	cu.Name = name
	return cu
}
