package controlplane

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	target     = "v1.37.2"
	testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// staticPod is a kubeadm mirror pod of component on node, Running and
// Ready, whose one container, named for the component, runs image.
func staticPod(component, node, image string, opts ...func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        component + "-" + node,
			Namespace:   "kube-system",
			Labels:      map[string]string{ComponentLabel: component, "tier": "control-plane"},
			Annotations: map[string]string{corev1.MirrorPodAnnotationKey: "0123abcd"},
		},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: component, Image: image}},
		},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: component, Ready: true}},
		},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// controlPlane is a node's four kubeadm mirror pods at version.
func controlPlane(node, version string) []corev1.Pod {
	return []corev1.Pod{
		staticPod(Etcd, node, "registry.k8s.io/etcd:3.6.16-0"),
		staticPod(KubeAPIServer, node, "registry.k8s.io/kube-apiserver:"+version),
		staticPod(KubeControllerManager, node, "registry.k8s.io/kube-controller-manager:"+version),
		staticPod(KubeScheduler, node, "registry.k8s.io/kube-scheduler:"+version),
	}
}

// with replaces, in pods, the pod named name by p's result.
func with(pods []corev1.Pod, name string, change func(*corev1.Pod)) []corev1.Pod {
	out := make([]corev1.Pod, 0, len(pods))
	for _, p := range pods {
		p = *p.DeepCopy()
		if p.Name == name {
			change(&p)
		}
		out = append(out, p)
	}
	return out
}

func image(img string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Image = img }
}

func notReady(p *corev1.Pod) {
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	p.Status.ContainerStatuses[0].Ready = false
	p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
}

