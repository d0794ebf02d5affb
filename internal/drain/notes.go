package drain

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubectldrain "k8s.io/kubectl/pkg/drain"
)

// mostNamed is how many blocking reasons a message names before "and N more".
const mostNamed = 3

// notes gathers, during one pass, what keeps a node from being drained.
type notes struct {
	blocked     []string       // pods the options do not allow to leave, with why
	pdbs        map[string]int // pods refused per PodDisruptionBudget
	other       []string       // anything else worth saying
	terminating int            // pods on their way out
}

// policy is nodewave's filter: pods with emptyDir volumes and pods without
// a controller may leave only when the options say so. A pod that may not
// is skipped (never evicted) and noted.
func (n *notes) policy(opts Options) kubectldrain.PodFilter {
	return func(pod corev1.Pod) kubectldrain.PodDeleteStatus {
		name := pod.Namespace + "/" + pod.Name
		switch {
		case !opts.Force && !hasController(&pod):
			n.blocked = append(n.blocked, fmt.Sprintf("pod %s has no controller (set drain.force to evict it)", name))
		case !opts.Force && isDaemonSetPod(&pod):
			// kubectl's DaemonSet filter lets an orphan through only under force.
			n.blocked = append(n.blocked, fmt.Sprintf("pod %s belongs to a DaemonSet that no longer exists (set drain.force to evict it)", name))
		case !opts.DeleteEmptyDirData && hasEmptyDir(&pod):
			n.blocked = append(n.blocked, fmt.Sprintf("pod %s uses emptyDir (set drain.deleteEmptyDirData to evict it)", name))
		default:
			return kubectldrain.MakePodDeleteStatusOkay()
		}
		return kubectldrain.MakePodDeleteStatusSkip()
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
// options keep, then errors, then pods terminating.
func (n *notes) String() string {
	var parts []string
	pdbs := make([]string, 0, len(n.pdbs))
	for name := range n.pdbs {
		pdbs = append(pdbs, name)
	}
	slices.Sort(pdbs)
	for _, name := range pdbs {
		what := "PodDisruptionBudget " + name
		if name == "" {
			what = "a PodDisruptionBudget"
		}
		parts = append(parts, fmt.Sprintf("%s blocked by %s", pods(n.pdbs[name]), what))
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

func hasEmptyDir(pod *corev1.Pod) bool {
	return slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.EmptyDir != nil })
}

func isDaemonSetPod(pod *corev1.Pod) bool {
	ref := metav1.GetControllerOf(pod)
	return ref != nil && ref.Kind == "DaemonSet"
}
