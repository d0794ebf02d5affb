package drain

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// passClient is the clientset a pass gives kubectl's drain helper, which
// reads through its Client: its pod List answers from the watch of the
// node's pods (when pods is set), and its DaemonSet GETs from what
// daemonSets remembers. Everything else goes to the API server.
type passClient struct {
	kubernetes.Interface
	pods       *nodePods // nil: pods are listed live
	daemonSets *daemonSets
}

func (c passClient) CoreV1() corev1client.CoreV1Interface {
	if c.pods == nil {
		return c.Interface.CoreV1()
	}
	return watchedCoreV1{CoreV1Interface: c.Interface.CoreV1(), pods: c.pods}
}

func (c passClient) AppsV1() appsv1client.AppsV1Interface {
	return rememberingAppsV1{AppsV1Interface: c.Interface.AppsV1(), memory: c.daemonSets}
}

type watchedCoreV1 struct {
	corev1client.CoreV1Interface
	pods *nodePods
}

func (c watchedCoreV1) Pods(namespace string) corev1client.PodInterface {
	return watchedPods{PodInterface: c.CoreV1Interface.Pods(namespace), pods: c.pods}
}

type watchedPods struct {
	corev1client.PodInterface
	pods *nodePods
}

// List ignores its options: kubectl's helper asks for exactly the watched
// node's pods, in every namespace, with no label selector.
func (p watchedPods) List(context.Context, metav1.ListOptions) (*corev1.PodList, error) {
	return p.pods.list(), nil
}

type rememberingAppsV1 struct {
	appsv1client.AppsV1Interface
	memory *daemonSets
}

func (c rememberingAppsV1) DaemonSets(namespace string) appsv1client.DaemonSetInterface {
	return rememberedDaemonSets{DaemonSetInterface: c.AppsV1Interface.DaemonSets(namespace), namespace: namespace, memory: c.memory}
}

type rememberedDaemonSets struct {
	appsv1client.DaemonSetInterface
	namespace string
	memory    *daemonSets
}

func (d rememberedDaemonSets) Get(ctx context.Context, name string, opts metav1.GetOptions) (*appsv1.DaemonSet, error) {
	return d.memory.get(ctx, d.DaemonSetInterface, d.namespace, name, opts)
}
