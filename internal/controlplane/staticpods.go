package controlplane

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// ComponentLabel is the label kubeadm puts on each of its static pods,
// naming the component it runs (kube-apiserver, etcd, ...).
const ComponentLabel = "component"

// The components kubeadm runs as static pods on a control-plane node, by
// the value of their ComponentLabel.
const (
	// KubeAPIServer is the API server's component.
	KubeAPIServer = "kube-apiserver"
	// KubeControllerManager is the controller manager's component.
	KubeControllerManager = "kube-controller-manager"
	// KubeScheduler is the scheduler's component.
	KubeScheduler = "kube-scheduler"
	// Etcd is stacked etcd's component.
	Etcd = "etcd"
)

// versionedComponents are the static pods that run the Kubernetes
// release's own images, tagged with its version; etcd's image follows
// etcd's versions, not Kubernetes'.
var versionedComponents = []string{KubeAPIServer, KubeControllerManager, KubeScheduler}

// StaticPods judges the static pods of a control-plane node once its
// upgrade to target (a Kubernetes version, v1.37.2) should be done. pods
// are those of namespace kube-system; StaticPods looks only at the mirror
// pods (annotation kubernetes.io/config.mirror) on node, and asks that
//
//   - every one of them is Running and Ready, and not being deleted;
//   - a kube-apiserver, a kube-controller-manager and a kube-scheduler pod
//     (label component) exist, and the container named for its component
//     (the only container, when none is) runs an image whose tag is
//     exactly target, as kubeadm writes it: registry.k8s.io/kube-apiserver:v1.37.2,
//     with or without a digest after it.
//
// With target "" (before the node's upgrade) any image will do.
//
// It returns nil when all holds, or an error that names the node and says,
// for each pod in the order of their names, what is wrong, such as
// "cp-1: kube-apiserver-cp-1 runs registry.k8s.io/kube-apiserver:v1.36.3, not v1.37.2".
func StaticPods(pods []corev1.Pod, node, target string) error {
	tag := kubeadmImageTag(target)
	mirrors := mirrorPods(pods, node)
	var problems []string
	found := map[string]bool{}
	for _, p := range mirrors {
		if msg := notRunningReady(p); msg != "" {
			problems = append(problems, msg)
		}
		component := p.Labels[ComponentLabel]
		if !slices.Contains(versionedComponents, component) {
			continue
		}
		found[component] = true
		if tag == "" {
			continue // before the upgrade: any version will do
		}
		if msg := wrongImage(p, component, tag); msg != "" {
			problems = append(problems, msg)
		}
	}
	for _, c := range versionedComponents {
		if !found[c] {
			problems = append(problems, fmt.Sprintf("no %s mirror pod (label %s=%s)", c, ComponentLabel, c))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", node, strings.Join(problems, "; "))
}

// mirrorPods returns the mirror pods among pods that run on node, sorted
// by name.
func mirrorPods(pods []corev1.Pod, node string) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror && p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// notRunningReady says, in words, why p is not Running and Ready, or
// returns "" when it is.
func notRunningReady(p *corev1.Pod) string {
	switch {
	case p.DeletionTimestamp != nil:
		return fmt.Sprintf("%s is being deleted", p.Name)
	case p.Status.Phase != corev1.PodRunning:
		phase := string(p.Status.Phase)
		if phase == "" {
			phase = "in no phase yet"
		}
		return fmt.Sprintf("%s is %s, not Running%s", p.Name, phase, containerTrouble(p))
	case !podutils.IsPodReady(p):
		return fmt.Sprintf("%s is not Ready%s", p.Name, containerTrouble(p))
	}
	return ""
}

// containerTrouble names the first container of p that is not ready and
// why, as ": container kube-apiserver is waiting (CrashLoopBackOff)", or
// returns "" when the statuses say nothing more.
func containerTrouble(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Ready {
			continue
		}
		switch s := cs.State; {
		case s.Waiting != nil && s.Waiting.Reason != "":
			return fmt.Sprintf(": container %s is waiting (%s)", cs.Name, s.Waiting.Reason)
		case s.Terminated != nil:
			return fmt.Sprintf(": container %s has terminated (%s, exit code %d)", cs.Name, s.Terminated.Reason, s.Terminated.ExitCode)
		default:
			return fmt.Sprintf(": container %s is not ready", cs.Name)
		}
	}
	return ""
}

// wrongImage says what is wrong with the image of the container of p that
// runs component, or returns "" when its tag is tag.
func wrongImage(p *corev1.Pod, component, tag string) string {
	c := componentContainer(p, component)
	if c == nil {
		return fmt.Sprintf("%s has no container named %s", p.Name, component)
	}
	named, err := reference.ParseNormalizedNamed(c.Image)
	if err != nil {
		return fmt.Sprintf("%s runs %q, which is not an image reference (%v)", p.Name, c.Image, err)
	}
	tagged, ok := named.(reference.Tagged)
	switch {
	case !ok:
		return fmt.Sprintf("%s runs %s, which has no tag, not %s", p.Name, c.Image, tag)
	case tagged.Tag() != tag:
		return fmt.Sprintf("%s runs %s, not %s", p.Name, c.Image, tag)
	}
	return ""
}

// componentContainer is the container of p named component, as kubeadm
// names it, or the pod's only container.
func componentContainer(p *corev1.Pod, component string) *corev1.Container {
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == component {
			return &p.Spec.Containers[i]
		}
	}
	if len(p.Spec.Containers) == 1 {
		return &p.Spec.Containers[0]
	}
	return nil
}

// notInImageTag is what kubeadm replaces by "_" when it turns a Kubernetes
// version into an image tag (KubernetesVersionToImageTag in
// cmd/kubeadm/app/util/version.go): v1.37.2+build is tagged v1.37.2_build.
var notInImageTag = regexp.MustCompile(`[^-\w.]`)

// kubeadmImageTag is the tag kubeadm gives the images of Kubernetes
// version v.
func kubeadmImageTag(v string) string {
	return notInImageTag.ReplaceAllString(v, "_")
}
