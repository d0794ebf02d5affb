package drainpolicy

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// with applies changes to p and returns it.
func with(p *corev1.Pod, changes ...func(*corev1.Pod)) *corev1.Pod {
	for _, c := range changes {
		c(p)
	}
	return p
}

func terminating(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} }
func succeeded(p *corev1.Pod)   { p.Status.Phase = corev1.PodSucceeded }
func unowned(p *corev1.Pod)     { p.OwnerReferences = nil }
func daemonSet(p *corev1.Pod) {
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", Controller: ptr.To(true)}}
}
func mirrored(p *corev1.Pod) {
	p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x", behaviorKey: "WaitCompleted"}
}
func upgradeJob(p *corev1.Pod) {
	p.Labels[upgradeJobLabel] = "cu"
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "upgrade-n", Controller: ptr.To(true)}}
}

// TestJudgeWithRules covers what drain rules and pod markers change in
// Judge; internal/drain's TestJudge covers the rest, and its envtest
// specs hold Judge to what Drain does.
func TestJudgeWithRules(t *testing.T) {
	rules := []Rule{
		{Name: "jobs", Namespaces: []string{"batch"}, Behavior: BehaviorWaitCompleted, Order: 5},
		{Name: "logs", Pods: selector(t, "app=vector"), Behavior: BehaviorSkip},
		{Name: "db", Pods: selector(t, "app=db"), Order: 10},
	}
	opts := Options{DeleteEmptyDirData: true, Rules: rules}
	exists := func(_, name string) bool { return name == "agent" }
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want Judgement
	}{
		{"no rule: evicted at order 0", pod("shop", "web", nil, nil), Judgement{Verdict: Evicted}},
		{"a rule's order", pod("shop", "db", nil, nil), Judgement{Verdict: Evicted, Order: 10}},
		{"a marker's order", pod("shop", "web", nil, kv(orderKey, "-3")), Judgement{Verdict: Evicted, Order: -3}},
		{"Skip by a rule", pod("monitoring", "vector", nil, nil),
			Judgement{Verdict: Skipped, Why: `left on the node by drain rule "logs"`}},
		{"Skip by a label", pod("shop", "web", kv(behaviorKey, "Skip"), nil),
			Judgement{Verdict: Skipped, Why: "left on the node by label " + behaviorKey}},
		{"Skip, even terminating: it does not hold the drain", with(pod("shop", "web", kv(behaviorKey, "Skip"), nil), terminating),
			Judgement{Verdict: Skipped, Why: "left on the node by label " + behaviorKey}},
		{"Skip, even without a controller", with(pod("shop", "solo", kv(behaviorKey, "Skip"), nil), unowned),
			Judgement{Verdict: Skipped, Why: "left on the node by label " + behaviorKey}},
		{"WaitCompleted by a rule, at its order", pod("batch", "report", nil, nil),
			Judgement{Verdict: WaitedFor, Why: `waited for until it completes (drain rule "jobs")`, Order: 5}},
		{"WaitCompleted by an annotation", pod("shop", "migrate", nil, kv(behaviorKey, "WaitCompleted")),
			Judgement{Verdict: WaitedFor, Why: "waited for until it completes (annotation " + behaviorKey + ")"}},
		{"WaitCompleted without a controller is waited for, not blocked", with(pod("batch", "solo", nil, nil), unowned),
			Judgement{Verdict: WaitedFor, Why: `waited for until it completes (drain rule "jobs")`, Order: 5}},
		{"WaitCompleted and finished: stays", with(pod("batch", "report", nil, nil), succeeded), Judgement{Verdict: Stays}},
		{"WaitCompleted and terminating: leaving", with(pod("batch", "report", nil, nil), terminating), Judgement{Verdict: Leaving, Order: 5}},
		{"a DaemonSet's pod stays whatever its marker says", with(pod("shop", "agent", kv(behaviorKey, "WaitCompleted"), nil), daemonSet),
			Judgement{Verdict: Stays}},
		{"a mirror pod stays whatever its marker says", with(pod("shop", "etcd", nil, nil), mirrored), Judgement{Verdict: Stays}},
		{"an upgrade Job's pod stays whatever the rules say", with(pod("batch", "upgrade-n", nil, nil), upgradeJob), Judgement{Verdict: Stays}},
		{"a bad marker blocks", pod("shop", "web", kv(behaviorKey, "Maybe"), nil), Judgement{Verdict: Blocked,
			Why: `has label drain.upgrade.nodewave.io/behavior "Maybe", not one of Drain, Skip, WaitCompleted (fix or remove it)`}},
		{"a bad order blocks a pod that would be skipped", pod("monitoring", "vector", kv(orderKey, "last"), nil), Judgement{Verdict: Blocked,
			Why: `has label drain.upgrade.nodewave.io/order "last", not a 32-bit integer (fix or remove it)`}},
		{"a bad marker on a terminating pod: leaving", with(pod("shop", "web", kv(behaviorKey, "Maybe"), nil), terminating),
			Judgement{Verdict: Leaving}},
		{"Drain by a marker still obeys drain.force", with(pod("shop", "solo", kv(behaviorKey, "Drain"), nil), unowned),
			Judgement{Verdict: Blocked, Why: "has no controller (set drain.force to evict it)"}},
		{"a blocked pod keeps its order", with(pod("shop", "db", nil, nil), unowned),
			Judgement{Verdict: Blocked, Why: "has no controller (set drain.force to evict it)", Order: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Judge(tc.pod, opts, exists); got != tc.want {
				t.Fatalf("Judge =\n  %+v\nwant\n  %+v", got, tc.want)
			}
		})
	}
}
