package drain

import (
	"fmt"
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
	blocked     []string       // pods the options do not allow to leave, with why
	pdbs        map[string]int // pods refused per PodDisruptionBudget ("" when unknown)
	other       []string       // anything else worth saying
	terminating int            // pods on their way out
}

// policy is nodewave's filter, run after kubectl's: a pod that
// blockedBecause says the options keep (emptyDir, no controller, an
// orphaned DaemonSet pod) is skipped (never evicted) and noted. A pod
// already terminating is let through: it is leaving anyway and is counted
// as terminating, not as blocked.
func (n *notes) policy(opts Options) kubectldrain.PodFilter {
	return func(pod corev1.Pod) kubectldrain.PodDeleteStatus {
		if pod.DeletionTimestamp != nil {
			return kubectldrain.MakePodDeleteStatusOkay()
		}
		if why := drainpolicy.BlockedBecause(&pod, opts); why != "" {
			n.blocked = append(n.blocked, fmt.Sprintf("pod %s/%s %s", pod.Namespace, pod.Name, why))
			return kubectldrain.MakePodDeleteStatusSkip()
		}
		return kubectldrain.MakePodDeleteStatusOkay()
	}
}

func (n *notes) blockedBy(pdb string) {
	if n.pdbs == nil {
		n.pdbs = map[string]int{}
	}
	n.pdbs[pdb]++
}

func (n *notes) add(s string) { n.other = append(n.other, s) }

// String is the message: PodDisruptionBudget refusals first, then pods the
// options keep, then errors, at most mostNamed of them, then pods
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
