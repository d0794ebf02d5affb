package plan

import (
	"fmt"
	"testing"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// editedSim plays an upgrade while the spec and the world change under the
// planner, as a hostile operator or an unlucky cluster would:
//   - selector edits: pending nodes leave the selection and come back, and
//     nodes in flight leave it (the controller still observes a node it
//     holds, so it stays in view until it is upgraded or failed);
//   - the target is lowered, once, below the nodes already upgraded (they
//     are newer than the new target: never started again, never
//     downgraded);
//   - the cache lags: what the world does by itself (a kubelet reporting a
//     new version) is seen a pass late, while the controller's own writes
//     are seen at once (it remembers them until the cache shows them).
type editedSim struct {
	*sim
	hidden  map[string]bool // pending nodes the selector no longer selects
	lowered bool
	seen    map[string]Node // the world as of the previous pass
}

func (e *editedSim) edit() {
	for _, n := range e.nodes {
		if e.rng.Float64() >= 0.03 {
			continue
		}
		switch Classify(n.Node) {
		case ClassPending:
			if n.starts == 0 && !n.Unavailable() {
				e.hidden[n.Name] = !e.hidden[n.Name]
			}
		case ClassInFlight:
			e.hidden[n.Name] = true // left the selector mid-flight: held, still in view
		}
	}
	if !e.lowered && e.passes > 0 && e.rng.Float64() < 0.05 {
		e.lowered = true
		for _, n := range e.nodes {
			if n.AtTarget {
				n.AtTarget, n.Newer = false, true
			}
		}
	}
}

// view is what the planner sees: the selected nodes and the ones held in
// flight or failed, with the kubelet versions of the previous pass.
func (e *editedSim) view() []Node {
	var out []Node
	for _, n := range e.nodes {
		c := Classify(n.Node)
		if e.hidden[n.Name] && c != ClassInFlight && c != ClassFailed {
			continue
		}
		v := n.Node
		if old, ok := e.seen[n.Name]; ok && !e.lowered {
			v.AtTarget, v.Newer = old.AtTarget, old.Newer
		}
		out = append(out, v)
	}
	e.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for _, n := range e.nodes {
		e.seen[n.Name] = n.Node
	}
	return out
}

func TestSimulationUnderEditsKeepsTheBudgetAndNeverDowngrades(t *testing.T) {
	for _, cfg := range []simConfig{
		{nodes: 20, zones: 3, maxUnavailable: 1},
		{nodes: 50, zones: 3, maxUnavailable: 5, adminCordonRate: 0.05, failRate: 0.05, maxFailed: 5},
		{nodes: 100, zones: 2, maxUnavailable: 10, failRate: 0.02, maxFailed: 100},
	} {
		for seed := range 30 {
			t.Run(fmt.Sprintf("%dnodes/max%d/seed%d", cfg.nodes, cfg.maxUnavailable, seed), func(t *testing.T) {
				e := &editedSim{sim: newSim(t, uint64(seed*7919+cfg.nodes), cfg), hidden: map[string]bool{}, seen: map[string]Node{}}
				e.see = e.view
				e.unselected = func(name string) bool { return e.hidden[name] }
				in := Input{MaxUnavailable: cfg.maxUnavailable, MaxFailedNodes: cfg.maxFailed}
				for range 200 + 40*cfg.nodes {
					e.edit()
					p := e.pass(in) // checks the budget, and that no node at or past the target starts
					for _, name := range p.Start {
						if e.hidden[name] {
							t.Fatalf("pass %d: started %s, which the selector does not select", e.passes, name)
						}
					}
					if p.Done || (p.Halted && p.InFlight == 0) || p.Blocked {
						break
					}
				}
				for _, n := range e.nodes {
					c := Classify(n.Node)
					if c == ClassInFlight {
						t.Fatalf("%s left in flight", n.Name)
					}
					if n.State == upgradev1alpha1.NodeUpgraded && !n.Reached() {
						t.Fatalf("%s upgraded below the target", n.Name)
					}
				}
			})
		}
	}
}
