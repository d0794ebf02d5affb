package drain

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kubectldrain "k8s.io/kubectl/pkg/drain"

	"github.com/nodewave/nodewave/internal/drainpolicy"
)

// mostNamed is how many blocking reasons a message names before "and N more".
const mostNamed = 3

// notes gathers, during one pass, what keeps a node from being drained.
type notes struct {
	// deleting: the pass deletes (ForceDelete), so the pods waited for go
	// too, when the options allow them to.
	deleting bool

	blocked     []string       // pods the options do not allow to leave, with why
	pdbs        map[string]int // pods refused per PodDisruptionBudget ("" when unknown)
	other       []string       // anything else worth saying
	waited      []string       // pods waited for until they complete, as namespace/name
	held        int            // pods to evict that wait for their drain order
	heldFor     int32          // the drain order they wait for
	terminating int            // pods on their way out

	// judged are the judgements of the pods that still have to leave the
	// node (by namespace/name), for their drain order.
	judged map[string]drainpolicy.Judgement
}

// policy is nodewave's filter, run after kubectl's: drainpolicy.Policy
// judges each pod. A pod skipped by a drain rule or its marker is skipped
// here too, and counted nowhere. A pod the options keep (emptyDir, no
// controller, an orphaned DaemonSet pod, a marker that does not parse) is
// skipped (never evicted) and noted. A pod waited for until it completes
// is skipped and noted, unless the pass deletes: ForceDelete deletes it
// as any pod left, if the options allow (drain.force for a pod without a
// controller, drain.deleteEmptyDirData for emptyDir), and keeps it
// otherwise. A pod already terminating, or to evict, is let through.
func (n *notes) policy(opts Options) kubectldrain.PodFilter {
	return func(pod corev1.Pod) kubectldrain.PodDeleteStatus {
		j := drainpolicy.Policy(&pod, opts)
		if j.Verdict == drainpolicy.Skipped {
			return kubectldrain.MakePodDeleteStatusSkip()
		}
		name := pod.Namespace + "/" + pod.Name
		if n.judged == nil {
			n.judged = map[string]drainpolicy.Judgement{}
		}
		n.judged[name] = j
		switch {
		case j.Verdict == drainpolicy.Blocked:
			n.blocked = append(n.blocked, fmt.Sprintf("pod %s %s", name, j.Why))
			return kubectldrain.MakePodDeleteStatusSkip()
		case j.Verdict == drainpolicy.WaitedFor && !n.deleting:
			n.waited = append(n.waited, name)
			return kubectldrain.MakePodDeleteStatusSkip()
		case j.Verdict == drainpolicy.WaitedFor:
			// ForceDelete deletes it as any pod left, if the options allow.
			if why := drainpolicy.BlockedBecause(&pod, opts); why != "" {
				n.blocked = append(n.blocked, fmt.Sprintf("pod %s %s", name, why))
				return kubectldrain.MakePodDeleteStatusSkip()
			}
		}
		return kubectldrain.MakePodDeleteStatusOkay()
	}
}

// holdBack says, by index, which of pods (the pods the filters let
// through) wait for their drain order: pods to evict of an order above
// the lowest still on the node (drainpolicy.EvictingOrder). It notes how
// many, and which order they wait for.
func (n *notes) holdBack(pods []corev1.Pod) []bool {
	held := make([]bool, len(pods))
	evicting, ok := drainpolicy.EvictingOrder(slices.Collect(maps.Values(n.judged)))
	if !ok {
		return held
	}
	for i := range pods {
		if j, ok := n.judged[pods[i].Namespace+"/"+pods[i].Name]; ok && drainpolicy.HeldBack(j, evicting) {
			held[i] = true
			n.held++
		}
	}
	n.heldFor = evicting
	return held
}

func (n *notes) blockedBy(pdb string) {
	if n.pdbs == nil {
		n.pdbs = map[string]int{}
	}
	n.pdbs[pdb]++
}

func (n *notes) add(s string) { n.other = append(n.other, s) }

// String is the message: PodDisruptionBudget refusals first, then pods the
// options keep, then errors, at most mostNamed of them, then pods waited
// for until they complete, pods waiting for their drain order, and pods
// terminating.
func (n *notes) String() string {
	var parts []string
	pdbs := make([]string, 0, len(n.pdbs))
	for name := range n.pdbs {
		pdbs = append(pdbs, name)
	}
	slices.Sort(pdbs)
	for _, name := range pdbs {
		if name == "" {
			parts = append(parts, fmt.Sprintf("%s blocked: eviction refused with 429 Too Many Requests", pods(n.pdbs[name])))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s blocked by PodDisruptionBudget %s", pods(n.pdbs[name]), name))
	}
	parts = append(parts, n.blocked...)
	parts = append(parts, n.other...)
	if len(parts) > mostNamed {
		parts = append(parts[:mostNamed], fmt.Sprintf("and %d more", len(parts)-mostNamed))
	}
	if len(n.waited) > 0 {
		names := slices.Sorted(slices.Values(n.waited))
		if len(names) > mostNamed {
			names = append(names[:mostNamed], fmt.Sprintf("and %d more", len(names)-mostNamed))
		}
		completes := "they complete"
		if len(n.waited) == 1 {
			completes = "it completes"
		}
		parts = append(parts, fmt.Sprintf("%s waited for until %s (%s)", pods(len(n.waited)), completes, strings.Join(names, ", ")))
	}
	if n.held > 0 {
		wait := "wait"
		if n.held == 1 {
			wait = "waits"
		}
		parts = append(parts, fmt.Sprintf("%s %s for the pods of drain order %d to leave", pods(n.held), wait, n.heldFor))
	}
	if n.terminating > 0 {
		parts = append(parts, pods(n.terminating)+" terminating")
	}
	return strings.Join(parts, "; ")
}

// pods says "1 pod" or "N pods".
func pods(n int) string {
	if n == 1 {
		return "1 pod"
	}
	return fmt.Sprintf("%d pods", n)
}
