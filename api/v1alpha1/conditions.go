package v1alpha1

// Condition types of a ClusterUpgrade. They follow kstatus, so Argo CD, Flux
// and `kubectl wait` read them right.
const (
	// ConditionReady is True only when every selected node is upgraded. It is
	// always present, and False while Reconciling or Stalled.
	ConditionReady = "Ready"

	// ConditionReconciling is True while nodes are pending or in flight, and
	// absent otherwise. Never present together with Stalled=True.
	ConditionReconciling = "Reconciling"

	// ConditionStalled is True when only a human can unblock the upgrade: too
	// many failures, version skew, a conflict, or no node to upgrade.
	ConditionStalled = "Stalled"

	// ConditionControlPlaneUpgraded is present when spec.controlPlane is
	// set: True once every control-plane node is at the target and
	// checked, False (reason Upgrading, WaitingForChecks or
	// ControlPlaneFailed) before.
	ConditionControlPlaneUpgraded = "ControlPlaneUpgraded"

	// ConditionGated is present while a gate of spec.health holds new
	// starts: True, its reason the gate (ReplacementsNotReady,
	// HealthCheckFailing, InvalidHealthCheck, AlertFiring or
	// AlertsUnreadable), its
	// message what the gate waits for, its lastTransitionTime when the
	// gate closed. Nodes in flight go on. It is removed when the gate
	// opens.
	ConditionGated = "Gated"
)

// Condition reasons. Each is a CamelCase word that names why a condition has
// its status; the message says the rest in plain words.
const (
	// ReasonProgressing: nodes are pending or in flight.
	ReasonProgressing = "Progressing"
	// ReasonSucceeded: every selected node is upgraded.
	ReasonSucceeded = "Succeeded"
	// ReasonPaused: spec.paused is true; nothing new starts.
	ReasonPaused = "Paused"
	// ReasonTooManyFailures: more nodes failed than spec.maxFailedNodes allows.
	ReasonTooManyFailures = "TooManyFailures"
	// ReasonVersionSkew: the target is newer than the API server, and a
	// kubelet must never be newer than its API server.
	ReasonVersionSkew = "VersionSkew"
	// ReasonConflict: an older unfinished ClusterUpgrade selects some of the
	// same nodes; this one waits for it.
	ReasonConflict = "Conflict"
	// ReasonNoNodes: the node selector matches no node.
	ReasonNoNodes = "NoNodes"
	// ReasonInvalidSpec: the spec passed admission but cannot be acted on,
	// for example a node selector that does not parse.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonInvalidWindow: spec.window passed admission but cannot be
	// judged, for example a time zone the manager does not know.
	ReasonInvalidWindow = "InvalidWindow"
	// ReasonOutsideWindow: nodes wait to start, and spec.window is closed;
	// status.nextWindowOpens says when it opens.
	ReasonOutsideWindow = "OutsideWindow"
	// ReasonNodesFailed: every node is done, but some failed (no more than
	// maxFailedNodes); they stay cordoned until retried.
	ReasonNodesFailed = "NodesFailed"
	// ReasonTooManyBlockedNodes: more nodes are blocked (drain.onTimeout
	// Cordon) than drain.maxBlockedNodes allows; nothing new starts.
	ReasonTooManyBlockedNodes = "TooManyBlockedNodes"
	// ReasonNodesBlocked: every other node is done, but some are blocked
	// (no more than drain.maxBlockedNodes): cordoned, not upgraded, until
	// their pods can leave and they are retried.
	ReasonNodesBlocked = "NodesBlocked"
	// ReasonBudgetExhausted: nodes are pending, but nodes that are not in
	// flight (failed, cordoned by an admin, NotReady) use the whole
	// maxUnavailable budget, so nothing can start.
	ReasonBudgetExhausted = "BudgetExhausted"
	// ReasonNodesNotReady: every pending node is NotReady, and NotReady
	// nodes are never started.
	ReasonNodesNotReady = "NodesNotReady"
	// ReasonUpgrading: control-plane nodes are pending or in flight.
	ReasonUpgrading = "Upgrading"
	// ReasonWaitingForChecks: the control plane's checks (a node's static
	// pods, its API server, etcd's quorum) have not passed yet; the next
	// control-plane node waits for them.
	ReasonWaitingForChecks = "WaitingForChecks"
	// ReasonControlPlaneFailed: a control-plane node failed; nothing new
	// starts, control plane or not, until it is repaired and retried.
	ReasonControlPlaneFailed = "ControlPlaneFailed"
	// ReasonWaitingForControlPlane: the nodes of spec.nodeSelector wait
	// for every control-plane node to be at the target.
	ReasonWaitingForControlPlane = "WaitingForControlPlane"
	// ReasonCanaryRunning: the canary's nodes (spec.strategy.canary) are
	// being upgraded; the rest wait for them.
	ReasonCanaryRunning = "CanaryRunning"
	// ReasonCanarySoaking: every canary node is upgraded; the rest wait
	// for the canary's soakDuration to end.
	ReasonCanarySoaking = "CanarySoaking"
	// ReasonCanaryPaused: the canary soaked and spec.strategy.canary.pause
	// holds the rest until it is set to false (phase Paused).
	ReasonCanaryPaused = "CanaryPaused"
	// ReasonCanaryFailed: a canary node failed; nothing more starts,
	// whatever maxFailedNodes says, until it is retried.
	ReasonCanaryFailed = "CanaryFailed"
	// ReasonInvalidPriority: a selected node's priority label or
	// annotation (spec.priority) is not an integer.
	ReasonInvalidPriority = "InvalidPriority"
	// ReasonJobRejected: the API server refused the upgrade Job built from
	// spec.upgrade.job.template.
	ReasonJobRejected = "JobRejected"
	// ReasonImageNotAllowed: an image of spec.upgrade.job.template is not on
	// the manager's allow-list (its --allowed-upgrade-images flag).
	ReasonImageNotAllowed = "ImageNotAllowed"
	// ReasonCredentialNotAllowed: spec.upgrade.job.template names a
	// ServiceAccount other than the upgrade Jobs' own (nodewave-upgrade),
	// or a Secret of the Job namespace that the manager does not allow.
	ReasonCredentialNotAllowed = "CredentialNotAllowed"
	// ReasonReplacementsNotReady: workloads whose pods the drains evicted
	// are short of ready replicas (spec.health.replacementsReady); nothing
	// new starts. The reason of Gated, and of Stalled once a workload is
	// short for longer than the gate's timeout.
	ReasonReplacementsNotReady = "ReplacementsNotReady"
	// ReasonHealthCheckFailing: a check of spec.health.checks is false
	// of one of its objects; nothing new starts (the reason of Gated).
	ReasonHealthCheckFailing = "HealthCheckFailing"
	// ReasonInvalidHealthCheck: a check of spec.health.checks cannot be
	// judged: its expression does not compile or is not a bool, or its
	// objects cannot be read or do not exist (the reason of Stalled).
	ReasonInvalidHealthCheck = "InvalidHealthCheck"
	// ReasonAlertFiring: an alert that spec.health.prometheus.alertNames
	// matches is active; nothing new starts (the reason of Gated).
	ReasonAlertFiring = "AlertFiring"
	// ReasonAlertsUnreadable: spec.health.prometheus.url cannot be read;
	// nothing new starts (Gated), and after its timeout the upgrade
	// stalls. Also Stalled's reason for an alertNames that does not
	// compile.
	ReasonAlertsUnreadable = "AlertsUnreadable"
)
