// Package drainspec turns a ClusterUpgrade's spec.drain into the options
// of a drain (drainpolicy.Options): one conversion, used where the
// controller asks for drain passes and where the kubectl plugin's
// forecast judges pods, so that the two read the spec alike.
package drainspec

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy"
)

// Options are the drain options spec asks for, its defaults filled in
// (deleteEmptyDirData true, a rule's behavior Drain and order 0), as an
// object that never went through the API server has none.
func Options(spec upgradev1alpha1.DrainSpec) drainpolicy.Options {
	opts := drainpolicy.Options{
		GracePeriodSeconds: spec.GracePeriodSeconds,
		DeleteEmptyDirData: spec.DeleteEmptyDirData == nil || *spec.DeleteEmptyDirData,
		Force:              spec.Force,
	}
	for i := range spec.Rules {
		opts.Rules = append(opts.Rules, rule(&spec.Rules[i]))
	}
	return opts
}

// rule resolves one drain rule: its selector parsed once, for every pod
// of every pass. A selector that does not parse is kept as the reason the
// rule blocks the pods it comes to.
func rule(r *upgradev1alpha1.DrainRule) drainpolicy.Rule {
	out := drainpolicy.Rule{
		Name:       r.Name,
		Namespaces: slices.Clone(r.Namespaces),
		Behavior:   drainpolicy.Behavior(r.Behavior),
		Order:      ptr.Deref(r.Order, 0),
	}
	if out.Behavior == "" {
		out.Behavior = drainpolicy.BehaviorDrain
	}
	if r.PodSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(r.PodSelector.LabelSelector())
		if err != nil {
			out.Invalid = err.Error()
		} else {
			out.Pods = sel
		}
	}
	return out
}
