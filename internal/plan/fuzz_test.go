package plan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// fuzzStates are the state label values a node may carry: none, each one
// nodewave writes, and values it does not write (a typo, another case).
var fuzzStates = []upgradev1alpha1.NodeState{
	"",
	upgradev1alpha1.NodeCordoned,
	upgradev1alpha1.NodeDraining,
	upgradev1alpha1.NodeUpgrading,
	upgradev1alpha1.NodeVerifying,
	upgradev1alpha1.NodeUpgraded,
	upgradev1alpha1.NodeFailed,
	"bogus",
	"Cordoned",
	upgradev1alpha1.NodeBlocked,
}

// maxFuzzNodes bounds the world a fuzz input describes.
const maxFuzzNodes = 64

// maxFuzzLen is the longest input FuzzCompute looks at: the header and
// maxFuzzNodes nodes.
const maxFuzzLen = 3 + 3*maxFuzzNodes

// fuzzRounds is how many passes FuzzCompute plays after the first plan.
const fuzzRounds = 8

// decodeWorld turns fuzz bytes into a planner input and a simulated world
// to play it in. The layout, so seeds can be written by hand:
//
//	byte 0  MaxUnavailable = b%13 - 1 (-1..11)
//	byte 1  MaxFailedNodes = b&7 - 1 (-1..6); Paused = b&0x80;
//	        Closed (the maintenance window) = b&0x40;
//	        MaxBlockedNodes = (b>>3)&7 - 1 (-1..6)
//	byte 2  world: outage rate = (b&0x0f)/100 per node per pass; the rest
//	        seeds the simulation's random choices
//	then 3 bytes per node (at most 64 nodes):
//	  state  fuzzStates[b%10]
//	  flags  bit 0 Ready, 1 Unschedulable, 2 AtTarget, 3 Newer,
//	         4 its upgrade will fail, 5 it was cordoned before nodewave,
//	         bits 6-7 zone ("", "zone-a", "zone-b", "zone-c")
//	  name   its first letter, 'a'+b%26; the node's index makes it unique
func decodeWorld(t *testing.T, data []byte) (Input, *sim) {
	var in Input
	var header [3]byte
	copy(header[:], data)
	in.MaxUnavailable = int(header[0]%13) - 1
	in.MaxFailedNodes = int(header[1]&7) - 1
	in.MaxBlockedNodes = int(header[1]>>3&7) - 1
	in.Paused = header[1]&0x80 != 0
	in.Closed = header[1]&0x40 != 0

	s := &sim{
		t:   t,
		rng: rand.New(rand.NewPCG(uint64(header[2]), uint64(len(data)))),
		cfg: simConfig{maxUnavailable: in.MaxUnavailable, maxFailed: in.MaxFailedNodes, maxBlocked: in.MaxBlockedNodes,
			outageRate: float64(header[2]&0x0f) / 100},
		byName: map[string]*simNode{},
	}
	body := data[min(len(data), len(header)):]
	for i := 0; i+3 <= len(body) && i/3 < maxFuzzNodes; i += 3 {
		state, flags, letter := body[i], body[i+1], body[i+2]
		n := &simNode{Node: Node{
			Name:          fmt.Sprintf("%c%d", 'a'+letter%26, i/3),
			Zone:          [...]string{"", "zone-a", "zone-b", "zone-c"}[flags>>6],
			State:         fuzzStates[int(state)%len(fuzzStates)],
			Ready:         flags&1 != 0,
			Unschedulable: flags&2 != 0,
			AtTarget:      flags&4 != 0,
			Newer:         flags&8 != 0,
		}}
		n.willFail = flags&16 != 0
		n.wasUnschedulable = flags&32 != 0
		n.adminCordoned = n.wasUnschedulable
		s.nodes = append(s.nodes, n)
		s.byName[n.Name] = n
		in.Nodes = append(in.Nodes, n.Node)
	}
	return in, s
}

// FuzzCompute feeds the planner arbitrary worlds: any number of nodes in
// any state (unknown label values too), Ready or not, cordoned or not, at,
// below or above the target, in any zone, with any budget, failure limit,
// pause and maintenance window. It checks:
//
//   - Compute never panics, and every invariant of checkPlan holds: counts
//     add up to the nodes, Start holds pending Ready nodes, each once, in
//     plan order; nothing starts when halted or paused; UnavailableAfter
//     stays within MaxUnavailable whenever anything starts; no slot is left
//     idle; Blocked, Halted and Done mean what they say;
//   - the plan is the same for the nodes in reverse order, and the input is
//     not modified;
//   - then it plays fuzzRounds passes of the simulation from that world
//     (sim.pass: in-flight nodes advance, or fail if marked so, outages come
//     and go, the planned nodes are cordoned), paused for the first half if
//     the input is paused and unpaused after, and, if the window is closed,
//     with the window closed, open, closed and open again two passes at a
//     time (so it closes on nodes in flight), and checks on every pass that
//     the world's unavailable count matches the plan, that no start breaks
//     the budget or starts a node twice, and checkPlan again.
//
// Seed corpus: testdata/fuzz/FuzzCompute (go test runs it as a regular test).
func FuzzCompute(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{2, 0x01, 0x00, 0, 1, 0, 0, 1, 1, 0, 1, 2}, // three Ready pending nodes, budget 1
		{4, 0x02, 0x03, 0, 0x41, 3, 0, 0x83, 4, 1, 0xc1, 5, 6, 0x03, 7, 0, 0x00, 8},
		{1, 0x80, 0x00, 0, 1, 0, 0, 1, 1},          // paused
		{3, 0x00, 0x00, 6, 3, 0, 0, 1, 1, 0, 1, 2}, // one failure, max 0: halted
		{2, 0x41, 0x00, 2, 3, 0, 0, 1, 1, 0, 1, 2}, // window closed, one node draining
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Bytes past the last node mean nothing; skipping such inputs keeps
		// the engine from spending its time minimizing them.
		if len(data) > maxFuzzLen {
			return
		}
		in, s := decodeWorld(t, data)
		p := Compute(in)
		checkPlan(t, in, p)
		checkOrderIndependent(t, in, p)

		pauseFor := 0
		if in.Paused {
			pauseFor = fuzzRounds / 2
		}
		windowed := in.Closed
		for round := range fuzzRounds {
			in.Paused = round < pauseFor
			in.Closed = windowed && round%4 < 2
			s.worldTick()
			s.pass(in)
		}
	})
}
