package forecast

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Input is the world as a gatherer read it.
type Input struct {
	// ClusterUpgrade is the object to forecast, applied or not (read from a
	// file). One that is not applied has no creation timestamp.
	ClusterUpgrade *upgradev1alpha1.ClusterUpgrade
	// Nodes are the nodes the ClusterUpgrade selects (see Selector) and,
	// with spec.controlPlane, its control-plane nodes (see
	// ControlPlaneSelector), each once.
	Nodes []corev1.Node
	// Pods are the pods bound to those nodes.
	Pods []corev1.Pod
	// PodDisruptionBudgets are the budgets of the namespaces of Pods (or of
	// every namespace).
	PodDisruptionBudgets []policyv1.PodDisruptionBudget
	// DaemonSets are the DaemonSets that exist, of the namespaces of Pods
	// (or of every namespace); only their namespace and name are read.
	DaemonSets []appsv1.DaemonSet
	// ClusterUpgrades are the ClusterUpgrades in the cluster, for the
	// conflict check; the forecast one may be among them.
	ClusterUpgrades []upgradev1alpha1.ClusterUpgrade
	// ServerVersion is the API server's version (its gitVersion), for the
	// version-skew check; "" skips the check.
	ServerVersion string
	// Now is the time the maintenance window is judged at; zero skips it.
	Now time.Time
	// Waves is how many waves Forecast.Waves lists; 0 lists them all.
	// TotalWaves counts them all either way.
	Waves int
}
