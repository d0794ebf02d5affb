package plan

import "slices"

// HandOn is what a pass may start as the nodes in flight that can finish
// in it do, one at a time: the pending nodes, in start order, of which the
// k-th may start the moment k of the finishing nodes have left flight
// (upgraded and back in service), whichever they are, beyond what
// Compute(in) starts. A freed slot is then handed on when the finishing
// node's write returns, not after every finishing write of the pass and a
// new plan.
//
// in is the wave's input now; finished are some of its nodes in flight as
// they will be once finished. The budget holds at every moment: a node
// that leaves flight frees one slot and one unavailable node, and the one
// started in its place takes at most one of each, so each count stays
// where it was before, within the budget (HandOn gives nothing when it is
// not); what Compute(in) starts is planned again once all have finished.
// It gives nothing when a slot is not any slot (zones, a canary), when a
// finished node would still be unavailable (cordoned by someone else,
// NotReady, held elsewhere) or not upgraded, or when nothing may start at
// all (Compute's holds: a halt, a pause, a closed window, a gate).
func HandOn(in Input, finished []Node) []string {
	if len(finished) == 0 || in.Zones != nil || in.Canary != nil {
		return nil
	}
	now := Compute(in)
	if now.InFlight+len(now.Start) > in.MaxUnavailable || now.UnavailableAfter > in.MaxUnavailable {
		return nil
	}
	byName := make(map[string]Node, len(finished))
	for _, f := range finished {
		byName[f.Name] = f
	}
	then := in
	then.Nodes = slices.Clone(in.Nodes)
	replaced := 0
	for i, n := range then.Nodes {
		f, ok := byName[n.Name]
		if !ok {
			continue
		}
		if Classify(n) != ClassInFlight || Classify(f) != ClassUpgraded || f.Unavailable() {
			return nil
		}
		then.Nodes[i] = f
		replaced++
	}
	if replaced != len(byName) || len(byName) != len(finished) {
		return nil
	}
	var next []string
	for _, name := range Compute(then).Start {
		if !slices.Contains(now.Start, name) {
			next = append(next, name)
		}
	}
	return next[:min(len(next), len(finished))]
}
