package v1alpha1

// The keys below are what nodewave writes on Nodes. They are a public
// contract: node agents, scripts and dashboards may key on them.
const (
	// NodeStateLabel holds the node's place in the upgrade lifecycle; see
	// NodeState. `kubectl get nodes -L upgrade.nodewave.io/state` is the
	// per-node view of an upgrade.
	NodeStateLabel = "upgrade.nodewave.io/state"

	// ClusterUpgradeAnnotation names the ClusterUpgrade that holds the node.
	ClusterUpgradeAnnotation = "upgrade.nodewave.io/cluster-upgrade"

	// TargetVersionAnnotation is the kubelet version the node is being
	// upgraded to. It is set when the node enters the upgrading state, so an
	// External node agent can read what to install.
	TargetVersionAnnotation = "upgrade.nodewave.io/target-version"

	// WasUnschedulableAnnotation is "true" when the node's cordon is not
	// nodewave's: an admin had cordoned the node before nodewave took it,
	// or someone uncordoned it while nodewave held it (so a cordon added
	// after that is theirs too). nodewave never uncordons such a node.
	WasUnschedulableAnnotation = "upgrade.nodewave.io/was-unschedulable"

	// UpgradeSinceAnnotation is when the node entered upgrading (toward
	// its current target), as an RFC 3339 time: upgrade.timeout counts
	// from it through upgrading and verifying together.
	UpgradeSinceAnnotation = "upgrade.nodewave.io/upgrade-since"

	// StateSinceAnnotation is when the node entered its current state, as an
	// RFC 3339 time. Drain and upgrade timeouts and the soak are measured
	// from it, so they survive a manager restart.
	StateSinceAnnotation = "upgrade.nodewave.io/state-since"

	// EvictedOwnersAnnotation, on a node nodewave drained, records the
	// workloads whose pods its drain evicted (ReplicaSets, StatefulSets,
	// ReplicationControllers) and when the drain ended, as JSON:
	// {"drained":"2026-12-07T02:40:00Z","owners":["ReplicaSet/shop/web-5d9c",...]}.
	// spec.health.replacementsReady reads it. Written only with that gate.
	EvictedOwnersAnnotation = "upgrade.nodewave.io/evicted-owners"

	// FailureAnnotation, on a failed or blocked node, says why it failed or
	// why its drain did not finish: "Reason: message", for example
	// "DrainTimeout: 2 pods blocked by PodDisruptionBudget default/web".
	FailureAnnotation = "upgrade.nodewave.io/failure"

	// JobNodeLabel, on an upgrade Job, names the node the Job upgrades.
	JobNodeLabel = "upgrade.nodewave.io/node"

	// JobClusterUpgradeLabel, on an upgrade Job, names its ClusterUpgrade.
	JobClusterUpgradeLabel = "upgrade.nodewave.io/cluster-upgrade"

	// JobHookLabel, on a hook Job (spec.hooks) and its pod, says which hook
	// it runs: pre-drain or post-upgrade. Hook Jobs carry the two labels
	// above as well.
	JobHookLabel = "upgrade.nodewave.io/hook"

	// ZoneLabel is the well-known topology label; nodes are upgraded zone by
	// zone, then by name.
	ZoneLabel = "topology.kubernetes.io/zone"

	// PendingTaintKey is the key of the PreferNoSchedule taint nodewave
	// puts on each node a ClusterUpgrade will upgrade but has not started
	// (its value is the ClusterUpgrade's name), so the scheduler prefers
	// other nodes for the pods the drains evict: a pod is then evicted
	// once, not again from each pending node it lands on. It comes off
	// when the node is upgraded, skipped, let go of, or the ClusterUpgrade
	// is deleted. nodewave never adds or removes any other taint.
	PendingTaintKey = "upgrade.nodewave.io/pending"

	// PreDrainHookPrefix begins the hook annotations that hold a node,
	// once nodewave has cordoned it, before its drain:
	// pre-drain.hook.upgrade.nodewave.io/<name> (Cluster API's
	// pre-drain.delete.hook.machine.cluster.x-k8s.io). Another controller
	// sets its hook ahead of time, does its work when it sees the node
	// cordoned (the state label), and removes its annotation to let the
	// drain begin. The value is free text (whose hook it is); nodewave
	// never writes or removes these annotations.
	PreDrainHookPrefix = "pre-drain.hook.upgrade.nodewave.io/"

	// PostUpgradeHookPrefix begins the hook annotations that hold a node,
	// upgraded and soaked, before nodewave uncordons it:
	// post-upgrade.hook.upgrade.nodewave.io/<name>. As with the pre-drain
	// hooks, their controllers remove them; nodewave only waits.
	PostUpgradeHookPrefix = "post-upgrade.hook.upgrade.nodewave.io/"

	// Finalizer holds a ClusterUpgrade until it has released its nodes.
	Finalizer = "upgrade.nodewave.io/finalizer"

	// ControlPlaneLabel marks kubeadm control-plane nodes. Without a
	// nodeSelector a ClusterUpgrade selects every node that lacks it.
	ControlPlaneLabel = "node-role.kubernetes.io/control-plane"
)

// NodeState is the value of the NodeStateLabel on a node that nodewave holds
// or has finished with. A node without the label is pending.
type NodeState string

// The node lifecycle: cordoned → draining → upgrading → verifying → upgraded,
// or failed from draining, upgrading or verifying, or blocked from draining.
const (
	// NodeCordoned: the node is unschedulable and about to be drained.
	NodeCordoned NodeState = "cordoned"
	// NodeDraining: its pods are being evicted.
	NodeDraining NodeState = "draining"
	// NodeUpgrading: the kubelet is being upgraded, by a Job or an External agent.
	NodeUpgrading NodeState = "upgrading"
	// NodeVerifying: the kubelet reports the target; nodewave waits for it to
	// stay Ready for the soak duration.
	NodeVerifying NodeState = "verifying"
	// NodeUpgraded: at the target, Ready, and uncordoned unless an admin had
	// cordoned it.
	NodeUpgraded NodeState = "upgraded"
	// NodeFailed: the node could not be upgraded; it stays cordoned until a
	// human removes the label or changes the ClusterUpgrade's spec. A node
	// that fails a check made before its cordon (JobNotBuildable) is failed
	// without ever being cordoned.
	NodeFailed NodeState = "failed"
	// NodeBlocked: the node's drain outlived drain.timeout under
	// drain.onTimeout Cordon; it stays cordoned with the pods that would not
	// leave, not upgraded and not failed, until a human removes the label
	// (a retry) or changes the ClusterUpgrade's spec.
	NodeBlocked NodeState = "blocked"
)
