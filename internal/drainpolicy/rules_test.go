package drainpolicy

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// pod is a running pod of a ReplicaSet in ns, with labels and
// annotations given as key, value, key, value...
func pod(ns, name string, labelKVs, annotationKVs []string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + name, Controller: ptr.To(true)}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for i := 0; i+1 < len(labelKVs); i += 2 {
		p.Labels[labelKVs[i]] = labelKVs[i+1]
	}
	if len(annotationKVs) > 0 {
		p.Annotations = map[string]string{}
	}
	for i := 0; i+1 < len(annotationKVs); i += 2 {
		p.Annotations[annotationKVs[i]] = annotationKVs[i+1]
	}
	return p
}

func kv(s ...string) []string { return s }

func selector(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func TestMarkerKeysAreTheAPIs(t *testing.T) {
	if behaviorKey != upgradev1alpha1.DrainBehaviorKey || orderKey != upgradev1alpha1.DrainOrderKey {
		t.Fatalf("markers %q and %q, the API says %q and %q", behaviorKey, orderKey,
			upgradev1alpha1.DrainBehaviorKey, upgradev1alpha1.DrainOrderKey)
	}
	if upgradeJobLabel != upgradev1alpha1.JobClusterUpgradeLabel {
		t.Fatalf("upgrade Job label %q, the API says %q", upgradeJobLabel, upgradev1alpha1.JobClusterUpgradeLabel)
	}
	for b, api := range map[Behavior]upgradev1alpha1.DrainBehavior{
		BehaviorDrain: upgradev1alpha1.DrainBehaviorDrain, BehaviorSkip: upgradev1alpha1.DrainBehaviorSkip,
		BehaviorWaitCompleted: upgradev1alpha1.DrainBehaviorWaitCompleted,
	} {
		if string(b) != string(api) {
			t.Errorf("behavior %q, the API says %q", b, api)
		}
	}
}

func TestPlace(t *testing.T) {
	rules := []Rule{
		{Name: "batch-wait", Namespaces: []string{"batch"}, Pods: selector(t, "kind=report"), Behavior: BehaviorWaitCompleted, Order: -5},
		{Name: "batch-rest", Namespaces: []string{"batch", "etl"}, Behavior: BehaviorDrain, Order: 10},
		{Name: "logs", Pods: selector(t, "app in (fluentd, vector)"), Behavior: BehaviorSkip},
		{Name: "db-last", Namespaces: []string{"shop"}, Pods: selector(t, "tier=db"), Order: 100},
		{Name: "broken", Namespaces: []string{"legacy"}, Invalid: `values[0][app]: Invalid value: "a b"`},
		{Name: "legacy-rest", Namespaces: []string{"legacy"}, Behavior: BehaviorSkip},
	}
	const (
		badBehavior = `has annotation drain.upgrade.nodewave.io/behavior "Maybe", not one of Drain, Skip, WaitCompleted (fix or remove it)`
		badOrder    = `has label drain.upgrade.nodewave.io/order "abc", not a 32-bit integer (fix or remove it)`
		badRule     = `is in a namespace of drain rule "broken", whose podSelector does not parse: values[0][app]: Invalid value: "a b" (fix the rule)`
	)
	for _, tc := range []struct {
		name  string
		pod   *corev1.Pod
		rules []Rule
		want  Placement
	}{
		{"no marker, no rule: Drain, order 0", pod("shop", "web", nil, nil), nil,
			Placement{Behavior: BehaviorDrain}},
		{"no rule matches: Drain, order 0", pod("shop", "web", nil, nil), rules,
			Placement{Behavior: BehaviorDrain}},
		{"label Skip", pod("shop", "web", kv(behaviorKey, "Skip"), nil), nil,
			Placement{Behavior: BehaviorSkip, By: "label " + behaviorKey}},
		{"annotation WaitCompleted", pod("shop", "web", nil, kv(behaviorKey, "WaitCompleted")), nil,
			Placement{Behavior: BehaviorWaitCompleted, By: "annotation " + behaviorKey}},
		{"label Drain", pod("shop", "web", kv(behaviorKey, "Drain"), nil), nil,
			Placement{Behavior: BehaviorDrain, By: "label " + behaviorKey}},
		{"the annotation wins over the label", pod("shop", "web", kv(behaviorKey, "Skip"), kv(behaviorKey, "WaitCompleted")), nil,
			Placement{Behavior: BehaviorWaitCompleted, By: "annotation " + behaviorKey}},
		{"the annotation's order wins over the label's", pod("shop", "web", kv(orderKey, "5"), kv(orderKey, "-7")), nil,
			Placement{Behavior: BehaviorDrain, Order: -7}},
		{"label order", pod("shop", "web", kv(orderKey, "20"), nil), nil,
			Placement{Behavior: BehaviorDrain, Order: 20}},
		{"order at the ends of int32", pod("shop", "web", nil, kv(orderKey, "-2147483648")), nil,
			Placement{Behavior: BehaviorDrain, Order: -2147483648}},
		{"order with a plus sign", pod("shop", "web", kv(orderKey, "+3"), nil), nil,
			Placement{Behavior: BehaviorDrain, Order: 3}},
		{"the first matching rule decides", pod("batch", "r1", kv("kind", "report"), nil), rules,
			Placement{Behavior: BehaviorWaitCompleted, Order: -5, By: `drain rule "batch-wait"`}},
		{"a rule that does not match is passed over", pod("batch", "loader", nil, nil), rules,
			Placement{Behavior: BehaviorDrain, Order: 10, By: `drain rule "batch-rest"`}},
		{"a rule of another namespace is passed over", pod("etl", "r2", kv("kind", "report"), nil), rules,
			Placement{Behavior: BehaviorDrain, Order: 10, By: `drain rule "batch-rest"`}},
		{"a rule without namespaces matches every namespace", pod("monitoring", "vector", nil, nil), rules,
			Placement{Behavior: BehaviorSkip, By: `drain rule "logs"`}},
		{"an earlier rule wins over a later one that also matches", pod("batch", "fluentd", kv("kind", "report"), nil), rules,
			Placement{Behavior: BehaviorWaitCompleted, Order: -5, By: `drain rule "batch-wait"`}},
		{"a rule's behavior defaults to Drain", pod("shop", "db-0", kv("tier", "db"), nil), rules,
			Placement{Behavior: BehaviorDrain, Order: 100, By: `drain rule "db-last"`}},
		{"the pod's behavior wins over the rule's, the rule's order stays", pod("batch", "r3", kv("kind", "report", behaviorKey, "Drain"), nil), rules,
			Placement{Behavior: BehaviorDrain, Order: -5, By: "label " + behaviorKey}},
		{"the pod's order wins over the rule's, the rule's behavior stays", pod("batch", "r4", kv("kind", "report"), kv(orderKey, "1")), rules,
			Placement{Behavior: BehaviorWaitCompleted, Order: 1, By: `drain rule "batch-wait"`}},
		{"both markers: no rule is read", pod("legacy", "app", kv(behaviorKey, "Drain", orderKey, "2"), nil), rules,
			Placement{Behavior: BehaviorDrain, Order: 2, By: "label " + behaviorKey}},
		{"a bad behavior blocks", pod("shop", "web", nil, kv(behaviorKey, "Maybe")), nil,
			Placement{Behavior: BehaviorDrain, Invalid: badBehavior}},
		{"a bad annotation blocks even over a good label", pod("shop", "web", kv(behaviorKey, "Skip"), kv(behaviorKey, "Maybe")), nil,
			Placement{Behavior: BehaviorDrain, Invalid: badBehavior}},
		{"a behavior in lower case blocks", pod("shop", "web", kv(behaviorKey, "skip"), nil), nil,
			Placement{Behavior: BehaviorDrain, Invalid: `has label drain.upgrade.nodewave.io/behavior "skip", not one of Drain, Skip, WaitCompleted (fix or remove it)`}},
		{"an empty behavior blocks", pod("shop", "web", kv(behaviorKey, ""), nil), nil,
			Placement{Behavior: BehaviorDrain, Invalid: `has label drain.upgrade.nodewave.io/behavior "", not one of Drain, Skip, WaitCompleted (fix or remove it)`}},
		{"a bad order blocks, the rule's behavior and order stay", pod("batch", "r5", kv("kind", "report", orderKey, "abc"), nil), rules,
			Placement{Behavior: BehaviorWaitCompleted, Order: -5, By: `drain rule "batch-wait"`, Invalid: badOrder}},
		{"an order over int32 blocks", pod("shop", "web", nil, kv(orderKey, "2147483648")), nil,
			Placement{Behavior: BehaviorDrain, Invalid: `has annotation drain.upgrade.nodewave.io/order "2147483648", not a 32-bit integer (fix or remove it)`}},
		{"a bad order blocks a Skip pod too", pod("shop", "web", kv(behaviorKey, "Skip", orderKey, "abc"), nil), nil,
			Placement{Behavior: BehaviorSkip, By: "label " + behaviorKey, Invalid: badOrder}},
		{"both markers bad: both named", pod("shop", "web", kv(orderKey, "abc"), kv(behaviorKey, "Maybe")), nil,
			Placement{Behavior: BehaviorDrain, Invalid: badBehavior + "; " + badOrder}},
		{"a rule whose selector does not parse blocks the pods it would decide for", pod("legacy", "app", nil, nil), rules,
			Placement{Behavior: BehaviorDrain, Invalid: badRule}},
		{"... even when a later rule would match", pod("legacy", "fluentd", nil, nil), rules[4:],
			Placement{Behavior: BehaviorDrain, Invalid: badRule}},
		{"... but not the pods an earlier rule decides for", pod("legacy", "vector", nil, nil), rules,
			Placement{Behavior: BehaviorSkip, By: `drain rule "logs"`}},
		{"... nor the pods whose markers decide everything", pod("legacy", "app", kv(behaviorKey, "Skip", orderKey, "0"), nil), rules,
			Placement{Behavior: BehaviorSkip, By: "label " + behaviorKey}},
		{"... nor the pods of other namespaces", pod("shop", "web", nil, nil), rules[4:],
			Placement{Behavior: BehaviorDrain}},
		{"a rule's empty behavior is Drain", pod("shop", "web", nil, nil), []Rule{{Name: "all", Order: 3}},
			Placement{Behavior: BehaviorDrain, Order: 3, By: `drain rule "all"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Place(tc.pod, tc.rules); got != tc.want {
				t.Fatalf("Place =\n  %+v\nwant\n  %+v", got, tc.want)
			}
		})
	}
}
