package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// ReplacementsNotReady is the gate of spec.health.replacementsReady: the
// Gated condition's reason, and Stalled's once a workload is short for
// longer than the gate's timeout.
const ReplacementsNotReady = upgradev1alpha1.ReasonReplacementsNotReady

// Workload is a workload whose pods a drain evicted, and what it has now.
type Workload struct {
	// Name is "Kind/namespace/name".
	Name string
	// Drained is when the earliest drain that evicted its pods ended.
	Drained time.Time
	// Desired and Ready are its spec.replicas and status.readyReplicas.
	Desired, Ready int32
	// Gone: it no longer exists (a Deployment's old ReplicaSet, deleted),
	// so nothing is to come back.
	Gone bool
	// Err is set when it could not be read; it counts as short.
	Err error
}

// Short reports whether the workload's replacements are not all ready.
func (w Workload) Short() bool { return !w.Gone && (w.Err != nil || w.Ready < w.Desired) }

// Gate is a closed gate: what holds new starts and since when.
type Gate struct {
	// Reason is the gate, one of the Gated condition's reasons.
	Reason string
	// Since is when the gate closed: the end of the earliest drain whose
	// workloads it waits for.
	Since time.Time
	// Message says what the gate waits for.
	Message string
	// Stalled: it has waited longer than its timeout; only a person (or
	// the workload coming back) can open it.
	Stalled bool
}

// maxNamedWorkloads bounds the workloads a gate's message names.
const maxNamedWorkloads = 5

// ReplacementsGate judges spec.health.replacementsReady over the evicted
// workloads: closed while any is short of ready replicas, stalled once one
// has been short for timeout since its drain ended. nil when it is open.
func ReplacementsGate(workloads []Workload, timeout time.Duration, now time.Time) *Gate {
	var short []Workload
	for _, w := range workloads {
		if w.Short() {
			short = append(short, w)
		}
	}
	if len(short) == 0 {
		return nil
	}
	slices.SortFunc(short, func(a, b Workload) int {
		if c := a.Drained.Compare(b.Drained); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	g := &Gate{Reason: ReplacementsNotReady, Since: short[0].Drained,
		Stalled: now.Sub(short[0].Drained) >= timeout}
	var named []string
	for _, w := range short[:min(len(short), maxNamedWorkloads)] {
		if w.Err != nil {
			named = append(named, fmt.Sprintf("%s (%v)", w.Name, w.Err))
			continue
		}
		named = append(named, fmt.Sprintf("%s %d of %d ready", w.Name, w.Ready, w.Desired))
	}
	if more := len(short) - len(named); more > 0 {
		named = append(named, fmt.Sprintf("%d more", more))
	}
	what := "waiting for the replacements of evicted pods"
	if g.Stalled {
		what = fmt.Sprintf("replacements of evicted pods not ready %s after their drain (replacementsReady.timeout)", timeout)
	}
	g.Message = fmt.Sprintf("%s: %s", what, strings.Join(named, ", "))
	return g
}
