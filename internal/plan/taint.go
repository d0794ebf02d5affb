package plan

// TaintWant is what a node's pending taint (upgrade.nodewave.io/pending,
// PreferNoSchedule) should become in a pass.
type TaintWant int

// The wants of a pending taint.
const (
	// TaintAsIs leaves the taint as it is: a node in flight or failed is
	// cordoned, so the taint neither helps nor harms there; it comes off
	// with the node's end.
	TaintAsIs TaintWant = iota
	// TaintOn adds the taint if the node lacks it.
	TaintOn
	// TaintOff removes the taint if the node has it.
	TaintOff
)

// PendingTaint decides a node's pending taint: on for a node the
// ClusterUpgrade selects and will start (pending, held by no other) when
// it may start nodes at all (adding is true: not paused, its window open,
// no pre-flight check holding its starts); off once the node is upgraded
// or skipped, when the selector no longer selects it, or when another
// ClusterUpgrade holds it. A pause, a closed window or a hold adds nothing
// and removes nothing: the taint is a scheduling preference, and taking it
// off every pending node only to put it back costs two writes per node.
func PendingTaint(n Node, selected, adding bool) TaintWant {
	if !selected || n.HeldElsewhere != "" {
		return TaintOff
	}
	switch Classify(n) {
	case ClassPending:
		if adding {
			return TaintOn
		}
		return TaintAsIs
	case ClassInFlight, ClassFailed, ClassBlocked:
		return TaintAsIs
	default:
		return TaintOff
	}
}
