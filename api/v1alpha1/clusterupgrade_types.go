package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// StrategyType says how many nodes may be upgraded at once.
// +kubebuilder:validation:Enum=Sequential;Concurrent
type StrategyType string

const (
	// SequentialStrategy upgrades one node at a time: maxUnavailable is 1.
	SequentialStrategy StrategyType = "Sequential"
	// ConcurrentStrategy upgrades up to strategy.maxUnavailable nodes at once.
	ConcurrentStrategy StrategyType = "Concurrent"
)

// DrainTimeoutAction says what happens when a node's drain outlives
// drain.timeout.
// +kubebuilder:validation:Enum=Fail;ForceDelete;Cordon
type DrainTimeoutAction string

const (
	// DrainTimeoutFail marks the node failed and leaves it cordoned.
	DrainTimeoutFail DrainTimeoutAction = "Fail"
	// DrainTimeoutForceDelete deletes the pods that are left, without eviction.
	DrainTimeoutForceDelete DrainTimeoutAction = "ForceDelete"
	// DrainTimeoutCordon leaves the node cordoned with the pods that would
	// not leave, marks it blocked (not failed), and goes on with the others,
	// up to drain.maxBlockedNodes (AKS's undrainableNodeBehavior: Cordon).
	DrainTimeoutCordon DrainTimeoutAction = "Cordon"
)

// UpgradeType says who upgrades the kubelet of a drained node.
// +kubebuilder:validation:Enum=Job;External
type UpgradeType string

const (
	// JobUpgrade runs one Job per node, pinned to the node, from upgrade.job.template.
	JobUpgrade UpgradeType = "Job"
	// ExternalUpgrade leaves the upgrade to another agent (Ansible, a vendor
	// agent): nodewave cordons, drains, labels the node upgrading and waits.
	ExternalUpgrade UpgradeType = "External"
)

// Phase is a one-word summary of a ClusterUpgrade's progress.
// +kubebuilder:validation:Enum=Pending;Progressing;Paused;Succeeded;Failed
type Phase string

const (
	// PhasePending: nothing has started yet.
	PhasePending Phase = "Pending"
	// PhaseProgressing: nodes are being upgraded.
	PhaseProgressing Phase = "Progressing"
	// PhasePaused: spec.paused is true.
	PhasePaused Phase = "Paused"
	// PhaseSucceeded: every selected node is upgraded.
	PhaseSucceeded Phase = "Succeeded"
	// PhaseFailed: more nodes failed than maxFailedNodes allows; the upgrade
	// has halted.
	PhaseFailed Phase = "Failed"
)

