// Package v1alpha1 holds the ClusterUpgrade API of nodewave: one
// cluster-scoped object that asks the operator to bring the kubelet of a set
// of worker nodes to a target version, node by node or many at once.
//
// +kubebuilder:object:generate=true
// +groupName=upgrade.nodewave.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "upgrade.nodewave.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
