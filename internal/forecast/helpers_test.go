package forecast

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// The test world: kubelets at v1.36.3, upgraded to v1.37.2.
const (
	oldVersion = "v1.36.3"
	target     = "v1.37.2"
)

// cuOpt shapes a test ClusterUpgrade.
type cuOpt func(*upgradev1alpha1.ClusterUpgrade)

func newCU(opts ...cuOpt) *upgradev1alpha1.ClusterUpgrade {
	cu := &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: "workers"},
		Spec:       upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: target},
	}
	for _, o := range opts {
		o(cu)
	}
	return cu
}

func concurrent(v intstr.IntOrString) cuOpt {
	return func(cu *upgradev1alpha1.ClusterUpgrade) {
		cu.Spec.Strategy = upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: &v}
	}
}

func maxUnavailable(n int32) cuOpt { return concurrent(intstr.FromInt32(n)) }

// nodeOpt shapes a test node.
type nodeOpt func(*corev1.Node)

// node is a Ready, schedulable worker at oldVersion in zone, with 4 CPU
// and 8Gi allocatable.
func node(name, zone string, opts ...nodeOpt) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{upgradev1alpha1.ZoneLabel: zone}},
		Status: corev1.NodeStatus{
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: oldVersion},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
		},
	}
	for _, o := range opts {
		o(&n)
	}
	return n
}

func notReady() nodeOpt {
	return func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }
}

func cordoned() nodeOpt { return func(n *corev1.Node) { n.Spec.Unschedulable = true } }

func kubelet(v string) nodeOpt {
	return func(n *corev1.Node) { n.Status.NodeInfo.KubeletVersion = v }
}

// state puts the node in a nodewave state of the ClusterUpgrade cu;
// in-flight and failed states cordon it, as nodewave does.
func state(cu string, s upgradev1alpha1.NodeState) nodeOpt {
	return func(n *corev1.Node) {
		n.Labels[upgradev1alpha1.NodeStateLabel] = string(s)
		n.Annotations = map[string]string{upgradev1alpha1.ClusterUpgradeAnnotation: cu}
		if s != upgradev1alpha1.NodeUpgraded {
			n.Spec.Unschedulable = true
		}
	}
}

func allocatable(cpu, mem string) nodeOpt {
	return func(n *corev1.Node) {
		n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
	}
}

// podOpt shapes a test pod.
type podOpt func(*corev1.Pod)

// pod is a Running pod of a ReplicaSet in ns "shop", labelled app=name, on
// node, requesting nothing unless an option says so.
func pod(name, node string, opts ...podOpt) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{"app": name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + name, Controller: ptr.To(true)}}},
		Spec:   corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "example.com/app:v1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// web makes the pod one of the web app's (app=web).
func web() podOpt { return func(p *corev1.Pod) { p.Labels["app"] = "web" } }

func inNamespace(ns string) podOpt { return func(p *corev1.Pod) { p.Namespace = ns } }

func requests(cpu, mem string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
	}
}

func unowned() podOpt { return func(p *corev1.Pod) { p.OwnerReferences = nil } }

func ownedByDaemonSet(name string) podOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: name, Controller: ptr.To(true)}}
	}
}

func withEmptyDir() podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	}
}

func succeeded() podOpt { return func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded } }

// pdb is a PodDisruptionBudget in ns "shop" over app=a that allows
// `allowed` disruptions now.
func pdb(name, a string, allowed int32) policyv1.PodDisruptionBudget {
	return policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": a}}},
		Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed, CurrentHealthy: 2, DesiredHealthy: 2},
	}
}

func daemonSet(name string) appsv1.DaemonSet {
	return appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}}
}

// mustCompute is Compute that fails the test on an error.
func mustCompute(t *testing.T, in Input) Forecast {
	t.Helper()
	f, err := Compute(in)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return f
}

// waveNodes are the nodes of each wave.
func waveNodes(f Forecast) [][]string {
	if len(f.Waves) == 0 {
		return nil
	}
	out := make([][]string, 0, len(f.Waves))
	for _, w := range f.Waves {
		out = append(out, w.Nodes)
	}
	return out
}

// findingsOf are the findings of kind.
func findingsOf(f Forecast, kind string) []Finding {
	var out []Finding
	for _, x := range f.Findings {
		if x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
