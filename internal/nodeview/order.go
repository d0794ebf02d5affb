package nodeview

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Zone is node n's zone within cu: the value of its
// spec.strategy.zones.topologyKey label (topology.kubernetes.io/zone by
// default), "" without one.
func Zone(n *corev1.Node, cu *upgradev1alpha1.ClusterUpgrade) string {
	key := upgradev1alpha1.ZoneLabel
	if z := cu.Spec.Strategy.Zones; z != nil && z.TopologyKey != "" {
		key = z.TopologyKey
	}
	return n.Labels[key]
}

// Priority is node n's priority within cu (spec.priority): the integer in
// its label or annotation, 0 without spec.priority or without the key on
// the node. A value that is not an integer is an error naming the node.
func Priority(n *corev1.Node, cu *upgradev1alpha1.ClusterUpgrade) (int, error) {
	p := cu.Spec.Priority
	if p == nil {
		return 0, nil
	}
	values, key, where := n.Labels, p.Label, "label"
	if key == "" {
		values, key, where = n.Annotations, p.Annotation, "annotation"
	}
	value, ok := values[key]
	if !ok {
		return 0, nil
	}
	v, err := strconv.ParseInt(value, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("node %s: its %s %s is %q, not an integer", n.Name, where, key, value)
	}
	return int(v), nil
}
