package v1alpha1

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestSelectorDefaultsToEveryNodeButTheControlPlane(t *testing.T) {
	sel, err := (&ClusterUpgrade{}).Selector()
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set{"pool": "general"}) || sel.Matches(labels.Set{ControlPlaneLabel: ""}) {
		t.Fatalf("default selector %q: want every node without %s", sel, ControlPlaneLabel)
	}
	cu := &ClusterUpgrade{Spec: ClusterUpgradeSpec{
		NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"pool": "gpu"}}}}
	if sel, err = cu.Selector(); err != nil || !sel.Matches(labels.Set{"pool": "gpu", ControlPlaneLabel: ""}) || sel.Matches(labels.Set{"pool": "general"}) {
		t.Fatalf("spec.nodeSelector pool=gpu read as %q (%v)", sel, err)
	}
}

func TestWaitsForOlderUnfinishedClusterUpgrades(t *testing.T) {
	t0 := metav1.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	cu := func(name string, created metav1.Time, phase Phase) *ClusterUpgrade {
		return &ClusterUpgrade{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: created},
			Status: ClusterUpgradeStatus{Phase: phase}}
	}
	later := metav1.NewTime(t0.Add(time.Minute))
	me := cu("b", t0, PhaseProgressing)
	for _, tc := range []struct {
		name  string
		other *ClusterUpgrade
		me    *ClusterUpgrade
		want  bool
	}{
		{"itself", cu("b", t0, PhaseProgressing), me, false},
		{"older by creation", cu("z", metav1.NewTime(t0.Add(-time.Minute)), PhaseProgressing), me, true},
		{"same time, earlier name", cu("a", t0, PhaseFailed), me, true},
		{"same time, later name", cu("c", t0, PhaseProgressing), me, false},
		{"newer", cu("a", later, PhaseProgressing), me, false},
		{"older but finished", cu("a", metav1.NewTime(t0.Add(-time.Hour)), PhaseSucceeded), me, false},
		{"any applied one, for one not applied yet", cu("z", later, ""), cu("new", metav1.Time{}, ""), true},
	} {
		if got := tc.me.WaitsFor(tc.other); got != tc.want {
			t.Errorf("%s: WaitsFor = %v, want %v", tc.name, got, tc.want)
		}
	}
}
