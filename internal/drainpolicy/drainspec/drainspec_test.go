package drainspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy"
)

func TestOptionsCarryTheSpec(t *testing.T) {
	opts := Options(upgradev1alpha1.DrainSpec{})
	if !opts.DeleteEmptyDirData || opts.Force || opts.GracePeriodSeconds != nil || opts.Rules != nil {
		t.Fatalf("Options of an empty spec = %+v: want deleteEmptyDirData's default (true) and nothing else", opts)
	}
	opts = Options(upgradev1alpha1.DrainSpec{DeleteEmptyDirData: ptr.To(false), Force: true, GracePeriodSeconds: ptr.To[int64](7)})
	if opts.DeleteEmptyDirData || !opts.Force || *opts.GracePeriodSeconds != 7 {
		t.Fatalf("Options = %+v, want deleteEmptyDirData false, force, grace 7", opts)
	}
}

// pod is a pod of ns with the labels given as key, value...
func pod(ns string, kv ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p", Labels: map[string]string{}}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Labels[kv[i]] = kv[i+1]
	}
	return p
}

func TestOptionsResolveTheRules(t *testing.T) {
	spec := upgradev1alpha1.DrainSpec{Rules: []upgradev1alpha1.DrainRule{
		{Name: "reports", Namespaces: []string{"batch"}, Behavior: upgradev1alpha1.DrainBehaviorWaitCompleted, Order: ptr.To[int32](-5),
			PodSelector: &upgradev1alpha1.PodLabelSelector{MatchExpressions: []upgradev1alpha1.PodLabelRequirement{
				{Key: "kind", Operator: metav1.LabelSelectorOpIn, Values: []upgradev1alpha1.LabelValue{"report", "export"}}}}},
		{Name: "logs", PodSelector: &upgradev1alpha1.PodLabelSelector{MatchLabels: map[string]upgradev1alpha1.LabelValue{"app": "vector"}},
			Behavior: upgradev1alpha1.DrainBehaviorSkip},
		{Name: "shop", Namespaces: []string{"shop"}, PodSelector: &upgradev1alpha1.PodLabelSelector{}, Order: ptr.To[int32](10)},
		// Not through the API server: no default behavior, no selector.
		{Name: "rest"},
	}}
	rules := Options(spec).Rules
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want drainpolicy.Placement
	}{
		{"a matchExpressions rule, its namespace, behavior and order", pod("batch", "kind", "export"),
			drainpolicy.Placement{Behavior: drainpolicy.BehaviorWaitCompleted, Order: -5, By: `drain rule "reports"`}},
		{"a matchLabels rule of every namespace", pod("batch", "app", "vector"),
			drainpolicy.Placement{Behavior: drainpolicy.BehaviorSkip, By: `drain rule "logs"`}},
		{"an empty selector: every pod of the namespace", pod("shop"),
			drainpolicy.Placement{Behavior: drainpolicy.BehaviorDrain, Order: 10, By: `drain rule "shop"`}},
		{"no selector and no behavior: every pod, drained at order 0", pod("batch", "kind", "other"),
			drainpolicy.Placement{Behavior: drainpolicy.BehaviorDrain, By: `drain rule "rest"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := drainpolicy.Place(tc.pod, rules); got != tc.want {
				t.Fatalf("Place = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestARuleWhoseSelectorDoesNotParseBlocks(t *testing.T) {
	// Admission checks the values, not the matchLabels keys.
	rules := Options(upgradev1alpha1.DrainSpec{Rules: []upgradev1alpha1.DrainRule{{Name: "odd", Namespaces: []string{"shop"},
		PodSelector: &upgradev1alpha1.PodLabelSelector{MatchLabels: map[string]upgradev1alpha1.LabelValue{"not a key": "x"}}}}}).Rules
	got := drainpolicy.Place(pod("shop"), rules)
	if got.Invalid == "" || got.Behavior != drainpolicy.BehaviorDrain {
		t.Fatalf("Place = %+v, want the pod blocked by rule odd", got)
	}
	const want = `is in a namespace of drain rule "odd", whose podSelector does not parse: `
	if len(got.Invalid) < len(want) || got.Invalid[:len(want)] != want {
		t.Fatalf("Invalid = %q, want it to start %q", got.Invalid, want)
	}
	if got := drainpolicy.Place(pod("batch"), rules); got.Invalid != "" {
		t.Fatalf("a pod of another namespace: Place = %+v, want nothing wrong", got)
	}
}
