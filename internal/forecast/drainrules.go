package forecast

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy"
)

// drainRuleFindings says what spec.drain.rules and the pods' own drain
// markers do on the nodes to drain: one note that counts the pods skipped
// (left on their nodes), the pods waited for until they complete, and,
// when the pods evicted have more than one drain order, how many of each;
// and a blocker for each pod waited for that can never complete (its
// restartPolicy is Always), whose node then runs into drain.timeout. The
// note's nodes are those with a pod skipped or waited for, or with
// evicted pods of more than one order. Pods whose marker or rule does not
// parse are blockers of podFindings.
func (w *world) drainRuleFindings(drained []string) []Finding {
	var skipped, waited, nodes []string
	orders := map[int32]int{}
	var out []Finding
	timeout := w.cu.Spec.DrainTimeout()
	onTimeout := cmp.Or(w.cu.Spec.Drain.OnTimeout, upgradev1alpha1.DrainTimeoutFail)
	ordered := map[string]map[int32]bool{} // the orders of each node's evicted pods
	for _, node := range drained {
		touched := false
		for _, jp := range w.pods[node] {
			where := fmt.Sprintf("%s/%s on %s", jp.pod.Namespace, jp.pod.Name, node)
			switch jp.verdict {
			case drainpolicy.Skipped:
				skipped, touched = append(skipped, where), true
			case drainpolicy.WaitedFor:
				waited, touched = append(waited, where), true
				if neverCompletes(jp.pod) {
					out = append(out, Finding{Severity: Blocker, Kind: KindPod, Nodes: []string{node},
						Subject: fmt.Sprintf("pod %s/%s on node %s", jp.pod.Namespace, jp.pod.Name, node),
						Message: fmt.Sprintf("%s, but its restartPolicy is Always: it never completes, so its node's drain runs until "+
							"drain.timeout %s, then drain.onTimeout %s applies", jp.why, timeout, onTimeout)})
				}
			case drainpolicy.Evicted:
				orders[jp.order]++
				if ordered[node] == nil {
					ordered[node] = map[int32]bool{}
				}
				ordered[node][jp.order] = true
			}
		}
		if touched || len(ordered[node]) > 1 {
			nodes = append(nodes, node)
		}
	}
	var parts []string
	if len(skipped) > 0 {
		parts = append(parts, fmt.Sprintf("%s skipped by drain rules or their own markers, left on their nodes: %s",
			count(len(skipped), "pod"), names(skipped)))
	}
	if len(waited) > 0 {
		completes, them, are := "they complete", "them", "they are"
		if len(waited) == 1 {
			completes, them, are = "it completes", "it", "it is"
		}
		parts = append(parts, fmt.Sprintf("%s waited for until %s, never evicted: %s (its node's drain waits for %s; "+
			"drain.onTimeout %s applies if %s still running at drain.timeout %s)",
			count(len(waited), "pod"), completes, names(waited), them, onTimeout, are, timeout))
	}
	if len(orders) > 1 {
		each := make([]string, 0, len(orders))
		for _, o := range slices.Sorted(maps.Keys(orders)) {
			each = append(each, fmt.Sprintf("%d (%s)", o, count(orders[o], "pod")))
		}
		parts = append(parts, "pods evicted in drain order, each order once the pods of the orders before it have left their node: "+
			strings.Join(each, ", "))
	}
	if len(parts) == 0 {
		return out
	}
	return append(out, Finding{Severity: Note, Kind: KindDrainRules, Subject: "drain rules", Nodes: nodes,
		Message: strings.Join(parts, "; ")})
}

// neverCompletes reports whether a pod can never reach Succeeded or
// Failed by itself: its containers restart whatever their exit
// (restartPolicy Always, the default).
func neverCompletes(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == ""
}
