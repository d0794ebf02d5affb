package forecast

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestCapacity(t *testing.T) {
	// Five workers of 4 CPU and 8Gi. What each node to drain sends
	// elsewhere: a-1 2 CPU 2Gi, a-2 3 CPU 1Gi, b-1 0.5 CPU 6Gi (its
	// DaemonSet pod stays), b-2 nothing (its pod has no controller: it is
	// not evicted, and would not come back if it were), c-1 nothing.
	pods := []corev1.Pod{
		pod("web-1", "a-1", requests("1", "1Gi")),
		pod("web-2", "a-1", requests("1", "1Gi")),
		pod("db", "a-2", requests("3", "1Gi")),
		pod("cache", "b-1", requests("500m", "6Gi")),
		pod("agent", "b-1", ownedByDaemonSet("agent"), requests("500m", "512Mi")),
		pod("solo", "b-2", unowned(), requests("2", "1Gi")),
		pod("batch", "c-1", succeeded(), requests("4", "8Gi")), // finished: uses nothing
	}
	type check struct {
		wave           []string
		moving, free   string
		receivers      int
		enough         bool
		severity       Severity
		messageSnippet string
	}
	for _, tc := range []struct {
		name   string
		cu     int32
		failed int32
		force  bool
		nodes  []corev1.Node
		pods   []corev1.Pod
		cpu    check
		mem    check
	}{
		{name: "two at a time: enough room", cu: 2, nodes: threeZones(nil), pods: pods,
			// cpu: a-1 and a-2 move 5; b-1 has 3 free, b-2 2, c-1 4.
			cpu: check{wave: []string{"a-1", "a-2"}, moving: "5", free: "9", receivers: 3, enough: true, severity: Note},
			// memory: b-1 and a-1 move 8Gi; a-2 has 7Gi free, b-2 7Gi, c-1 8Gi.
			mem: check{wave: []string{"a-1", "b-1"}, moving: "8Gi", free: "22Gi", receivers: 3, enough: true, severity: Note}},
		{name: "three at a time on a small node: short of CPU", cu: 3,
			nodes: threeZones(map[string][]nodeOpt{"c-1": {allocatable("2", "4Gi")}}), pods: pods,
			cpu: check{wave: []string{"a-1", "a-2", "b-1"}, moving: "5500m", free: "4", receivers: 2, enough: false, severity: Blocker,
				messageSnippet: "draining a-1, a-2, b-1 (the 3 nodes whose evicted pods request the most cpu) moves 5.5 CPU of requests; " +
					"the other Ready, schedulable selected nodes (2) have 4 CPU free: 1.5 CPU short: evicted pods will wait Pending"},
			mem: check{wave: []string{"a-1", "a-2", "b-1"}, moving: "9Gi", free: "11Gi", receivers: 2, enough: true, severity: Note}},
		{name: "NotReady and failed nodes take nothing; nodes at the target do; an overcommitted node gives nothing",
			cu: 4, failed: 1,
			nodes: append(threeZones(map[string][]nodeOpt{
				"b-1": {notReady(), kubelet(target)}, "b-2": {state("workers", upgradev1alpha1.NodeFailed)},
				"c-1": {kubelet(target), allocatable("1", "1Gi")},
			}), node("d-1", "zone-d", kubelet(target))),
			pods: []corev1.Pod{pod("db", "a-2", requests("3", "1Gi")), pod("big", "c-1", requests("2", "2Gi"))},
			// a-1 and a-2 drain; c-1 (0 free) and d-1 receive.
			cpu: check{wave: []string{"a-1", "a-2"}, moving: "3", free: "4", receivers: 2, enough: true, severity: Note},
			mem: check{wave: []string{"a-1", "a-2"}, moving: "1Gi", free: "8Gi", receivers: 2, enough: true, severity: Note}},
		{name: "a pod evicted under drain.force without a controller does not come back: it needs no room",
			cu: 2, force: true, nodes: threeZones(nil),
			pods: []corev1.Pod{pod("solo", "a-1", unowned(), requests("2", "2Gi")), pod("web", "a-2", requests("1", "1Gi"))},
			cpu:  check{wave: []string{"a-1", "a-2"}, moving: "1", free: "12", receivers: 3, enough: true, severity: Note},
			mem:  check{wave: []string{"a-1", "a-2"}, moving: "1Gi", free: "24Gi", receivers: 3, enough: true, severity: Note}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompute(t, Input{ClusterUpgrade: newCU(maxUnavailable(tc.cu), func(cu *upgradev1alpha1.ClusterUpgrade) {
				cu.Spec.MaxFailedNodes, cu.Spec.Drain.Force = tc.failed, tc.force
			}), Nodes: tc.nodes, Pods: tc.pods,
				DaemonSets: []appsv1.DaemonSet{daemonSet("agent")}})
			if len(f.Capacity.Resources) != 2 {
				t.Fatalf("capacity = %+v", f.Capacity)
			}
			findings := findingsOf(f, KindCapacity)
			for i, want := range []check{tc.cpu, tc.mem} {
				got := f.Capacity.Resources[i]
				if !equal(got.Wave, want.wave) || got.Moving.Cmp(resource.MustParse(want.moving)) != 0 ||
					got.Free.Cmp(resource.MustParse(want.free)) != 0 || got.Receivers != want.receivers || got.Enough != want.enough {
					t.Fatalf("%s: got wave %v moving %s free %s receivers %d enough %v, want %+v",
						got.Resource, got.Wave, got.Moving.String(), got.Free.String(), got.Receivers, got.Enough, want)
				}
				if findings[i].Severity != want.severity {
					t.Fatalf("%s finding is a %s, want %s", got.Resource, findings[i].Severity, want.severity)
				}
				if want.messageSnippet != "" && !strings.Contains(findings[i].Message, want.messageSnippet) {
					t.Fatalf("%s message %q lacks %q", got.Resource, findings[i].Message, want.messageSnippet)
				}
			}
		})
	}
}

func TestCapacityWithNothingToDrain(t *testing.T) {
	nodes := threeZones(nil)
	for i := range nodes {
		nodes[i].Status.NodeInfo.KubeletVersion = target
	}
	f := mustCompute(t, Input{ClusterUpgrade: newCU(), Nodes: nodes, Pods: []corev1.Pod{pod("web", "a-1", requests("1", "1Gi"))}})
	if f.Capacity.WaveSize != 0 || len(f.Capacity.Resources) != 0 || len(findingsOf(f, KindCapacity)) != 0 {
		t.Fatalf("capacity = %+v, findings %+v", f.Capacity, f.Findings)
	}
}

func TestQuantity(t *testing.T) {
	for _, tc := range []struct {
		res  corev1.ResourceName
		q    string
		want string
	}{
		{corev1.ResourceCPU, "12", "12 CPU"},
		{corev1.ResourceCPU, "1500m", "1.5 CPU"},
		{corev1.ResourceCPU, "250m", "0.25 CPU"},
		{corev1.ResourceMemory, "8Gi", "8Gi"},
		{corev1.ResourceMemory, "1536Mi", "1.5Gi"},
		{corev1.ResourceMemory, "300Mi", "300Mi"},
		{corev1.ResourceMemory, "0", "0 bytes"},
	} {
		if got := quantity(tc.res, resource.MustParse(tc.q)); got != tc.want {
			t.Errorf("quantity(%s %s) = %q, want %q", tc.res, tc.q, got, tc.want)
		}
	}
}
