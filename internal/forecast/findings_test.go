package forecast

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// threeZones is a pool of five Ready workers at the old version.
func threeZones(opts map[string][]nodeOpt) []corev1.Node {
	return []corev1.Node{
		node("a-1", "zone-a", opts["a-1"]...), node("a-2", "zone-a", opts["a-2"]...),
		node("b-1", "zone-b", opts["b-1"]...), node("b-2", "zone-b", opts["b-2"]...),
		node("c-1", "zone-c", opts["c-1"]...),
	}
}

func TestPodDisruptionBudgetFindings(t *testing.T) {
	nilSelector := pdb("matches-nothing", "", 0)
	nilSelector.Spec.Selector = nil
	everything := pdb("everything", "", 0)
	everything.Spec.Selector = &metav1.LabelSelector{}
	for _, tc := range []struct {
		name  string
		nodes []corev1.Node
		pods  []corev1.Pod
		pdbs  []policyv1.PodDisruptionBudget
		want  map[string][]string // subject -> nodes
	}{
		{name: "a budget at zero names itself and every node with its pods",
			pods: []corev1.Pod{pod("web-1", "a-1", web()), pod("web-2", "c-1", web()), pod("web-3", "c-1", web()), pod("db", "b-1")},
			pdbs: []policyv1.PodDisruptionBudget{pdb("web", "web", 0)},
			want: map[string][]string{"PodDisruptionBudget shop/web": {"a-1", "c-1"}}},
		{name: "a budget that allows a disruption is no blocker",
			pods: []corev1.Pod{pod("web-1", "a-1", web())},
			pdbs: []policyv1.PodDisruptionBudget{pdb("web", "web", 1)},
			want: map[string][]string{}},
		{name: "a budget in another namespace does not cover the pod",
			pods: []corev1.Pod{pod("web-1", "a-1", web(), inNamespace("other"))},
			pdbs: []policyv1.PodDisruptionBudget{pdb("web", "web", 0)},
			want: map[string][]string{}},
		{name: "a nil selector matches nothing, an empty one everything",
			pods: []corev1.Pod{pod("web-1", "a-1")},
			pdbs: []policyv1.PodDisruptionBudget{nilSelector, everything},
			want: map[string][]string{"PodDisruptionBudget shop/everything": {"a-1"}}},
		{name: "pods the drain leaves alone or cannot evict are not counted",
			pods: []corev1.Pod{
				pod("agent", "a-1", web(), ownedByDaemonSet("agent")),
				pod("done", "a-2", web(), succeeded()),
				pod("solo", "b-1", web(), unowned()), // blocked by drain.force instead
			},
			pdbs: []policyv1.PodDisruptionBudget{pdb("web", "web", 0)},
			want: map[string][]string{}},
		{name: "a node that is not drained (at the target) is not counted",
			nodes: threeZones(map[string][]nodeOpt{"a-1": {kubelet(target)}}),
			pods:  []corev1.Pod{pod("web-1", "a-1", web())},
			pdbs:  []policyv1.PodDisruptionBudget{pdb("web", "web", 0)},
			want:  map[string][]string{}},
		{name: "a node in flight still draining is counted",
			nodes: threeZones(map[string][]nodeOpt{"b-2": {state("workers", upgradev1alpha1.NodeDraining)}}),
			pods:  []corev1.Pod{pod("web-1", "b-2", web())},
			pdbs:  []policyv1.PodDisruptionBudget{pdb("web", "web", 0)},
			want:  map[string][]string{"PodDisruptionBudget shop/web": {"b-2"}}},
		{name: "a pod two budgets select cannot be evicted at all",
			pods: []corev1.Pod{pod("web-1", "b-1", web())},
			pdbs: []policyv1.PodDisruptionBudget{pdb("web", "web", 3), everything},
			want: map[string][]string{
				"pod shop/web-1 on node b-1":          {"b-1"},
				"PodDisruptionBudget shop/everything": {"b-1"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := tc.nodes
			if nodes == nil {
				nodes = threeZones(nil)
			}
			f := mustCompute(t, Input{ClusterUpgrade: newCU(maxUnavailable(2)), Nodes: nodes, Pods: tc.pods,
				PodDisruptionBudgets: tc.pdbs, DaemonSets: []appsv1.DaemonSet{daemonSet("agent")}})
			got := map[string][]string{}
			for _, x := range findingsOf(f, KindPodDisruptionBudget) {
				if x.Severity != Blocker {
					t.Fatalf("%s is a %s, want a Blocker", x.Subject, x.Severity)
				}
				got[x.Subject] = x.Nodes
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("PodDisruptionBudget findings = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPodDisruptionBudgetMessage(t *testing.T) {
	cu := newCU(maxUnavailable(2), func(cu *upgradev1alpha1.ClusterUpgrade) {
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 5 * time.Minute}
	})
	f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: threeZones(nil),
		Pods:                 []corev1.Pod{pod("web-1", "a-1", web()), pod("web-2", "a-1", web())},
		PodDisruptionBudgets: []policyv1.PodDisruptionBudget{pdb("web", "web", 0)}})
	got := findingsOf(f, KindPodDisruptionBudget)
	want := "allows no disruption now (status.disruptionsAllowed 0, 2 of 2 desired pods healthy): 2 pods on 1 node cannot be evicted " +
		"until it allows one; each such node stays draining, then drain.onTimeout Fail applies after drain.timeout 5m0s: a-1"
	if len(got) != 1 || got[0].Message != want {
		t.Fatalf("findings = %+v,\nwant message %q", got, want)
	}
}

func TestPodFindings(t *testing.T) {
	pods := []corev1.Pod{
		pod("web", "a-1"),
		pod("solo", "a-1", unowned()),
		pod("cache", "a-2", withEmptyDir()),
		pod("agent", "b-1", ownedByDaemonSet("agent"), unowned(), ownedByDaemonSet("agent")),
		pod("orphan", "b-1", ownedByDaemonSet("deleted")),
		pod("static", "b-2", unowned(), func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} }),
		pod("done", "b-2", unowned(), succeeded()),
		pod("solo-on-upgraded", "c-1", unowned()),
	}
	nodes := threeZones(map[string][]nodeOpt{"c-1": {kubelet(target)}})
	for _, tc := range []struct {
		name  string
		drain upgradev1alpha1.DrainSpec
		want  []string
	}{
		{name: "the defaults: force off, emptyDir allowed", want: []string{
			"pod shop/solo on node a-1: has no controller (set drain.force to evict it)",
			"pod shop/orphan on node b-1: belongs to a DaemonSet that no longer exists (set drain.force to evict it)",
		}},
		{name: "emptyDir kept", drain: upgradev1alpha1.DrainSpec{DeleteEmptyDirData: ptr.To(false)}, want: []string{
			"pod shop/solo on node a-1: has no controller (set drain.force to evict it)",
			"pod shop/cache on node a-2: uses emptyDir (set drain.deleteEmptyDirData to evict it)",
			"pod shop/orphan on node b-1: belongs to a DaemonSet that no longer exists (set drain.force to evict it)",
		}},
		{name: "force and emptyDir allowed: nothing blocks", drain: upgradev1alpha1.DrainSpec{Force: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cu := newCU(maxUnavailable(2), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.Drain = tc.drain })
			f := mustCompute(t, Input{ClusterUpgrade: cu, Nodes: nodes, Pods: pods, DaemonSets: []appsv1.DaemonSet{daemonSet("agent")}})
			var got []string
			for _, x := range findingsOf(f, KindPod) {
				if x.Severity != Blocker {
					t.Fatalf("%s is a %s, want a Blocker", x.Subject, x.Severity)
				}
				got = append(got, x.Subject+": "+strings.TrimSuffix(x.Message, ": it keeps the node from draining"))
			}
			if !equal(got, tc.want) {
				t.Fatalf("pod findings:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNodeFindings(t *testing.T) {
	type want struct {
		severity Severity
		nodes    []string
	}
	for _, tc := range []struct {
		name  string
		cu    *upgradev1alpha1.ClusterUpgrade
		nodes []corev1.Node
		want  map[string][]want // kind -> findings
	}{
		{name: "a healthy pool: nothing", cu: newCU(maxUnavailable(2)), nodes: threeZones(nil), want: map[string][]want{}},
		{name: "NotReady nodes: pending ones never start, done ones hold a slot",
			cu: newCU(maxUnavailable(3)),
			nodes: threeZones(map[string][]nodeOpt{
				"a-2": {notReady()}, "c-1": {notReady(), kubelet(target)},
			}),
			want: map[string][]want{
				KindNotReady: {{Blocker, []string{"a-2"}}, {Blocker, []string{"c-1"}}},
				KindAtTarget: {{Note, []string{"c-1"}}},
			}},
		{name: "NotReady nodes holding the whole budget: the Ready ones never start",
			cu:    newCU(),
			nodes: threeZones(map[string][]nodeOpt{"b-1": {notReady()}}),
			want: map[string][]want{
				KindNotReady: {{Blocker, []string{"b-1"}}},
				KindBudget:   {{Blocker, []string{"a-1", "a-2", "b-2", "c-1"}}},
			}},
		{name: "a failed node over maxFailedNodes halts; no budget finding on top",
			cu:    newCU(maxUnavailable(2)),
			nodes: threeZones(map[string][]nodeOpt{"b-2": {state("workers", upgradev1alpha1.NodeFailed)}}),
			want:  map[string][]want{KindHalted: {{Blocker, []string{"b-2"}}}}},
		{name: "a failed node within maxFailedNodes holds a slot",
			cu:    newCU(maxUnavailable(2), func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.MaxFailedNodes = 1 }),
			nodes: threeZones(map[string][]nodeOpt{"b-2": {state("workers", upgradev1alpha1.NodeFailed)}}),
			want:  map[string][]want{}},
		{name: "a node another ClusterUpgrade has in flight is a note of its own, not an admin's cordon",
			cu: newCU(maxUnavailable(2)),
			nodes: threeZones(map[string][]nodeOpt{
				"a-1": {state("other", upgradev1alpha1.NodeDraining)}, "a-2": {state("other", upgradev1alpha1.NodeUpgraded)}, "b-1": {cordoned()},
			}),
			want: map[string][]want{
				KindHeldByOther: {{Note, []string{"a-1"}}},
				KindCordoned:    {{Note, []string{"b-1"}}},
			}},
		{name: "at target, newer and cordoned nodes are notes",
			cu: newCU(maxUnavailable(2)),
			nodes: threeZones(map[string][]nodeOpt{
				"a-1": {kubelet(target)}, "a-2": {kubelet(target + "+k3s1")}, "b-1": {kubelet("v1.38.0")}, "c-1": {cordoned()},
			}),
			want: map[string][]want{
				KindAtTarget: {{Note, []string{"a-1", "a-2"}}},
				KindNewer:    {{Note, []string{"b-1"}}},
				KindCordoned: {{Note, []string{"c-1"}}},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes})
			got := map[string][]want{}
			for _, kind := range []string{KindNotReady, KindBudget, KindHalted, KindAtTarget, KindNewer, KindCordoned, KindHeldByOther} {
				for _, x := range findingsOf(f, kind) {
					got[kind] = append(got[kind], want{x.Severity, x.Nodes})
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("findings = %+v\nwant %+v\nall: %+v", got, tc.want, f.Findings)
			}
		})
	}
}

func TestNewerMessageNamesTheVersion(t *testing.T) {
	f := mustCompute(t, Input{ClusterUpgrade: newCU(), Nodes: threeZones(map[string][]nodeOpt{"b-1": {kubelet("v1.38.0")}})})
	got := findingsOf(f, KindNewer)
	if len(got) != 1 || got[0].Subject != "nodes newer than v1.37.2 (1)" || got[0].Message != "skipped, never downgraded: b-1 (v1.38.0)" {
		t.Fatalf("newer findings = %+v", got)
	}
}

func TestPreflightFindings(t *testing.T) {
	older := metav1.NewTime(t0)
	newer := metav1.NewTime(t0.Add(time.Hour))
	other := func(name string, created metav1.Time, phase upgradev1alpha1.Phase, sel *metav1.LabelSelector) upgradev1alpha1.ClusterUpgrade {
		return upgradev1alpha1.ClusterUpgrade{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: created},
			Spec: upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: target, NodeSelector: sel}, Status: upgradev1alpha1.ClusterUpgradeStatus{Phase: phase}}
	}
	zoneB := &metav1.LabelSelector{MatchLabels: map[string]string{upgradev1alpha1.ZoneLabel: "zone-b"}}
	zoneX := &metav1.LabelSelector{MatchLabels: map[string]string{upgradev1alpha1.ZoneLabel: "zone-x"}}
	applied := func(created metav1.Time) cuOpt {
		return func(cu *upgradev1alpha1.ClusterUpgrade) { cu.CreationTimestamp = created }
	}
	for _, tc := range []struct {
		name   string
		cu     *upgradev1alpha1.ClusterUpgrade
		nodes  []corev1.Node
		server string
		others []upgradev1alpha1.ClusterUpgrade
		want   []string // "Kind Subject"
	}{
		{name: "all clear", cu: newCU(), nodes: threeZones(nil), server: "v1.37.2"},
		{name: "a target newer than the API server", cu: newCU(), nodes: threeZones(nil), server: "v1.36.9",
			want: []string{"VersionSkew ClusterUpgrade workers"}},
		{name: "a newer patch of the target is still skew", cu: newCU(), nodes: threeZones(nil), server: "v1.37.1",
			want: []string{"VersionSkew ClusterUpgrade workers"}},
		{name: "a managed cluster's suffix is not skew", cu: newCU(), nodes: threeZones(nil), server: "v1.37.2-gke.1211000"},
		{name: "an unreadable server version blocks", cu: newCU(), nodes: threeZones(nil), server: "banana",
			want: []string{"VersionSkew ClusterUpgrade workers"}},
		{name: "an unknown server version is not checked", cu: newCU(), nodes: threeZones(nil), server: ""},
		{name: "no node selected", cu: newCU(), server: "v1.37.2", want: []string{"NoNodes ClusterUpgrade workers"}},
		{name: "a file's ClusterUpgrade waits for an unfinished one on the same nodes",
			cu: newCU(), nodes: threeZones(nil), server: "v1.37.2",
			others: []upgradev1alpha1.ClusterUpgrade{
				other("zone-b-first", older, upgradev1alpha1.PhaseProgressing, zoneB),
				other("finished", older, upgradev1alpha1.PhaseSucceeded, nil),
				other("elsewhere", older, upgradev1alpha1.PhaseProgressing, zoneX),
				other("workers", older, upgradev1alpha1.PhaseProgressing, nil), // itself, applied
			},
			want: []string{"Conflict ClusterUpgrade zone-b-first"}},
		{name: "an applied ClusterUpgrade waits only for older ones",
			cu: newCU(applied(older)), nodes: threeZones(nil), server: "v1.37.2",
			others: []upgradev1alpha1.ClusterUpgrade{
				other("later", newer, upgradev1alpha1.PhasePending, nil),
				other("zzz-same-time-later-name", older, upgradev1alpha1.PhasePending, nil),
				other("aaa-same-time-earlier-name", older, upgradev1alpha1.PhasePending, zoneB),
			},
			want: []string{"Conflict ClusterUpgrade aaa-same-time-earlier-name"}},
		{name: "paused is a note", cu: newCU(func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.Paused = true }),
			nodes: threeZones(nil), server: "v1.37.2", want: []string{"Paused ClusterUpgrade workers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes, ServerVersion: tc.server, ClusterUpgrades: tc.others})
			var got []string
			for _, kind := range []string{KindVersionSkew, KindNoNodes, KindConflict, KindPaused} {
				for _, x := range findingsOf(f, kind) {
					got = append(got, x.Kind+" "+x.Subject)
				}
			}
			if !equal(got, tc.want) {
				t.Fatalf("findings = %q, want %q\nall: %+v", got, tc.want, f.Findings)
			}
		})
	}
}

