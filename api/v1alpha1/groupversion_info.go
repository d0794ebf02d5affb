// Package v1alpha1 holds the ClusterUpgrade API of nodewave: one
// cluster-scoped object that asks the operator to bring the kubelet of a set
// of worker nodes to a target version, node by node or many at once.
//
// +kubebuilder:object:generate=true
// +groupName=upgrade.nodewave.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "upgrade.nodewave.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers ClusterUpgrade and its list kind under GroupVersion.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &ClusterUpgrade{}, &ClusterUpgradeList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
