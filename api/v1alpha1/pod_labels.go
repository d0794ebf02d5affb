package v1alpha1

// The keys below are what nodewave reads on Pods: a pod's own say in how a
// drain treats it (docs/user-guide.md, "Drain rules"). Each may be a label
// or an annotation; when a pod has both, the annotation wins. They win
// over spec.drain.rules. They are a public contract: workloads set them.
const (
	// DrainBehaviorKey says what a drain does with the pod: Drain (evict
	// it, the default), Skip (leave it on the node; it does not hold the
	// drain) or WaitCompleted (never evict it; the drain waits until it
	// has Succeeded or Failed). Any other value blocks the drain, naming
	// the pod and the value, until it is fixed: the pod is never evicted
	// and never silently skipped.
	DrainBehaviorKey = "drain.upgrade.nodewave.io/behavior"

	// DrainOrderKey is the pod's drain order, a 32-bit integer: a drain
	// evicts the pods of the lowest order still on the node first, and the
	// pods of a higher order only once those have left. Default 0;
	// negative orders go before it (as an annotation: a label value cannot
	// start with "-"). A value that is not an integer blocks the drain,
	// like a bad DrainBehaviorKey.
	DrainOrderKey = "drain.upgrade.nodewave.io/order"
)
