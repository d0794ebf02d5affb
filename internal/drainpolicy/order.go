package drainpolicy

// EvictingOrder is the drain order whose pods a drain pass evicts now: the
// lowest order among the node's pods that still have to leave it (pods
// terminating, waited for, blocked, or to evict, a PodDisruptionBudget's
// refusal or not). ok is false when no pod has to leave. Pods that stay
// and pods a rule or marker skips never hold back an order: they never
// leave. This is Cluster API's drain order (its minDrainOrderOfPodsToDrain),
// with blocked pods counted too: a pod of order 0 that the options keep
// keeps the pods of order 10 on the node, as the order promises.
func EvictingOrder(judged []Judgement) (order int32, ok bool) {
	for _, j := range judged {
		if !j.Verdict.leaves() {
			continue
		}
		if !ok || j.Order < order {
			order, ok = j.Order, true
		}
	}
	return order, ok
}

// HeldBack reports whether a pod judged j, which a drain would evict,
// waits instead for the pods of the evicting order to leave: its order is
// higher. Pods terminating, waited for or blocked are never evicted, so
// never held back.
func HeldBack(j Judgement, evicting int32) bool {
	return j.Verdict == Evicted && j.Order > evicting
}

// leaves reports whether a pod of this verdict still has to leave the node
// before its drain is done.
func (v Verdict) leaves() bool {
	switch v {
	case Leaving, Blocked, WaitedFor, Evicted:
		return true
	}
	return false
}
