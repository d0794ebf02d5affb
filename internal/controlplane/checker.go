package controlplane

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Checker makes the checks of a control-plane node against a live cluster:
// the controller's ControlPlaneChecker. It reads kube-system's pods
// straight from the API server (the manager caches no pods), and reaches
// the node's API server and etcd with the manager's own credentials.
type Checker struct {
	// Config is the manager's client configuration.
	Config *rest.Config
	// Client reads kube-system's pods and runs etcdctl through pods/exec.
	Client kubernetes.Interface
}

// Check returns nil when node passes every check, or an error that says
// what did not, check by check:
//
//   - its static pods (StaticPods; with target "", before its upgrade,
//     any version will do);
//   - its API server (APIServerReady at APIServerEndpoint);
//   - etcd with full quorum (EtcdQuorum over etcdctl's endpoint health and
//     status, run in the node's own etcd pod, or another Running one when
//     it has none), expecting one member per etcd pod. A cluster without
//     any etcd pod in kube-system uses an external etcd, which nodewave
//     does not check (docs/user-guide.md says so).
func (c *Checker) Check(ctx context.Context, node *corev1.Node, target string) error {
	list, err := c.Client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("cannot list the pods of %s: %w", metav1.NamespaceSystem, err)
	}
	pods := list.Items
	var problems []error
	if err := StaticPods(pods, node.Name, target); err != nil {
		problems = append(problems, err)
	}
	if err := APIServerReady(ctx, c.Config, APIServerEndpoint(pods, node.Name, internalIP(node))); err != nil {
		problems = append(problems, err)
	}
	if err := c.etcdQuorum(ctx, pods, node.Name); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

// etcdQuorum checks etcd's quorum from inside one of its pods.
func (c *Checker) etcdQuorum(ctx context.Context, pods []corev1.Pod, node string) error {
	etcds := componentPods(pods, Etcd)
	if len(etcds) == 0 {
		return nil // an external etcd: not nodewave's to check
	}
	var in *corev1.Pod
	for _, p := range etcds {
		if notRunningReady(p) != "" {
			continue
		}
		if in == nil || p.Spec.NodeName == node {
			in = p
		}
	}
	if in == nil {
		return fmt.Errorf("etcd: none of its %d pods is Running and Ready to run etcdctl in", len(etcds))
	}
	// etcdctl exits non-zero when a member is down but still prints what
	// it found: judge the output, and keep the error only when there is
	// none.
	healthOut, healthErr := EtcdExec(ctx, c.Config, c.Client, in, EtcdHealthArgs()...)
	statusOut, statusErr := EtcdExec(ctx, c.Config, c.Client, in, EtcdStatusArgs()...)
	health, err := ParseEtcdHealth(healthOut)
	if err != nil {
		return errors.Join(fmt.Errorf("etcd: %w", err), healthErr)
	}
	status, err := ParseEtcdStatus(statusOut)
	if err != nil {
		return errors.Join(fmt.Errorf("etcd: %w", err), statusErr)
	}
	_, err = EtcdQuorum(health, status, len(etcds))
	return err
}

// componentPods are the mirror pods of component (by its label), on any node.
func componentPods(pods []corev1.Pod, component string) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror && p.Labels[ComponentLabel] == component {
			out = append(out, p)
		}
	}
	return out
}

// internalIP is the node's first InternalIP address, or "".
func internalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}
