package controller

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// CacheOptions keep the manager's memory independent of the cluster's size
// beyond its nodes: Nodes are cached without managedFields, status.images
// (the largest parts of a Node) and the parts of their status nodewave
// never reads (see stripNode), Jobs only in jobNamespace
// and only nodewave's, and Pods never (drain.Passes watches the pods of
// each draining node alone).
func CacheOptions(jobNamespace string) cache.Options {
	hasCU, err := labels.NewRequirement(upgradev1alpha1.JobClusterUpgradeLabel, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant requirement: cannot fail
	}
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Node{}: {Transform: stripNode},
			&batchv1.Job{}: {
				Namespaces: map[string]cache.Config{jobNamespace: {}},
				Label:      labels.NewSelector().Add(*hasCU),
			},
		},
	}
}

// stripNode drops what nodewave never reads from a cached Node: of its
// status it keeps the conditions, the addresses and nodeInfo. At 5,000
// nodes the capacity and allocatable maps alone were about 5 MB of the
// cache. Nodewave never updates a whole Node (its writes are patches of
// what it changed), so nothing stripped here is written back.
func stripNode(obj any) (any, error) {
	if n, ok := obj.(*corev1.Node); ok {
		n.ManagedFields = nil
		n.Status = corev1.NodeStatus{
			Phase:      n.Status.Phase,
			Conditions: n.Status.Conditions,
			Addresses:  n.Status.Addresses,
			NodeInfo:   n.Status.NodeInfo,
		}
	}
	return obj, nil
}

// DiscoveryServerVersion returns a ServerVersionFunc that asks the API
// server's /version endpoint.
func DiscoveryServerVersion(cfg *rest.Config) (ServerVersionFunc, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return func() (string, error) {
		info, err := dc.ServerVersion()
		if err != nil {
			return "", err
		}
		return info.GitVersion, nil
	}, nil
}
