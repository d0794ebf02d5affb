// Package forecast tells, before any node is touched, how a ClusterUpgrade
// would go: the order, the first waves of nodes that start together, and
// the blockers it can foresee (PodDisruptionBudgets that allow no
// disruption, pods the drain options keep, NotReady nodes, nodes already
// at or past the target, too little room for the evicted pods, and the
// controller's own pre-flight checks: version skew, conflicts, halts).
//
// It is pure: Compute takes the world as a gatherer read it (nodes, their
// pods, PodDisruptionBudgets, DaemonSets, the other ClusterUpgrades, the
// API server's version) and returns plain values. It reuses nodewave's own
// rules rather than restating them: the waves come from iterating the
// planner (plan.Compute) on a simulated world in which every started node
// finishes, and what the drain would do with each pod comes from
// drainpolicy.Judge, which the drain itself applies, with the options
// drainspec.Options makes of spec.drain, as the controller makes them: the
// drain rules and the pods' own markers included (pods skipped, pods
// waited for until they complete, drain orders; see drainRuleFindings).
//
// With spec.controlPlane it plays the controller's two waves: the
// control-plane nodes first, one at a time, a failure of any halting
// everything; then the workers by spec.strategy, their budget taken of the
// workers alone, once every control-plane node is at the target. A target
// newer than the API server is then a note, not a blocker.
//
// With spec.strategy.canary the workers' planner input carries the canary
// as the controller builds it (plan.CanaryOf), so the planner's own gate
// makes the workers' first waves the canary's. The forecast knows no real
// durations: when the gate holds the rest for the canary's soak, the
// simulation's clock moves to the soak's end; when canary.pause holds
// them, it plays that a person sets it to false; the next wave records
// these holds (Wave.WaitsFor), and the waves after a pause are what
// happens once it is lifted.
//
// A wave is the set of nodes that start together when every node of the
// wave before it has finished. The real upgrade is rolling: a slot refills
// as soon as its node finishes, so after the first wave the real starts
// blur across waves; the order and the set of nodes started are the same.
package forecast