func TestStaticPods(t *testing.T) {
	upgraded := controlPlane("cp-1", target)
	// Another node's not-ready, old pods never count against cp-1.
	otherNodeBehind := append(with(controlPlane("cp-2", "v1.36.3"), "etcd-cp-2", notReady), upgraded...)
	tests := []struct {
		name string
		pods []corev1.Pod
		// want are the substrings the error must hold, in order; none for
		// no error.
		want []string
	}{
		{"upgraded node", upgraded, nil},
		{"other nodes' pods are not judged", otherNodeBehind, nil},
		{"node not upgraded yet", controlPlane("cp-1", "v1.36.3"), []string{
			"cp-1: kube-apiserver-cp-1 runs registry.k8s.io/kube-apiserver:v1.36.3, not v1.37.2",
			"kube-controller-manager-cp-1 runs registry.k8s.io/kube-controller-manager:v1.36.3, not v1.37.2",
			"kube-scheduler-cp-1 runs registry.k8s.io/kube-scheduler:v1.36.3, not v1.37.2"}},
		{"one component behind", with(upgraded, "kube-scheduler-cp-1", image("registry.k8s.io/kube-scheduler:v1.36.3")),
			[]string{"cp-1: kube-scheduler-cp-1 runs registry.k8s.io/kube-scheduler:v1.36.3, not v1.37.2"}},
		{"tag is compared exactly, not as a prefix",
			with(upgraded, "kube-apiserver-cp-1", image("registry.k8s.io/kube-apiserver:v1.37.2-rc.0")),
			[]string{"kube-apiserver-cp-1 runs registry.k8s.io/kube-apiserver:v1.37.2-rc.0, not v1.37.2"}},
		{"target is not a substring match either",
			with(upgraded, "kube-apiserver-cp-1", image("registry.k8s.io/kube-apiserver:v1.37.20")),
			[]string{"kube-apiserver-cp-1 runs registry.k8s.io/kube-apiserver:v1.37.20, not v1.37.2"}},
		{"digest after the tag", with(upgraded, "kube-apiserver-cp-1", image("registry.k8s.io/kube-apiserver:v1.37.2@"+testDigest)), nil},
		{"digest after an old tag",
			with(upgraded, "kube-apiserver-cp-1", image("registry.k8s.io/kube-apiserver:v1.36.3@"+testDigest)),
			[]string{"kube-apiserver-cp-1 runs registry.k8s.io/kube-apiserver:v1.36.3@" + testDigest + ", not v1.37.2"}},
		{"digest without tag",
			with(upgraded, "kube-apiserver-cp-1", image("registry.k8s.io/kube-apiserver@"+testDigest)),
			[]string{"kube-apiserver-cp-1 runs registry.k8s.io/kube-apiserver@" + testDigest + ", which has no tag, not v1.37.2"}},
		{"registry with a port", with(upgraded, "kube-apiserver-cp-1", image("registry.example.com:5000/k8s/kube-apiserver:v1.37.2")), nil},
		{"registry with a port, old tag",
			with(upgraded, "kube-apiserver-cp-1", image("registry.example.com:5000/kube-apiserver:v1.36.3")),
			[]string{"kube-apiserver-cp-1 runs registry.example.com:5000/kube-apiserver:v1.36.3, not v1.37.2"}},
		{"registry with a port and no tag is not tagged with the port",
			with(upgraded, "kube-apiserver-cp-1", image("localhost:5000/kube-apiserver")),
			[]string{"kube-apiserver-cp-1 runs localhost:5000/kube-apiserver, which has no tag, not v1.37.2"}},
		{"invalid image",
			with(upgraded, "kube-apiserver-cp-1", image("registry.k8s.io/Kube-APIServer:v1.37.2")),
			[]string{"kube-apiserver-cp-1 runs \"registry.k8s.io/Kube-APIServer:v1.37.2\", which is not an image reference"}},
		{"the component's container decides, not a sidecar",
			with(upgraded, "kube-apiserver-cp-1", func(p *corev1.Pod) {
				p.Spec.Containers = append([]corev1.Container{{Name: "audit-shipper", Image: "example.com/shipper:v1.37.2"}},
					corev1.Container{Name: KubeAPIServer, Image: "registry.k8s.io/kube-apiserver:v1.36.3"})
			}),
			[]string{"kube-apiserver-cp-1 runs registry.k8s.io/kube-apiserver:v1.36.3, not v1.37.2"}},
		{"several containers, none named for the component",
			with(upgraded, "kube-apiserver-cp-1", func(p *corev1.Pod) {
				p.Spec.Containers = []corev1.Container{{Name: "a", Image: "x:v1.37.2"}, {Name: "b", Image: "y:v1.37.2"}}
			}),
			[]string{"kube-apiserver-cp-1 has no container named kube-apiserver"}},
		{"one container named otherwise is the component's",
			with(upgraded, "kube-apiserver-cp-1", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "apiserver" }), nil},
		{"etcd's image is not Kubernetes' version", with(upgraded, "etcd-cp-1", image("registry.k8s.io/etcd:3.7.0-0")), nil},
		{"missing scheduler", upgraded[:3], []string{"cp-1: no kube-scheduler mirror pod (label component=kube-scheduler)"}},
		{"a component pod that is not a mirror pod does not count",
			with(upgraded, "kube-scheduler-cp-1", func(p *corev1.Pod) { delete(p.Annotations, corev1.MirrorPodAnnotationKey) }),
			[]string{"cp-1: no kube-scheduler mirror pod"}},
		{"no pods at all", nil, []string{
			"cp-1: no kube-apiserver mirror pod", "no kube-controller-manager mirror pod", "no kube-scheduler mirror pod"}},
		{"etcd not ready", with(upgraded, "etcd-cp-1", notReady),
			[]string{"cp-1: etcd-cp-1 is not Ready: container etcd is waiting (CrashLoopBackOff)"}},
		{"API server pending",
			with(upgraded, "kube-apiserver-cp-1", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
			[]string{"cp-1: kube-apiserver-cp-1 is Pending, not Running"}},
		{"no Ready condition yet",
			with(upgraded, "kube-controller-manager-cp-1", func(p *corev1.Pod) { p.Status.Conditions = nil }),
			[]string{"cp-1: kube-controller-manager-cp-1 is not Ready"}},
		{"container terminated",
			with(upgraded, "kube-scheduler-cp-1", func(p *corev1.Pod) {
				notReady(p)
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{
					Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}}
			}),
			[]string{"kube-scheduler-cp-1 is not Ready: container kube-scheduler has terminated (Error, exit code 1)"}},
		{"being deleted",
			with(upgraded, "kube-apiserver-cp-1", func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} }),
			[]string{"cp-1: kube-apiserver-cp-1 is being deleted"}},
		{"another mirror pod on the node not ready",
			append(slices.Clone(upgraded), staticPod("haproxy", "cp-1", "haproxy:2.9", notReady)),
			[]string{"cp-1: haproxy-cp-1 is not Ready"}},
		{"a regular pod on the node is not judged",
			append(slices.Clone(upgraded), staticPod("coredns", "cp-1", "coredns:1", notReady,
				func(p *corev1.Pod) { p.Annotations = nil })),
			nil},
		{"not ready and old: both said, in the order of pod names",
			with(with(upgraded, "kube-scheduler-cp-1", image("registry.k8s.io/kube-scheduler:v1.36.3")), "etcd-cp-1", notReady),
			[]string{"cp-1: etcd-cp-1 is not Ready", "; kube-scheduler-cp-1 runs registry.k8s.io/kube-scheduler:v1.36.3, not v1.37.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := StaticPods(tt.pods, "cp-1", target)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("StaticPods: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("StaticPods: nil, want an error saying %q", tt.want)
			}
			msg, rest := err.Error(), err.Error()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("StaticPods: %q\ndoes not say %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// An image tag cannot hold a "+": kubeadm tags v1.37.2+vendor.1's images
// v1.37.2_vendor.1, and StaticPods expects what kubeadm writes.
func TestStaticPodsVersionWithBuildMetadata(t *testing.T) {
	const v = "v1.37.2+vendor.1"
	if err := StaticPods(controlPlane("cp-1", "v1.37.2_vendor.1"), "cp-1", v); err != nil {
		t.Errorf("StaticPods(%s) on images tagged v1.37.2_vendor.1: %v", v, err)
	}
	if err := StaticPods(controlPlane("cp-1", "v1.37.2"), "cp-1", v); err == nil {
		t.Errorf("StaticPods(%s) on images tagged v1.37.2: nil, want an error", v)
	}
}

// Before a node's upgrade (target ""), its static pods must run, at any
// version; one that is not Ready still fails it.
func TestStaticPodsBeforeTheUpgrade(t *testing.T) {
	pods := controlPlane("cp-1", "v1.36.3")
	if err := StaticPods(pods, "cp-1", ""); err != nil {
		t.Errorf("StaticPods before the upgrade on v1.36.3 pods: %v, want nil", err)
	}
	pods = with(pods, "kube-scheduler-cp-1", notReady)
	if err := StaticPods(pods, "cp-1", ""); err == nil || !strings.Contains(err.Error(), "kube-scheduler-cp-1") {
		t.Errorf("StaticPods before the upgrade with kube-scheduler not Ready: %v, want an error naming it", err)
	}
}
