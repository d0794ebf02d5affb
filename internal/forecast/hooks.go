package forecast

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/plan"
)

// namedNodes is how many nodes a hook's words name before "and N more".
const namedNodes = 3

// hookWords say, one line each, the hook annotations on nodes: which hook
// holds which nodes at which point, in the order a node meets them (its
// pre-drain hooks, then its post-upgrade ones), each hook by name.
func hookWords(nodes []corev1.Node) []string {
	words := append(hookWordsAt(nodes, plan.PreDrain, upgradev1alpha1.PreDrainHookPrefix),
		hookWordsAt(nodes, plan.PostUpgrade, upgradev1alpha1.PostUpgradeHookPrefix)...)
	if len(words) == 0 {
		return nil // no hook: nothing to say
	}
	return words
}

// hookJobWords say, one line each, the hook Jobs of spec.hooks.
func hookJobWords(cu *upgradev1alpha1.ClusterUpgrade) []string {
	h := cu.Spec.Hooks
	if h == nil {
		return nil
	}
	var words []string
	for _, j := range []struct {
		field, when string
		spec        *upgradev1alpha1.HookJob
	}{
		{"spec.hooks.preDrain", "before each node's drain", h.PreDrain},
		{"spec.hooks.postUpgrade", "before each node's uncordon", h.PostUpgrade},
	} {
		if j.spec == nil {
			continue
		}
		policy := cmp.Or(j.spec.FailurePolicy, upgradev1alpha1.HookFail)
		words = append(words, fmt.Sprintf("%s runs a Job %s (timeout %s, failurePolicy %s)", j.field, j.when, j.spec.HookTimeout(), policy))
	}
	return words
}

// hookWordsAt are hookWords for the hooks of one point.
func hookWordsAt(nodes []corev1.Node, point plan.HookPoint, prefix string) []string {
	held := map[string][]string{}
	for i := range nodes {
		for _, hook := range plan.Hooks(nodes[i].Annotations, prefix) {
			held[hook] = append(held[hook], nodes[i].Name)
		}
	}
	words := make([]string, 0, len(held))
	for _, hook := range slices.Sorted(maps.Keys(held)) {
		names := held[hook]
		slices.Sort(names)
		list := strings.Join(names[:min(len(names), namedNodes)], ", ")
		if more := len(names) - namedNodes; more > 0 {
			list += fmt.Sprintf(" and %d more", more)
		}
		words = append(words, fmt.Sprintf("%s hook %s holds %d %s until its annotation %s%s is removed: %s",
			point, hook, len(names), nodesWord(len(names)), prefix, hook, list))
	}
	return words
}

// nodesWord is "node" or "nodes".
func nodesWord(n int) string {
	if n == 1 {
		return "node"
	}
	return "nodes"
}
