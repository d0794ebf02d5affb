package forecast

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// withRules gives the ClusterUpgrade drain rules.
func withRules(rules ...upgradev1alpha1.DrainRule) cuOpt {
	return func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.Drain.Rules = rules }
}

// matching is a pod selector of one label.
func matching(key, value string) *upgradev1alpha1.PodLabelSelector {
	return &upgradev1alpha1.PodLabelSelector{MatchLabels: map[string]upgradev1alpha1.LabelValue{key: upgradev1alpha1.LabelValue(value)}}
}

func marked(key, value string) podOpt {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[key] = value
	}
}

func restartPolicy(rp corev1.RestartPolicy) podOpt {
	return func(p *corev1.Pod) { p.Spec.RestartPolicy = rp }
}

// jobPod makes the pod a batch Job's, restarting on failure.
func jobPod() podOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences[0].APIVersion, p.OwnerReferences[0].Kind = "batch/v1", "Job"
		p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}
}

func TestDrainRuleFindings(t *testing.T) {
	cu := newCU(maxUnavailable(2), withRules(
		upgradev1alpha1.DrainRule{Name: "logs", PodSelector: matching("app", "vector"), Behavior: upgradev1alpha1.DrainBehaviorSkip},
		upgradev1alpha1.DrainRule{Name: "reports", Namespaces: []string{"batch"}, Behavior: upgradev1alpha1.DrainBehaviorWaitCompleted},
		upgradev1alpha1.DrainRule{Name: "db-last", PodSelector: matching("app", "db"), Order: ptr.To[int32](10)},
	))
	pods := []corev1.Pod{
		pod("web", "a-1", requests("1", "1Gi")),
		pod("db", "a-1", requests("2", "2Gi")),
		pod("vector", "a-2", requests("3", "3Gi")),
		pod("vector-b", "b-1", func(p *corev1.Pod) { p.Labels["app"] = "vector" }),
		pod("report", "a-2", inNamespace("batch"), jobPod(), requests("3", "3Gi")),
		pod("first", "b-1", marked(upgradev1alpha1.DrainOrderKey, "-5")),
		pod("maybe", "b-2", marked(upgradev1alpha1.DrainBehaviorKey, "Maybe")),
		// Not drained: at the target already.
		pod("vector-c", "c-1", func(p *corev1.Pod) { p.Labels["app"] = "vector" }),
	}
	f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: threeZones(map[string][]nodeOpt{"c-1": {kubelet(target)}}), Pods: pods,
		// A budget at zero over the skipped and waited-for pods blocks nothing: they are not evicted.
		PodDisruptionBudgets: []policyv1.PodDisruptionBudget{pdb("vector", "vector", 0), pdb("report", "report", 0)}})

	notes := findingsOf(f, KindDrainRules)
	want := "2 pods skipped by drain rules or their own markers, left on their nodes: shop/vector on a-2, shop/vector-b on b-1; " +
		"1 pod waited for until it completes, never evicted: batch/report on a-2 (its node's drain waits for it; " +
		"drain.onTimeout Fail applies if it is still running at drain.timeout 10m0s); " +
		"pods evicted in drain order, each order once the pods of the orders before it have left their node: -5 (1 pod), 0 (1 pod), 10 (1 pod)"
	if len(notes) != 1 || notes[0].Severity != Note || notes[0].Subject != "drain rules" || notes[0].Message != want {
		t.Fatalf("drain rule findings = %+v,\nwant one note with message\n%q", notes, want)
	}
	if !equal(notes[0].Nodes, []string{"a-1", "a-2", "b-1"}) {
		t.Fatalf("nodes = %v, want those with skipped, waited-for or ordered pods in plan order", notes[0].Nodes)
	}
	if got := findingsOf(f, KindPodDisruptionBudget); len(got) != 0 {
		t.Fatalf("budget findings %+v: a skipped or waited-for pod is never evicted", got)
	}
	blockers := findingsOf(f, KindPod)
	wantBlocker := `has annotation drain.upgrade.nodewave.io/behavior "Maybe", not one of Drain, Skip, WaitCompleted (fix or remove it): ` +
		"it keeps the node from draining"
	if len(blockers) != 1 || blockers[0].Subject != "pod shop/maybe on node b-2" || blockers[0].Message != wantBlocker {
		t.Fatalf("pod findings = %+v, want the pod whose marker does not parse, with\n%q", blockers, wantBlocker)
	}
	// Neither a skipped pod nor one waited for moves: the capacity check
	// counts the web and db pods only.
	for _, r := range f.Capacity.Resources {
		if want := map[corev1.ResourceName]string{corev1.ResourceCPU: "3", corev1.ResourceMemory: "3Gi"}[r.Resource]; r.Moving.Cmp(resource.MustParse(want)) != 0 {
			t.Fatalf("%s moving %s, want %s", r.Resource, r.Moving.String(), want)
		}
	}
}

func TestDrainRuleFindingsWithoutRules(t *testing.T) {
	f := mustCompute(t, Input{ClusterUpgrade: newCU(maxUnavailable(2)), Nodes: threeZones(nil),
		Pods: []corev1.Pod{pod("web", "a-1"), pod("db", "b-1", marked(upgradev1alpha1.DrainOrderKey, "0"))}})
	if got := findingsOf(f, KindDrainRules); len(got) != 0 {
		t.Fatalf("findings %+v: nothing skipped, waited for or ordered", got)
	}
}

func TestDrainRuleFindingsSayWhenOneOrderIsAll(t *testing.T) {
	// Every pod at order 10 is one order: nothing to say about order.
	cu := newCU(maxUnavailable(2), withRules(upgradev1alpha1.DrainRule{Name: "all", Order: ptr.To[int32](10)}))
	f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: threeZones(nil), Pods: []corev1.Pod{pod("web", "a-1"), pod("db", "b-1")}})
	if got := findingsOf(f, KindDrainRules); len(got) != 0 {
		t.Fatalf("findings %+v, want none", got)
	}
}

func TestAPodWaitedForThatNeverCompletesBlocks(t *testing.T) {
	cu := newCU(maxUnavailable(2), func(cu *upgradev1alpha1.ClusterUpgrade) {
		cu.Spec.Drain.OnTimeout = upgradev1alpha1.DrainTimeoutForceDelete
	})
	f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: threeZones(nil), Pods: []corev1.Pod{
		pod("web", "a-1", marked(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted")),
		pod("job", "b-1", jobPod(), marked(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted")),
		pod("never", "b-2", jobPod(), restartPolicy(corev1.RestartPolicyAlways), marked(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted")),
	}})
	blockers := findingsOf(f, KindPod)
	got := make([]string, 0, len(blockers))
	for _, x := range blockers {
		if x.Severity != Blocker {
			t.Fatalf("%s is a %s, want a Blocker", x.Subject, x.Severity)
		}
		got = append(got, x.Subject+": "+x.Message)
	}
	const never = "waited for until it completes (annotation drain.upgrade.nodewave.io/behavior), but its restartPolicy is Always: " +
		"it never completes, so its node's drain runs until drain.timeout 10m0s, then drain.onTimeout ForceDelete applies"
	want := []string{"pod shop/web on node a-1: " + never, "pod shop/never on node b-2: " + never}
	if !equal(got, want) {
		t.Fatalf("pod findings =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
