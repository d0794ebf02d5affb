package forecast

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

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
	return slices.Concat(hookWordsAt(nodes, plan.PreDrain), hookWordsAt(nodes, plan.PostUpgrade)) // nil without any
}

// hookJobWords say, one line each, the hook Jobs of spec.hooks.
func hookJobWords(cu *upgradev1alpha1.ClusterUpgrade) []string {
	var words []string
	for _, point := range plan.HookPoints {
		job := point.Job(cu.Spec.Hooks)
		if job == nil {
			continue
		}
		when := "before each node's drain"
		if point == plan.PostUpgrade {
			when = "before each node's uncordon"
		}
		words = append(words, fmt.Sprintf("%s runs a Job %s (timeout %s, failurePolicy %s)",
			point.Field(), when, job.HookTimeout(), cmp.Or(job.FailurePolicy, upgradev1alpha1.HookFail)))
	}
	return words
}

// hookWordsAt are hookWords for the hooks of one point.
func hookWordsAt(nodes []corev1.Node, point plan.HookPoint) []string {
	held := map[string][]string{}
	for i := range nodes {
		for _, hook := range plan.Hooks(nodes[i].Annotations, point) {
			held[hook] = append(held[hook], nodes[i].Name)
		}
	}
	words := make([]string, 0, len(held))
	for _, hook := range slices.Sorted(maps.Keys(held)) {
		names := held[hook]
		slices.Sort(names)
		words = append(words, fmt.Sprintf("%s hook %s holds %s until its annotation %s%s is removed: %s",
			point, hook, count(len(names), "node"), point.Prefix(), hook, firstNames(names, namedNodes)))
	}
	return words
}
