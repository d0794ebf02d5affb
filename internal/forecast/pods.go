package forecast

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy"
)

// budget is a PodDisruptionBudget with its parsed selector.
type budget struct {
	pdb      *policyv1.PodDisruptionBudget
	selector labels.Selector
}

// pdbIndex groups the budgets by namespace, with their selectors parsed
// as kube-apiserver reads them: a nil selector matches nothing, an empty
// one every pod of the namespace. A budget whose selector does not parse
// is left out, as the API server ignores it.
func pdbIndex(pdbs []policyv1.PodDisruptionBudget) map[string][]budget {
	out := map[string][]budget{}
	for i := range pdbs {
		b := &pdbs[i]
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err != nil {
			continue
		}
		out[b.Namespace] = append(out[b.Namespace], budget{pdb: b, selector: sel})
	}
	return out
}

// budgetFindings foresees the evictions PodDisruptionBudgets will refuse,
// for the pods the drain would evict from the nodes to drain: budgets
// that allow no disruption now (status.disruptionsAllowed 0), and pods
// that more than one budget selects, which the Eviction API refuses to
// evict at all.
func (w *world) budgetFindings(byNS map[string][]budget, drained []string) []Finding {
	type blocked struct {
		pdb   *policyv1.PodDisruptionBudget
		pods  int
		nodes []string
	}
	zero := map[string]*blocked{}
	var out []Finding
	for _, node := range drained {
		for _, jp := range w.pods[node] {
			if jp.verdict != drainpolicy.Evicted {
				continue
			}
			var matching []string
			for _, b := range byNS[jp.pod.Namespace] {
				if !b.selector.Matches(labels.Set(jp.pod.Labels)) {
					continue
				}
				key := b.pdb.Namespace + "/" + b.pdb.Name
				matching = append(matching, key)
				if b.pdb.Status.DisruptionsAllowed > 0 {
					continue
				}
				z := zero[key]
				if z == nil {
					z = &blocked{pdb: b.pdb}
					zero[key] = z
				}
				z.pods++
				if !slices.Contains(z.nodes, node) {
					z.nodes = append(z.nodes, node)
				}
			}
			if len(matching) > 1 {
				out = append(out, Finding{Severity: Blocker, Kind: KindPodDisruptionBudget,
					Subject: fmt.Sprintf("pod %s/%s on node %s", jp.pod.Namespace, jp.pod.Name, node), Nodes: []string{node},
					Message: fmt.Sprintf("selected by %d PodDisruptionBudgets (%s): the Eviction API refuses to evict a pod that more than one budget selects",
						len(matching), strings.Join(matching, ", "))})
			}
		}
	}
	keys := make([]string, 0, len(zero))
	for k := range zero {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	timeout := w.cu.Spec.DrainTimeout()
	onTimeout := cmp.Or(w.cu.Spec.Drain.OnTimeout, upgradev1alpha1.DrainTimeoutFail)
	for _, k := range keys {
		z := zero[k]
		out = append(out, Finding{Severity: Blocker, Kind: KindPodDisruptionBudget, Subject: "PodDisruptionBudget " + k, Nodes: z.nodes,
			Message: fmt.Sprintf("allows no disruption now (status.disruptionsAllowed %d, %d of %d desired pods healthy): "+
				"%s on %s cannot be evicted until it allows one; each such node stays draining, then drain.onTimeout %s applies after drain.timeout %s: %s",
				z.pdb.Status.DisruptionsAllowed, z.pdb.Status.CurrentHealthy, z.pdb.Status.DesiredHealthy,
				count(z.pods, "pod"), count(len(z.nodes), "node"), onTimeout, timeout, names(z.nodes))})
	}
	return out
}

// podFindings names the pods the drain options keep on the nodes to
// drain: each one keeps its node from draining.
func (w *world) podFindings(drained []string) []Finding {
	var out []Finding
	for _, node := range drained {
		for _, jp := range w.pods[node] {
			if jp.verdict != drainpolicy.Blocked {
				continue
			}
			out = append(out, Finding{Severity: Blocker, Kind: KindPod, Nodes: []string{node},
				Subject: fmt.Sprintf("pod %s/%s on node %s", jp.pod.Namespace, jp.pod.Name, node),
				Message: jp.why + ": it keeps the node from draining"})
		}
	}
	return out
}

// recreated reports whether an evicted pod comes back elsewhere: its
// controller makes a new one. Pods without a controller (evicted under
// drain.force) and orphaned DaemonSet pods do not.
func recreated(pod *corev1.Pod) bool {
	ref := metav1.GetControllerOf(pod)
	return ref != nil && ref.Kind != "DaemonSet"
}
