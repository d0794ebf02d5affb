package nodeview

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestZoneAndPriority(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1",
		Labels:      map[string]string{upgradev1alpha1.ZoneLabel: "zone-a", "example.com/rack": "r7", "prio": "-3", "bad": "high"},
		Annotations: map[string]string{"prio": "12"}}}
	cu := &upgradev1alpha1.ClusterUpgrade{}
	if z := Zone(n, cu); z != "zone-a" {
		t.Errorf("default zone %q, want zone-a", z)
	}
	cu.Spec.Strategy.Zones = &upgradev1alpha1.ZoneStrategy{TopologyKey: "example.com/rack"}
	if z := Zone(n, cu); z != "r7" {
		t.Errorf("rack zone %q, want r7", z)
	}
	for _, tc := range []struct {
		spec    *upgradev1alpha1.PrioritySpec
		want    int
		wantErr bool
	}{
		{nil, 0, false},
		{&upgradev1alpha1.PrioritySpec{Label: "prio"}, -3, false},
		{&upgradev1alpha1.PrioritySpec{Annotation: "prio"}, 12, false},
		{&upgradev1alpha1.PrioritySpec{Label: "absent"}, 0, false},
		{&upgradev1alpha1.PrioritySpec{Label: "bad"}, 0, true},
	} {
		cu.Spec.Priority = tc.spec
		got, err := Priority(n, cu)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Priority with %+v = %d, %v; want %d, error %v", tc.spec, got, err, tc.want, tc.wantErr)
		}
	}
}
