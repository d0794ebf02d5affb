// Package plan is nodewave's pure planning core. From the observed state of
// the selected nodes, the budget and the spec it decides which nodes start
// now, how many are unavailable, and whether the upgrade is done or halted;
// and, for one node in flight, what its current step should do next. It does
// no I/O and keeps no state between calls: the controller re-observes the
// world on every pass and asks again, so a crash or a leader change at any
// moment resumes the same plan.
//
// The one invariant it guards: at every instant the number of selected
// nodes that are unavailable (cordoned by anyone, or NotReady) is at most
// maxUnavailable, counting nodes that were unavailable before the upgrade
// touched them. Slots are refilled as soon as they free (a sliding window,
// not barrier batches), in a deterministic order: zone by zone, then by name.
package plan
