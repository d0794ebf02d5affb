package v1alpha1

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodLabelSelectorIsALabelSelector(t *testing.T) {
	if got := (*PodLabelSelector)(nil).LabelSelector(); got != nil {
		t.Fatalf("nil converts to %v, want nil (every pod)", got)
	}
	if got := (&PodLabelSelector{}).LabelSelector(); !reflect.DeepEqual(got, &metav1.LabelSelector{}) {
		t.Fatalf("{} converts to %v, want an empty selector (every pod)", got)
	}
	s := &PodLabelSelector{
		MatchLabels: map[string]LabelValue{"app": "report", "tier": ""},
		MatchExpressions: []PodLabelRequirement{
			{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []LabelValue{"a", "b"}},
			{Key: "canary", Operator: metav1.LabelSelectorOpDoesNotExist},
		},
	}
	want := &metav1.LabelSelector{
		MatchLabels: map[string]string{"app": "report", "tier": ""},
		MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}},
			{Key: "canary", Operator: metav1.LabelSelectorOpDoesNotExist},
		},
	}
	if got := s.LabelSelector(); !reflect.DeepEqual(got, want) {
		t.Fatalf("LabelSelector() = %+v, want %+v", got, want)
	}
}