func TestConflictNamesTheSharedNodes(t *testing.T) {
	zoneB := &metav1.LabelSelector{MatchLabels: map[string]string{upgradev1alpha1.ZoneLabel: "zone-b"}}
	f := mustCompute(t, Input{ClusterUpgrade: newCU(), Nodes: threeZones(nil), ClusterUpgrades: []upgradev1alpha1.ClusterUpgrade{{
		ObjectMeta: metav1.ObjectMeta{Name: "first", CreationTimestamp: metav1.NewTime(t0)},
		Spec:       upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: target, NodeSelector: zoneB}}}})
	got := findingsOf(f, KindConflict)
	if len(got) != 1 || !equal(got[0].Nodes, []string{"b-1", "b-2"}) || got[0].Severity != Blocker {
		t.Fatalf("conflicts = %+v", got)
	}
}

func TestSpecErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name string
		cu   *upgradev1alpha1.ClusterUpgrade
		want string
	}{
		{"target", newCU(func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.TargetVersion = "1.37" }), "spec.targetVersion: "},
		{"maxUnavailable", newCU(concurrent(intstr.FromString("10"))), "spec.strategy.maxUnavailable "},
		{"maxUnavailable missing", newCU(func(cu *upgradev1alpha1.ClusterUpgrade) {
			cu.Spec.Strategy.Type = upgradev1alpha1.ConcurrentStrategy
		}), "spec.strategy.maxUnavailable is required"},
		{"selector", newCU(func(cu *upgradev1alpha1.ClusterUpgrade) {
			cu.Spec.NodeSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "pool", Operator: "Near"}}}
		}), "spec.nodeSelector: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compute(Input{ClusterUpgrade: tc.cu, Nodes: threeZones(nil)})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one starting %q", err, tc.want)
			}
		})
	}
}

