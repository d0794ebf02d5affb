package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type nodeOpt func(*corev1.Node)

func testNode(name, zone, kubelet string, opts ...nodeOpt) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{upgradev1alpha1.ZoneLabel: zone}, Annotations: map[string]string{}},
		Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: kubelet},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(&n)
	}
	return n
}

// inState puts the node in state for ClusterUpgrade cu since ago.
func inState(cu string, s upgradev1alpha1.NodeState, ago time.Duration) nodeOpt {
	return func(n *corev1.Node) {
		n.Labels[upgradev1alpha1.NodeStateLabel] = string(s)
		n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] = cu
		n.Annotations[upgradev1alpha1.StateSinceAnnotation] = now.Add(-ago).Format(time.RFC3339)
		n.Spec.Unschedulable = s != upgradev1alpha1.NodeUpgraded
	}
}

func TestBuildStatus(t *testing.T) {
	mu := intstr.FromString("50%")
	cu := &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: "workers"},
		Spec: upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: "v1.37.2",
			Strategy: upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: &mu}},
		Status: upgradev1alpha1.ClusterUpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing,
			InProgress: []upgradev1alpha1.NodeProgress{{Name: "a-2", State: upgradev1alpha1.NodeDraining, Message: "1 pod blocked by PodDisruptionBudget shop/web"}},
			Failed:     []upgradev1alpha1.NodeFailure{{Name: "b-1", Reason: "JobFailed", Message: "upgrade Job failed: BackoffLimitExceeded"}},
			Blocked:    []upgradev1alpha1.NodeFailure{{Name: "c-2", Reason: "DrainTimeout", Message: "not drained within drain.timeout 10m0s"}},
		},
	}
	nodes := []corev1.Node{
		testNode("c-1", "zone-c", "v1.36.3", func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }),
		testNode("b-2", "zone-b", "v1.36.3", inState("workers", upgradev1alpha1.NodeFailed, time.Hour), func(n *corev1.Node) {
			n.Annotations[upgradev1alpha1.FailureAnnotation] = "UpgradeTimeout: not Ready at the target within upgrade.timeout 30m0s"
		}),
		testNode("b-1", "zone-b", "v1.36.3", inState("workers", upgradev1alpha1.NodeFailed, 2*time.Hour)),
		testNode("a-3", "zone-a", "v1.38.0"),
		testNode("a-2", "zone-a", "v1.36.3", inState("workers", upgradev1alpha1.NodeDraining, 90*time.Second)),
		testNode("a-1", "zone-a", "v1.37.2", inState("workers", upgradev1alpha1.NodeUpgraded, 10*time.Minute)),
		testNode("a-0", "zone-a", "v1.37.2"),
		testNode("c-2", "zone-c", "v1.36.3", inState("workers", upgradev1alpha1.NodeBlocked, 30*time.Minute)),
		testNode("d-1", "zone-d", "v1.36.3", inState("other", upgradev1alpha1.NodeUpgrading, time.Minute)),
		testNode("d-2", "zone-d", "v1.36.3", func(n *corev1.Node) { n.Spec.Unschedulable = true }),
	}
	r, err := buildStatus(cu, nodes)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printStatus(&out, r, statusTable{}, now); err != nil {
		t.Fatal(err)
	}
	want := `NODE   ZONE     STATE      KUBELET   SINCE   MESSAGE
a-0    zone-a   upgraded   v1.37.2   -       already at the target: never touched
a-1    zone-a   upgraded   v1.37.2   10m     
a-2    zone-a   draining   v1.36.3   90s     1 pod blocked by PodDisruptionBudget shop/web
a-3    zone-a   skipped    v1.38.0   -       kubelet newer than the target: never downgraded
b-1    zone-b   failed     v1.36.3   120m    JobFailed: upgrade Job failed: BackoffLimitExceeded
b-2    zone-b   failed     v1.36.3   60m     UpgradeTimeout: not Ready at the target within upgrade.timeout 30m0s
c-1    zone-c   pending    v1.36.3   -       NotReady: not started while NotReady
c-2    zone-c   blocked    v1.36.3   30m     DrainTimeout: not drained within drain.timeout 10m0s
d-1    zone-d   pending    v1.36.3   -       upgrading for ClusterUpgrade other
d-2    zone-d   pending    v1.36.3   -       cordoned by someone else: it will stay cordoned after its upgrade

ClusterUpgrade workers: Progressing, target v1.37.2, Concurrent, maxUnavailable 50% (5 nodes): 2 upgraded, 1 in flight, 3 pending, 2 failed, 1 blocked, 1 skipped of 10 nodes
`
	if got := out.String(); got != want {
		t.Fatalf("status:\n%s\nwant:\n%s", got, want)
	}
}

func TestBuildStatusWide(t *testing.T) {
	cu := &upgradev1alpha1.ClusterUpgrade{ObjectMeta: metav1.ObjectMeta{Name: "w"}, Spec: upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: "v1.37.2"}}
	n := testNode("a-1", "", "v1.36.3", inState("w", upgradev1alpha1.NodeUpgrading, 3*time.Minute),
		func(n *corev1.Node) { n.Annotations[upgradev1alpha1.TargetVersionAnnotation] = "v1.37.2" })
	r, err := buildStatus(cu, []corev1.Node{n})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printStatus(&out, r, statusTable{wide: true}, now); err != nil {
		t.Fatal(err)
	}
	want := "NODE   ZONE   STATE       KUBELET   SINCE   READY   CORDONED   TARGET    MESSAGE\n" +
		"a-1    -      upgrading   v1.36.3   3m      true    true       v1.37.2   \n\n" +
		"ClusterUpgrade w: not reconciled yet, target v1.37.2, Sequential: 0 upgraded, 1 in flight, 0 pending, 0 failed, 0 skipped of 1 node\n"
	if out.String() != want {
		t.Fatalf("wide status:\n%q\nwant\n%q", out.String(), want)
	}

	out.Reset()
	if err := printStatus(&out, r, statusTable{wide: true, noHeaders: true}, now); err != nil {
		t.Fatal(err)
	}
	if want := "a-1   -     upgrading   v1.36.3   3m    true   true   v1.37.2   \n"; out.String() != want {
		t.Fatalf("wide status without headers:\n%q\nwant\n%q", out.String(), want)
	}
}

func TestBuildStatusRefusesAnUnreadableSpec(t *testing.T) {
	cu := &upgradev1alpha1.ClusterUpgrade{Spec: upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: "latest"}}
	if _, err := buildStatus(cu, nil); err == nil || !strings.HasPrefix(err.Error(), "spec.targetVersion: ") {
		t.Fatalf("error = %v", err)
	}
}
