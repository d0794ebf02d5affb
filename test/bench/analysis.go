package main

import (
	"math"
	"slices"
	"time"
)

// span is one node's time in flight: from nodewave cordoning it to its
// state becoming upgraded. Drained is when its drain ended (its state
// moved past draining), Reached when its kubelet reported the target.
type span struct {
	Node       string
	Order      int // its place in the plan order (zone, then name)
	Start, End time.Time
	// Entries is how often the node entered the lifecycle (see
	// recorder.entries).
	Entries int

	Drained, Reached time.Time
}

func (s span) d() time.Duration { return s.End.Sub(s.Start) }

// shares splits the nodes' time in flight, Σdᵢ, into its parts: the
// drains (cordon to drained: evictions, PodDisruptionBudgets, the
// simulated control plane deleting and replacing the pods), the upgrades
// (drained to the kubelet at the target: the node agent's seeded delay,
// and the Job or agent noticing) and the rest (at the target to upgraded:
// nodewave's verify and uncordon).
type shares struct{ Drain, Upgrade, Rest float64 }

func splitInFlight(spans []span) shares {
	var drain, upgrade, rest, sum time.Duration
	for _, s := range spans {
		drain += s.Drained.Sub(s.Start)
		upgrade += s.Reached.Sub(s.Drained)
		rest += s.End.Sub(s.Reached)
		sum += s.d()
	}
	if sum <= 0 {
		return shares{}
	}
	return shares{Drain: float64(drain) / float64(sum), Upgrade: float64(upgrade) / float64(sum), Rest: float64(rest) / float64(sum)}
}

// schedule sums up a run's spans against the budget m.
type schedule struct {
	Makespan, LowerBound, Barrier time.Duration
	// Ratio is Makespan / LowerBound; BarrierRatio is Barrier / LowerBound.
	Ratio, BarrierRatio float64
}

// analyse compares the measured makespan (first cordon to last upgraded)
// with the lower bound max(max dᵢ, Σdᵢ / m), and with a barrier-batch
// schedule of the same dᵢ: nodes in plan order, m at a time, each batch
// waiting for its slowest node.
func analyse(spans []span, m int) schedule {
	if len(spans) == 0 || m < 1 {
		return schedule{}
	}
	first, last := spans[0].Start, spans[0].End
	var sum, longest time.Duration
	for _, s := range spans {
		first, last = minTime(first, s.Start), maxTime(last, s.End)
		sum += s.d()
		longest = max(longest, s.d())
	}
	out := schedule{Makespan: last.Sub(first), LowerBound: max(longest, sum/time.Duration(m))}
	ordered := slices.Clone(spans)
	slices.SortFunc(ordered, func(a, b span) int { return a.Order - b.Order })
	for i := 0; i < len(ordered); i += m {
		var slowest time.Duration
		for _, s := range ordered[i:min(i+m, len(ordered))] {
			slowest = max(slowest, s.d())
		}
		out.Barrier += slowest
	}
	out.Ratio = float64(out.Makespan) / float64(out.LowerBound)
	out.BarrierRatio = float64(out.Barrier) / float64(out.LowerBound)
	return out
}

// handoffs measures, for each node that left the in-flight set while other
// nodes were still waiting, how long until the next node was cordoned.
func handoffs(spans []span) []time.Duration {
	starts := make([]time.Time, 0, len(spans))
	for _, s := range spans {
		starts = append(starts, s.Start)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	var out []time.Duration
	for _, s := range spans {
		// The first start at or after this node's end, if any: when none
		// comes, every node had started already and nothing waited.
		i, _ := slices.BinarySearchFunc(starts, s.End, func(a, b time.Time) int { return a.Compare(b) })
		if i < len(starts) {
			out = append(out, starts[i].Sub(s.End))
		}
	}
	return out
}

// percentile is the p-th percentile (0..100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// lastNode is one of the last nodes to finish, its times counted from the
// run's first cordon: where a long tail comes from.
type lastNode struct {
	Node                         string
	Entries                      int
	Start, Drained, Reached, End time.Duration
}

// lastToFinish returns the k nodes that finished last, the last first.
func lastToFinish(spans []span, k int) []lastNode {
	if len(spans) == 0 {
		return nil
	}
	first := spans[0].Start
	for _, s := range spans {
		first = minTime(first, s.Start)
	}
	sorted := slices.Clone(spans)
	slices.SortFunc(sorted, func(a, b span) int { return b.End.Compare(a.End) })
	out := make([]lastNode, 0, k)
	for _, s := range sorted[:min(k, len(sorted))] {
		out = append(out, lastNode{Node: s.Node, Entries: s.Entries, Start: s.Start.Sub(first),
			Drained: s.Drained.Sub(first), Reached: s.Reached.Sub(first), End: s.End.Sub(first)})
	}
	return out
}

// reentered counts the nodes that entered the lifecycle more than once.
func reentered(spans []span) int {
	n := 0
	for _, s := range spans {
		if s.Entries > 1 {
			n++
		}
	}
	return n
}