func TestBlockersComeFirst(t *testing.T) {
	f := mustCompute(t, Input{ClusterUpgrade: newCU(maxUnavailable(2)),
		Nodes: threeZones(map[string][]nodeOpt{"a-1": {kubelet(target)}, "b-1": {notReady()}})})
	seenNote := false
	for _, x := range f.Findings {
		if x.Severity == Note {
			seenNote = true
		} else if seenNote {
			t.Fatalf("a blocker after a note: %+v", f.Findings)
		}
	}
	if f.Blockers() != 1 || !seenNote {
		t.Fatalf("Blockers() = %d, findings %+v", f.Blockers(), f.Findings)
	}
}

func TestWindowFindings(t *testing.T) {
	// t0 is Thursday 2026-11-26 12:00 UTC.
	window := func(start, end, zone string) cuOpt {
		return func(cu *upgradev1alpha1.ClusterUpgrade) {
			cu.Spec.Window = &upgradev1alpha1.MaintenanceWindow{Start: start, End: end, TimeZone: zone}
		}
	}
	for _, tc := range []struct {
		name     string
		cu       *upgradev1alpha1.ClusterUpgrade
		nodes    []corev1.Node
		severity Severity
		message  string
	}{
		{name: "no window", cu: newCU(), nodes: threeZones(nil)},
		{name: "closed now: when it opens", cu: newCU(window("22:00", "04:00", "Europe/Berlin")), nodes: threeZones(nil), severity: Note,
			message: "spec.window is closed now: nothing new starts until it opens at 2026-11-26T21:00:00Z (nodes in flight finish)"},
		{name: "open now: until when", cu: newCU(window("09:00", "17:00", "UTC")), nodes: threeZones(nil), severity: Note,
			message: "spec.window is open until 2026-11-26T17:00:00Z; nodes start only while it is open, so the waves may span several windows"},
		{name: "closed, but nothing is left to start", cu: newCU(window("22:00", "04:00", "UTC")),
			nodes: threeZones(map[string][]nodeOpt{"a-1": {kubelet(target)}, "a-2": {kubelet(target)}, "b-1": {kubelet(target)},
				"b-2": {kubelet(target)}, "c-1": {kubelet(target)}})},
		{name: "a time zone nobody knows", cu: newCU(window("22:00", "04:00", "Mars/Olympus_Mons")), nodes: threeZones(nil), severity: Blocker,
			message: "InvalidWindow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: tc.cu, Nodes: tc.nodes, Now: t0})
			got := findingsOf(f, KindWindow)
			if tc.message == "" {
				if len(got) != 0 {
					t.Fatalf("window findings = %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Severity != tc.severity || !strings.Contains(got[0].Message, tc.message) {
				t.Fatalf("window findings = %+v, want one %s saying %q", got, tc.severity, tc.message)
			}
			if len(f.Waves) == 0 && tc.severity == Note {
				t.Fatalf("a closed window must not empty the waves: %+v", f)
			}
		})
	}
}