// ClusterUpgradeSpec is what the admin asks for: a kubelet version for a set
// of nodes, and how carefully to get there.
// +kubebuilder:validation:XValidation:rule="!has(self.upgrade) || (has(self.upgrade.type) && self.upgrade.type != 'Job') || has(self.upgrade.job)",message="upgrade.job is required when upgrade.type is Job",fieldPath=".upgrade.job",reason="FieldValueRequired"
type ClusterUpgradeSpec struct {
	// targetVersion is the kubelet version every selected node must report,
	// as vMAJOR.MINOR.PATCH with optional -prerelease and +build parts, for
	// example v1.37.2. Nodes already newer are skipped, never downgraded.
	// +required
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^v(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)([.](0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?([+][0-9A-Za-z-]+([.][0-9A-Za-z-]+)*)?$')",message="targetVersion must be a version like v1.37.2: vMAJOR.MINOR.PATCH with optional -prerelease and +build parts"
	TargetVersion string `json:"targetVersion"`

	// nodeSelector selects the nodes to upgrade. When absent, every node
	// without the node-role.kubernetes.io/control-plane label is selected.
	// An empty selector ({}) selects every node, control plane included.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'])",message="nodeSelector.matchExpressions[].operator must be In, NotIn, Exists or DoesNotExist",fieldPath=".matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, (e.operator in ['In', 'NotIn']) == (has(e.values) && size(e.values) > 0))",message="nodeSelector.matchExpressions[].values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",fieldPath=".matchExpressions"
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`

	// strategy says how many nodes may be out of service at once.
	// +optional
	// +kubebuilder:default={}
	Strategy UpgradeStrategy `json:"strategy,omitempty"`

	// drain says how pods are moved off a node before its upgrade.
	// +optional
	// +kubebuilder:default={}
	Drain DrainSpec `json:"drain,omitempty"`

	// upgrade says who upgrades the kubelet of a drained node, and how long
	// it may take.
	// +optional
	// +kubebuilder:default={}
	Upgrade NodeUpgradeSpec `json:"upgrade,omitempty"`

	// health says how long an upgraded node must stay healthy before it is
	// uncordoned.
	// +optional
	// +kubebuilder:default={}
	Health HealthSpec `json:"health,omitempty"`

	// maxFailedNodes is how many nodes may fail before the upgrade halts:
	// once more than this many have failed, nothing new starts, the phase
	// becomes Failed and Stalled is True. Default 0: the first failure halts.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	MaxFailedNodes int32 `json:"maxFailedNodes,omitempty"`

	// paused stops new nodes from starting while true. Nodes already in
	// flight are carried through to upgraded rather than left cordoned
	// half-way. Setting it back to false resumes.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// controlPlane, when set, upgrades the control-plane nodes first, one
	// at a time, each checked (its static pods at the target, its API
	// server ready, etcd with full quorum) before the next starts; the
	// nodes of spec.nodeSelector start only once every control-plane node
	// is at the target. Absent: only the nodes of spec.nodeSelector are
	// upgraded, as before. See docs/user-guide.md, "Control-plane upgrades".
	// +optional
	ControlPlane *ControlPlaneSpec `json:"controlPlane,omitempty"`

	// priority, when set, orders the nodes by a number each carries in a
	// label or an annotation: lower first, ties by zone then name. A node
	// without it has priority 0; a value that is not an integer stalls the
	// upgrade (InvalidPriority) until it is fixed. "The database primary's
	// node last" is priority 100 on that node; "rack by rack" is the rack's
	// number on each node.
	// +optional
	Priority *PrioritySpec `json:"priority,omitempty"`

	// window is a recurring maintenance window: nodes start only inside it.
	// Outside it nothing new is cordoned, while nodes already in flight are
	// carried through to upgraded rather than left cordoned half-way;
	// status.nextWindowOpens says when it opens next. Absent: always open.
	// +optional
	Window *MaintenanceWindow `json:"window,omitempty"`

	// hooks run Jobs of your own at two points of each node's upgrade:
	// preDrain once the node is cordoned, before its drain (Ceph's noout,
	// say), postUpgrade once it is upgraded and soaked, before its
	// uncordon (the noout's removal, a smoke test). Each holds its node
	// until its Job succeeds. The hook annotations on a node
	// (pre-drain.hook.upgrade.nodewave.io/<name>) hold it at the same
	// points, for controllers of your own.
	// +optional
	Hooks *HooksSpec `json:"hooks,omitempty"`
}

// HooksSpec are the hook Jobs of a ClusterUpgrade.
type HooksSpec struct {
	// preDrain runs once per node, when nodewave has cordoned it and
	// before it evicts any of its pods.
	// +optional
	PreDrain *HookJob `json:"preDrain,omitempty"`

	// postUpgrade runs once per node, when its kubelet has been Ready at
	// the target for health.soakDuration, before nodewave uncordons it.
	// +optional
	PostUpgrade *HookJob `json:"postUpgrade,omitempty"`
}

// HookFailurePolicy says what a failed hook Job does to its node.
// +kubebuilder:validation:Enum=Fail;Ignore
type HookFailurePolicy string

const (
	// HookFail fails the node (it stays cordoned), as a failed upgrade Job does.
	HookFail HookFailurePolicy = "Fail"
	// HookIgnore goes on as if the Job had succeeded, with a Warning event.
	HookIgnore HookFailurePolicy = "Ignore"
)

// HookJob is one hook's Job: one per node, in the manager's Job namespace,
// named nodewave-<hook>-<node>-<hash>, with NODEWAVE_NODE_NAME,
// NODEWAVE_TARGET_VERSION and NODEWAVE_HOOK (pre-drain or post-upgrade) in
// every container. Unlike the upgrade Job it is not pinned to the node: it
// is scheduled like any pod (the node is cordoned). It runs as the
// nodewave-upgrade ServiceAccount, under the same rules as the upgrade
// Job's template: the manager's image allow-list, no Secret but the
// allowed ones, and a server-side dry run before any node is cordoned.
type HookJob struct {
	// template is the pod template of the hook Job, a core/v1
	// PodTemplateSpec: see
	// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-template-v1/
	// for its fields (the CRD keeps their schema but not their
	// descriptions, and has no ephemeralContainers, which a Job's pod
	// never has). The API server also judges it with a server-side dry
	// run of the Job before any node is cordoned; a template it refuses
	// stalls the upgrade (reason JobRejected) naming this field.
	// +required
	Template corev1.PodTemplateSpec `json:"template"`

	// timeout is how long the hook Job may run, as a Go duration: its
	// activeDeadlineSeconds. Past it the Job fails, and failurePolicy
	// says what follows. Default 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) > duration('0s')",message="timeout must be a positive duration such as 30s, 10m or 1h30m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// failurePolicy is what a failed (or timed out) hook Job does: Fail
	// (the default) fails the node, which stays cordoned, and counts
	// against maxFailedNodes; Ignore goes on, with a Warning event.
	// +optional
	// +kubebuilder:default=Fail
	FailurePolicy HookFailurePolicy `json:"failurePolicy,omitempty"`
}

// Weekday is a day of the week, by its full English name.
// +kubebuilder:validation:Enum=Monday;Tuesday;Wednesday;Thursday;Friday;Saturday;Sunday
type Weekday string

// The days of the week.
const (
	Monday    Weekday = "Monday"
	Tuesday   Weekday = "Tuesday"
	Wednesday Weekday = "Wednesday"
	Thursday  Weekday = "Thursday"
	Friday    Weekday = "Friday"
	Saturday  Weekday = "Saturday"
	Sunday    Weekday = "Sunday"
)

// MaintenanceWindow is a time of day, on some days of the week, in one time
// zone, when new nodes may start. A window whose end is before its start
// runs past midnight and belongs to the day it starts: Friday 22:00 to
// 04:00 is open from Friday 22:00 until Saturday 04:00. The start is
// inclusive and the end exclusive. On a daylight-saving day a start or end
// the clock skips falls on the instant the clock jumps, and one the clock
// shows twice is its first showing (see docs/design-decisions.md).
// +kubebuilder:validation:XValidation:rule="self.start != self.end",message="window.end must differ from window.start (omit spec.window to allow every time)",fieldPath=".end"
type MaintenanceWindow struct {
	// days are the days of the week on which the window opens, by full
	// English name (Monday .. Sunday), each at most once. Absent: every day.
	// A window that runs past midnight belongs to the day it starts.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=7
	Days []Weekday `json:"days,omitempty"`

	// start is the time of day the window opens, as HH:MM on a 24-hour
	// clock in timeZone, for example 22:00. Inclusive.
	// +required
	// +kubebuilder:validation:MaxLength=5
	// +kubebuilder:validation:XValidation:rule="self.matches('^([01][0-9]|2[0-3]):[0-5][0-9]$')",message="start must be a time of day as HH:MM on a 24-hour clock, from 00:00 to 23:59"
	Start string `json:"start"`

	// end is the time of day the window closes, as HH:MM on a 24-hour clock
	// in timeZone, for example 04:00. Exclusive. An end before start means
	// the next day (22:00 to 04:00 runs past midnight); 00:00 is midnight.
	// It must differ from start.
	// +required
	// +kubebuilder:validation:MaxLength=5
	// +kubebuilder:validation:XValidation:rule="self.matches('^([01][0-9]|2[0-3]):[0-5][0-9]$')",message="end must be a time of day as HH:MM on a 24-hour clock, from 00:00 to 23:59"
	End string `json:"end"`

	// timeZone is the IANA time zone of start, end and days, for example
	// Europe/Berlin or America/New_York. Default UTC. A name the manager's
	// time zone database does not know makes the ClusterUpgrade Stalled
	// with reason InvalidWindow.
	// +optional
	// +kubebuilder:default=UTC
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$') && self != 'Local'",message="timeZone must be an IANA time zone name such as Europe/Berlin, America/New_York or UTC"
	TimeZone string `json:"timeZone,omitempty"`
}

// UpgradeStrategy says how many nodes may be out of service at once.
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'Concurrent' || has(self.maxUnavailable)",message="maxUnavailable is required when strategy.type is Concurrent",fieldPath=".maxUnavailable",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="(has(self.type) && self.type == 'Concurrent') || !has(self.maxUnavailable)",message="maxUnavailable is only allowed when strategy.type is Concurrent (Sequential is exactly one node at a time)",fieldPath=".maxUnavailable",reason="FieldValueForbidden"
type UpgradeStrategy struct {
	// type is Sequential (one node at a time, the default) or Concurrent
	// (up to maxUnavailable nodes at once).
	// +optional
	// +kubebuilder:default=Sequential
	Type StrategyType `json:"type,omitempty"`

	// maxUnavailable is how many selected nodes may be unavailable at once,
	// as a count (an integer of at least 1) or a percentage of the selected
	// nodes ("1%" to "100%", rounded down but never below one node).
	// Unavailable means cordoned by anyone or NotReady, so nodes that were
	// already out before the upgrade count against it. Required for
	// Concurrent, forbidden for Sequential.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^(100|[1-9][0-9]?)%$')",message="maxUnavailable must be an integer of at least 1 or a percentage from 1% to 100%"
	// +kubebuilder:validation:XValidation:rule="type(self) != int || self <= 2147483647",message="maxUnavailable must fit in 32 bits: at most 2147483647"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// canary, when set, upgrades a first wave of the worker nodes alone
	// (at most maxUnavailable at a time), then holds the rest until every
	// canary node is upgraded and has soaked for canary.soakDuration, and,
	// with canary.pause, until a person sets pause to false. A canary node
	// that fails holds the rest whatever maxFailedNodes says. The
	// control-plane nodes (spec.controlPlane) are not part of it: they go
	// one at a time before any worker anyway.
	// +optional
	Canary *CanarySpec `json:"canary,omitempty"`

	// zones caps the upgrade per failure domain: how many nodes of one
	// zone may be unavailable at once, and whether zones go one at a time.
	// Zones are the values of zones.topologyKey (default
	// topology.kubernetes.io/zone); nodes without that label are a zone of
	// their own.
	// +optional
	Zones *ZoneStrategy `json:"zones,omitempty"`
}

// PrioritySpec names where each node's priority is written: a label or an
// annotation, exactly one.
// +kubebuilder:validation:XValidation:rule="has(self.label) != has(self.annotation)",message="priority needs exactly one of label and annotation"
type PrioritySpec struct {
	// label is the key of a node label whose value is the node's
	// priority, an integer.
	// +optional
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')",message="label must be a label key such as example.com/upgrade-priority"
	Label string `json:"label,omitempty"`

	// annotation is the key of a node annotation whose value is the
	// node's priority, an integer.
	// +optional
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')",message="annotation must be an annotation key such as example.com/upgrade-priority"
	Annotation string `json:"annotation,omitempty"`
}

// ZoneStrategy shapes an upgrade by failure domain.
// +kubebuilder:validation:XValidation:rule="has(self.maxUnavailable) || (has(self.oneAtATime) && self.oneAtATime)",message="zones needs maxUnavailable, oneAtATime: true, or both"
type ZoneStrategy struct {
	// topologyKey is the node label whose value names a node's zone.
	// Default topology.kubernetes.io/zone. The plan goes zone by zone in
	// the order of these values.
	// +optional
	// +kubebuilder:default="topology.kubernetes.io/zone"
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')",message="topologyKey must be a label key such as topology.kubernetes.io/zone"
	TopologyKey string `json:"topologyKey,omitempty"`

	// maxUnavailable is how many nodes of one zone may be unavailable at
	// once (the maxUnavailablePerZone of other tools), on top of
	// strategy.maxUnavailable: a count (at least 1) or a percentage of
	// the zone's selected nodes ("1%" to "100%", rounded down but never
	// below one node).
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^(100|[1-9][0-9]?)%$')",message="maxUnavailable must be an integer of at least 1 or a percentage from 1% to 100%"
	// +kubebuilder:validation:XValidation:rule="type(self) != int || self <= 2147483647",message="maxUnavailable must fit in 32 bits: at most 2147483647"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// oneAtATime, when true, upgrades one zone at a time: no node of the
	// next zone starts while a node of another is in flight, and a zone is
	// left only when none of its nodes can start any more (upgraded,
	// failed, skipped, or NotReady). Zones go in plan order.
	// +optional
	OneAtATime bool `json:"oneAtATime,omitempty"`
}

// CanarySpec is the first wave of an upgrade, which goes alone.
type CanarySpec struct {
	// nodes is the size of the canary wave: a count of worker nodes (at
	// least 1) or a percentage of the selected worker nodes ("1%" to
	// "100%", rounded up, so never less than one node).
	// +required
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^(100|[1-9][0-9]?)%$')",message="nodes must be an integer of at least 1 or a percentage from 1% to 100%"
	// +kubebuilder:validation:XValidation:rule="type(self) != int || self <= 2147483647",message="nodes must fit in 32 bits: at most 2147483647"
	Nodes intstr.IntOrString `json:"nodes"`

	// soakDuration is how long the rest wait after the last canary node is
	// upgraded, as a Go duration (each node's own health.soakDuration
	// comes first). Default 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('0s')",message="soakDuration must be a duration of zero or more such as 0s, 30s or 10m"
	SoakDuration *metav1.Duration `json:"soakDuration,omitempty"`

	// pause, when true, holds the rest after the canary's soak until it is
	// set to false: a look at the canary nodes before going on. While the
	// canary runs and soaks, setting it changes nothing else.
	// +optional
	Pause bool `json:"pause,omitempty"`
}

// DrainSpec says how pods are moved off a node. Pods are evicted through the
// Eviction API, so PodDisruptionBudgets are honoured; DaemonSet pods,
// mirror (static) pods and finished pods are left alone.
// +kubebuilder:validation:XValidation:rule="!has(self.maxBlockedNodes) || (has(self.onTimeout) && self.onTimeout == 'Cordon')",message="drain.maxBlockedNodes is only allowed when drain.onTimeout is Cordon",fieldPath=".maxBlockedNodes",reason="FieldValueForbidden"
type DrainSpec struct {
	// timeout is how long one node's drain may take, as a Go duration such
	// as 10m. What happens next is onTimeout. Default 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) > duration('0s')",message="timeout must be a positive duration such as 30s, 10m or 1h30m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// gracePeriodSeconds overrides each evicted pod's own termination grace
	// period. Absent: each pod's own is used. 0 is a force delete: the pod
	// object is removed at once, without waiting for its containers to stop
	// (as kubectl delete --grace-period=0 --force), so a pod of a
	// StatefulSet may run twice for a while; use 1 for the shortest
	// graceful stop.
	// +optional
	// +kubebuilder:validation:Minimum=0
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`

	// deleteEmptyDirData allows evicting pods that use emptyDir volumes,
	// whose data is lost. When false, such a pod blocks the drain. Default true.
	// +optional
	// +kubebuilder:default=true
	DeleteEmptyDirData *bool `json:"deleteEmptyDirData,omitempty"`

	// force also evicts pods that no controller owns, which will not come
	// back anywhere. When false, such a pod blocks the drain. Default false.
	// +optional
	Force bool `json:"force,omitempty"`

	// rules say, for the pods they match (by namespace and label
	// selector), whether the drain evicts them (Drain, in the order each
	// rule gives), leaves them on the node (Skip) or waits until they
	// complete (WaitCompleted). Of the rules, the first that matches a pod
	// decides for it; a pod's own drain.upgrade.nodewave.io/behavior and
	// drain.upgrade.nodewave.io/order label or annotation win over them.
	// A pod no rule or marker names is evicted, in order 0. See
	// docs/user-guide.md, "Drain rules".
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Rules []DrainRule `json:"rules,omitempty"`

	// onTimeout is what happens when the drain outlives timeout: Fail (the
	// default) marks the node failed and leaves it cordoned; ForceDelete
	// deletes the remaining pods without eviction, ignoring
	// PodDisruptionBudgets, and goes on; Cordon stops the drain, leaves the
	// node cordoned with the pods that would not leave, marks it blocked
	// (upgrade.nodewave.io/state=blocked: not upgraded, not failed, not
	// counted by maxFailedNodes), frees its slot and goes on with the other
	// nodes, up to maxBlockedNodes.
	// +optional
	// +kubebuilder:default=Fail
	OnTimeout DrainTimeoutAction `json:"onTimeout,omitempty"`

	// maxBlockedNodes is, with onTimeout Cordon, how many nodes may be
	// blocked: once more than this many are, nothing new starts and the
	// upgrade stalls (reason TooManyBlockedNodes). A blocked node stays
	// cordoned but takes no slot of maxUnavailable: its pods that would not
	// leave keep running. Absent: the resolved maxUnavailable. Only allowed
	// with onTimeout Cordon.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxBlockedNodes *int32 `json:"maxBlockedNodes,omitempty"`
}

// NodeUpgradeSpec says who upgrades the kubelet of a drained node.
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type == 'Job' || !has(self.job)",message="upgrade.job is only allowed when upgrade.type is Job",fieldPath=".job",reason="FieldValueForbidden"
type NodeUpgradeSpec struct {
	// type is Job (the default: nodewave runs one Job per node from
	// job.template) or External (another agent upgrades the kubelet;
	// nodewave drains, labels the node upgrading, and waits).
	// +optional
	// +kubebuilder:default=Job
	Type UpgradeType `json:"type,omitempty"`

	// timeout is how long a node may take from the start of its upgrade
	// until it is Ready at the target version, as a Go duration. Past it the
	// node fails. It is also the Job's activeDeadlineSeconds. Default 30m.
	// +optional
	// +kubebuilder:default="30m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) > duration('0s')",message="timeout must be a positive duration such as 30s, 10m or 1h30m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// job describes the per-node upgrade Job. Required when type is Job,
	// forbidden otherwise.
	// +optional
	Job *JobSpec `json:"job,omitempty"`
}

// ControlPlaneSpec says which nodes are the control plane. Control-plane
// nodes go one at a time, whatever spec.strategy says, through the same
// steps as the others: spec.drain, spec.upgrade and spec.health apply to
// them too. Their upgrade Job's containers also get
// NODEWAVE_CONTROL_PLANE_ROLE: "first" on the first control-plane node
// upgraded (no control-plane node at the target yet), which runs kubeadm
// upgrade apply, and "other" on the rest, which run kubeadm upgrade node.
// A node that both selectors select is a control-plane node.
type ControlPlaneSpec struct {
	// nodeSelector selects the control-plane nodes. Absent: every node
	// with the node-role.kubernetes.io/control-plane label.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'])",message="controlPlane.nodeSelector.matchExpressions[].operator must be In, NotIn, Exists or DoesNotExist",fieldPath=".matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, (e.operator in ['In', 'NotIn']) == (has(e.values) && size(e.values) > 0))",message="controlPlane.nodeSelector.matchExpressions[].values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",fieldPath=".matchExpressions"
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`
}

// JobSpec describes the Job that upgrades one node. nodewave pins it to the
// node, makes it tolerate every taint, and sets the environment variables
// NODEWAVE_TARGET_VERSION and NODEWAVE_NODE_NAME in every container.
type JobSpec struct {
	// template is the pod template of the upgrade Job (image, command,
	// env, volumes, securityContext), a core/v1 PodTemplateSpec: see
	// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-template-v1/
	// for its fields (the CRD keeps their schema but not their
	// descriptions, and has no ephemeralContainers, which a Job's pod
	// never has). config/samples holds a working one for kubeadm nodes.
	// +required
	Template corev1.PodTemplateSpec `json:"template"`
}

// HealthSpec says when an upgraded node counts as healthy.
type HealthSpec struct {
	// soakDuration is how long a node must stay Ready at the target version
	// before it is uncordoned, as a Go duration; 0s uncordons it at once.
	// Default 30s. Like every duration here, it must fit a Go duration
	// (at most 2562047h).
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('0s')",message="soakDuration must be a duration of zero or more such as 0s, 30s or 5m"
	SoakDuration *metav1.Duration `json:"soakDuration,omitempty"`
	// replacementsReady, when set, is a gate: no node starts while the
	// workloads whose pods the drains evicted (each ReplicaSet,
	// StatefulSet or ReplicationController) are short of their desired
	// ready replicas. Nodes in flight go on. Off when unset: it paces the
	// upgrade by its slowest workload.
	// +optional
	ReplacementsReady *ReplacementsReadySpec `json:"replacementsReady,omitempty"`
	// checks are gates too: before any node starts, each check's
	// expression must be true of every object it names (for example a
	// Ceph cluster's health, or a Deployment's availability). A check that
	// is false holds new starts (condition Gated, reason
	// HealthCheckFailing); one that cannot be judged (its expression does
	// not compile, or its objects cannot be read or do not exist) stalls
	// the upgrade with reason InvalidHealthCheck. Nodes in flight go on.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Checks []HealthCheck `json:"checks,omitempty"`
	// prometheus, when set, is a gate: no node starts while an alert whose
	// name matches alertNames is active in this Prometheus (or
	// Alertmanager). Nodes in flight go on.
	// +optional
	Prometheus *PrometheusGate `json:"prometheus,omitempty"`
}

// AlertSource is the kind of server spec.health.prometheus.url is.
// +kubebuilder:validation:Enum=Prometheus;Alertmanager
type AlertSource string

// The alert sources.
const (
	// AlertSourcePrometheus reads /api/v1/alerts of a Prometheus.
	AlertSourcePrometheus AlertSource = "Prometheus"
	// AlertSourceAlertmanager reads /api/v2/alerts of an Alertmanager:
	// silenced and inhibited alerts do not count.
	AlertSourceAlertmanager AlertSource = "Alertmanager"
)

// PrometheusGate holds new starts while matching alerts are active.
type PrometheusGate struct {
	// url is the server's base URL, such as
	// http://prometheus-operated.monitoring:9090.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	URL string `json:"url"`
	// source is what url is: Prometheus (default) or Alertmanager.
	// +optional
	// +kubebuilder:default=Prometheus
	Source AlertSource `json:"source,omitempty"`
	// alertNames is a regular expression (RE2, matched against the whole
	// alert name) of the alerts that hold new starts. Default: every
	// alert.
	// +optional
	// +kubebuilder:default=".*"
	// +kubebuilder:validation:MaxLength=1024
	AlertNames string `json:"alertNames,omitempty"`
	// firingOnly: only firing alerts hold new starts, not pending ones
	// (Prometheus only; an Alertmanager's alerts are all firing).
	// +optional
	FiringOnly bool `json:"firingOnly,omitempty"`
	// timeout is how long the server may be unreachable (or answer
	// nonsense) before the upgrade stalls with reason AlertsUnreadable;
	// until then it holds new starts. A Go duration, default 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) > duration('0s')",message="prometheus.timeout must be a positive duration such as 10m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// HealthCheck is a CEL expression that must hold of some objects before a
// node starts.
// +kubebuilder:validation:XValidation:rule="has(self.objectName) != has(self.labelSelector)",message="a check needs exactly one of objectName and labelSelector"
type HealthCheck struct {
	// name identifies the check in the status.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// apiVersion of the objects, such as apps/v1 or ceph.rook.io/v1.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	APIVersion string `json:"apiVersion"`
	// kind of the objects, such as Deployment or CephCluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// namespace of the objects: empty for a cluster-scoped kind, or, with
	// labelSelector, for every namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// objectName names the one object to check.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ObjectName string `json:"objectName,omitempty"`
	// labelSelector selects the objects to check: the expression must hold
	// of every one, and at least one must exist.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// expression is a CEL expression over `object` (the object, as
	// JSON) that must evaluate to true, for example
	// object.status.ceph.health == "HEALTH_OK". It is evaluated with the
	// API server's CEL library and cost limit; an error while evaluating
	// it (a field not there yet) counts as false, with the error shown.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Expression string `json:"expression"`
}

// ReplacementsReadySpec is the gate on the replacements of evicted pods.
type ReplacementsReadySpec struct {
	// timeout is how long after the drain that evicted its pods a workload
	// may stay short of ready replicas before the upgrade stalls (reason
	// ReplacementsNotReady, naming it), as a Go duration. It is also how
	// long after a node's upgrade its drain's workloads are still looked
	// at. Default 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) > duration('0s')",message="replacementsReady.timeout must be a positive duration such as 10m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// NodeProgress is one node in flight.
type NodeProgress struct {
	// name is the node's name.
	Name string `json:"name"`
	// state is the node's lifecycle state: cordoned, draining, upgrading or verifying.
	State NodeState `json:"state"`
	// since is when the node entered state.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
	// message says what the node is waiting for, for example
	// "2 pods blocked by PodDisruptionBudget default/web".
	// +optional
	Message string `json:"message,omitempty"`
}

// NodeFailure is one node that failed.
type NodeFailure struct {
	// name is the node's name.
	Name string `json:"name"`
	// reason is a CamelCase word for the failure, such as DrainTimeout,
	// JobFailed or UpgradeTimeout.
	Reason string `json:"reason"`
	// message says what happened in plain words.
	// +optional
	Message string `json:"message,omitempty"`
	// time is when the node failed.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// ClusterUpgradeStatus is what nodewave observed and did. It holds counts,
// the nodes in flight and the failed ones, so it stays small on clusters of
// thousands of nodes; the per-node truth is on each Node's labels.
type ClusterUpgradeStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// It is -1 until the first reconcile, so a new object reads as in progress.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is a one-word summary: Pending, Progressing, Paused, Succeeded or Failed.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// totalNodes is how many nodes the selector selects.
	// +optional
	// +kubebuilder:default=0
	TotalNodes int32 `json:"totalNodes"`
	// upgradedNodes is how many selected nodes are at the target, Ready and
	// uncordoned (or left cordoned because an admin had cordoned them).
	// +optional
	// +kubebuilder:default=0
	UpgradedNodes int32 `json:"upgradedNodes"`
	// upgradingNodes is how many selected nodes are in flight, from cordoned
	// to verifying.
	// +optional
	// +kubebuilder:default=0
	UpgradingNodes int32 `json:"upgradingNodes"`
	// pendingNodes is how many selected nodes have not started.
	// +optional
	// +kubebuilder:default=0
	PendingNodes int32 `json:"pendingNodes"`
	// failedNodes is how many selected nodes failed.
	// +optional
	// +kubebuilder:default=0
	FailedNodes int32 `json:"failedNodes"`
	// blockedNodes is how many selected nodes are blocked: their drain
	// outlived drain.timeout under drain.onTimeout Cordon, and they stay
	// cordoned, not upgraded. Absent when none is.
	// +optional
	BlockedNodes int32 `json:"blockedNodes,omitempty"`
	// skippedNodes is how many selected nodes are left alone, such as nodes
	// already newer than the target (never downgraded).
	// +optional
	// +kubebuilder:default=0
	SkippedNodes int32 `json:"skippedNodes"`

	// inProgress lists the nodes in flight; never longer than maxUnavailable.
	// +optional
	// +listType=map
	// +listMapKey=name
	InProgress []NodeProgress `json:"inProgress,omitempty"`

	// failed lists failed nodes; never longer than maxFailedNodes+1.
	// +optional
	// +listType=map
	// +listMapKey=name
	Failed []NodeFailure `json:"failed,omitempty"`

	// blocked lists blocked nodes (see blockedNodes) with why their drain
	// did not finish; never longer than maxBlockedNodes+1 (at most 50).
	// +optional
	// +listType=map
	// +listMapKey=name
	Blocked []NodeFailure `json:"blocked,omitempty"`

	// startedAt is when the first node was cordoned.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// completedAt is when the last node was upgraded.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// controlPlane counts the control-plane nodes, set when
	// spec.controlPlane is; the counts above are the other nodes'.
	// +optional
	ControlPlane *ControlPlaneStatus `json:"controlPlane,omitempty"`

	// nextWindowOpens is when spec.window next opens. It is set only while
	// the window is closed and nodes wait to start.
	// +optional
	NextWindowOpens *metav1.Time `json:"nextWindowOpens,omitempty"`

	// conditions are Ready, Reconciling and Stalled, following kstatus.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ControlPlaneStatus counts the control-plane nodes of a ClusterUpgrade
// by where they stand, as the top-level counts do the others.
type ControlPlaneStatus struct {
	// totalNodes is how many nodes spec.controlPlane.nodeSelector selects.
	// +optional
	// +kubebuilder:default=0
	TotalNodes int32 `json:"totalNodes"`
	// upgradedNodes is how many control-plane nodes are at the target,
	// checked and uncordoned.
	// +optional
	// +kubebuilder:default=0
	UpgradedNodes int32 `json:"upgradedNodes"`
	// upgradingNodes is how many control-plane nodes are in flight (at
	// most one).
	// +optional
	// +kubebuilder:default=0
	UpgradingNodes int32 `json:"upgradingNodes"`
	// pendingNodes is how many control-plane nodes have not started.
	// +optional
	// +kubebuilder:default=0
	PendingNodes int32 `json:"pendingNodes"`
	// failedNodes is how many control-plane nodes failed; one halts the
	// whole upgrade.
	// +optional
	// +kubebuilder:default=0
	FailedNodes int32 `json:"failedNodes"`
	// skippedNodes is how many control-plane nodes are newer than the
	// target, never downgraded.
	// +optional
	// +kubebuilder:default=0
	SkippedNodes int32 `json:"skippedNodes"`
}

// ClusterUpgrade brings the kubelet of a set of worker nodes to a target
// version: it cordons, drains, upgrades, verifies and uncordons them, one at
// a time or many at once, and never takes more nodes out of service than
// allowed. With spec.controlPlane it upgrades the control plane first, one
// node at a time.
// +kubebuilder:object:root=true
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: it is a label value on the upgrade Jobs and the value of the pending taint"
// +kubebuilder:resource:scope=Cluster,shortName=cu
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetVersion`
// +kubebuilder:printcolumn:name="Strategy",type=string,JSONPath=`.spec.strategy.type`
// +kubebuilder:printcolumn:name="Upgraded",type=integer,JSONPath=`.status.upgradedNodes`
// +kubebuilder:printcolumn:name="Total",type=integer,JSONPath=`.status.totalNodes`
// +kubebuilder:printcolumn:name="CP-Upgraded",type=integer,JSONPath=`.status.controlPlane.upgradedNodes`
// +kubebuilder:printcolumn:name="CP-Total",type=integer,JSONPath=`.status.controlPlane.totalNodes`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Max-Unavailable",type=string,JSONPath=`.spec.strategy.maxUnavailable`,priority=1
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.failedNodes`,priority=1
// +kubebuilder:printcolumn:name="In-Flight",type=integer,JSONPath=`.status.upgradingNodes`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
type ClusterUpgrade struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the admin asks for.
	// +required
	Spec ClusterUpgradeSpec `json:"spec"`

	// status is what nodewave observed and did.
	// +optional
	// +kubebuilder:default={"observedGeneration":-1}
	Status ClusterUpgradeStatus `json:"status,omitempty"`
}

// ClusterUpgradeList is a list of ClusterUpgrades.
// +kubebuilder:object:root=true
type ClusterUpgradeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the ClusterUpgrades.
	Items []ClusterUpgrade `json:"items"`
}
