package forecast

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	resourcehelper "k8s.io/component-helpers/resource"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy"
	"github.com/nodewave/nodewave/internal/drainpolicy/drainspec"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
	"github.com/nodewave/nodewave/internal/version"
)

// Severity says whether a finding stops, stalls or endangers the upgrade,
// or is only worth knowing.
type Severity string

// The severities of a finding.
const (
	// Blocker: the upgrade will stop or stall on it, leave nodes out, or
	// leave evicted pods with nowhere to go.
	Blocker Severity = "Blocker"
	// Note: worth knowing; the upgrade goes on.
	Note Severity = "Note"
)

// The kinds of finding.
const (
	// KindNoNodes: the selector matches no node (the controller stalls, NoNodes).
	KindNoNodes = "NoNodes"
	// KindVersionSkew: the target is newer than the API server (VersionSkew).
	KindVersionSkew = "VersionSkew"
	// KindConflict: an older unfinished ClusterUpgrade shares nodes (Conflict).
	KindConflict = "Conflict"
	// KindHalted: more nodes failed than maxFailedNodes; nothing starts.
	KindHalted = "Halted"
	// KindPodDisruptionBudget: a budget allows no disruption now, or a pod
	// is selected by more than one budget.
	KindPodDisruptionBudget = "PodDisruptionBudget"
	// KindPod: the drain options keep a pod (or its drain marker does not
	// parse, or it is waited for but can never complete), so its node
	// cannot drain.
	KindPod = "Pod"
	// KindDrainRules: what spec.drain.rules and the pods' own drain
	// markers do on the nodes to drain: pods skipped, pods waited for
	// until they complete, pods evicted in drain order (a note).
	KindDrainRules = "DrainRules"
	// KindNotReady: a NotReady node: never started, and it holds a slot.
	KindNotReady = "NotReady"
	// KindBudget: Ready nodes never start, the budget being held by nodes
	// that are not in flight.
	KindBudget = "Budget"
	// KindCapacity: the room check of one resource.
	KindCapacity = "Capacity"
	// KindPaused: spec.paused.
	KindPaused = "Paused"
	// KindWindow: spec.window cannot be read (a blocker), or is closed or
	// open now (a note).
	KindWindow = "Window"
	// KindAtTarget: nodes already at the target, never touched.
	KindAtTarget = "AtTarget"
	// KindNewer: nodes newer than the target, skipped.
	KindNewer = "Newer"
	// KindCordoned: nodes someone else cordoned; they stay cordoned.
	KindCordoned = "Cordoned"
	// KindHeldByOther: nodes another ClusterUpgrade has in flight.
	KindHeldByOther = "HeldByOther"
	// KindWaitingForControlPlane: with spec.controlPlane, the control-plane
	// wave never finishes, so the other nodes never start
	// (WaitingForControlPlane).
	KindWaitingForControlPlane = "WaitingForControlPlane"
	// KindCanaryFailed: a canary node (spec.strategy.canary) failed, so the
	// rest never start, whatever maxFailedNodes says (CanaryFailed).
	KindCanaryFailed = "CanaryFailed"
	// KindCanaryPaused: spec.strategy.canary.pause holds the rest after the
	// canary's soak (CanaryPaused).
	KindCanaryPaused = "CanaryPaused"
)

// Finding is one thing the forecast foresees.
type Finding struct {
	// Severity is Blocker or Note.
	Severity Severity `json:"severity"`
	// Kind is a CamelCase word for what was found, one of the Kind
	// constants.
	Kind string `json:"kind"`
	// Subject names what the finding is about, for example
	// "PodDisruptionBudget default/web" or "node worker-c-2".
	Subject string `json:"subject"`
	// Message says what will happen and, where a field can change it,
	// which.
	Message string `json:"message"`
	// Nodes are the selected nodes concerned, in plan order.
	Nodes []string `json:"nodes,omitempty"`
}

// Wave is a set of nodes that start together.
type Wave struct {
	// Number counts the waves from 1.
	Number int `json:"number"`
	// ControlPlane marks a wave of the control plane (spec.controlPlane):
	// one node, before every wave of the other nodes.
	ControlPlane bool `json:"controlPlane,omitempty"`
	// Canary marks a wave of the canary (spec.strategy.canary): the first
	// workers, which go alone.
	Canary bool `json:"canary,omitempty"`
	// WaitsFor are the canary's holds this wave waits out before it
	// starts, as the controller's reasons: CanarySoaking (every canary
	// node upgraded, then canary.soakDuration) and CanaryPaused (until
	// spec.strategy.canary.pause is false). The forecast knows no real
	// times, so a soak is a hold between two waves, and the waves after a
	// pause are what happens once it is set to false.
	WaitsFor []string `json:"waitsFor,omitempty"`
	// Nodes are the nodes that start, in plan order.
	Nodes []string `json:"nodes"`
	// Zones are the zones of Nodes, in plan order ("" for no zone).
	Zones []string `json:"zones"`
}

// ControlPlane is the control-plane part of a forecast, with
// spec.controlPlane: its nodes go first, one at a time, and the other
// nodes (the workers) start once every one of them is at the target.
type ControlPlane struct {
	// Selected is how many nodes spec.controlPlane.nodeSelector selects
	// (a node both selectors select is one of them).
	Selected int `json:"selected"`
	// Pending, InFlight, Upgraded, Failed and Skipped count them by where
	// they stand now, as the planner classes them.
	Pending  int `json:"pending"`
	InFlight int `json:"inFlight"`
	Upgraded int `json:"upgraded"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	// InFlightNodes are the control-plane nodes in flight now, in plan
	// order.
	InFlightNodes []string `json:"inFlightNodes,omitempty"`
	// Waves is how many of the forecast's waves (counted in TotalWaves)
	// are the control plane's: the first ones, one node each.
	Waves int `json:"waves"`
}

// Canary is the canary part of a forecast, with spec.strategy.canary: the
// first Size workers go alone; the rest wait until every one of them is
// upgraded and has soaked for SoakDuration, and, with Pause, for a person.
type Canary struct {
	// Size is canary.nodes resolved against the workers (a percentage
	// rounded up, never below one).
	Size int `json:"size"`
	// SoakDuration is canary.soakDuration, or its default.
	SoakDuration metav1.Duration `json:"soakDuration"`
	// Pause is canary.pause.
	Pause bool `json:"pause"`
	// Hold is what holds the rest now, as the controller reports it (the
	// Ready condition's reason): CanaryRunning, CanarySoaking,
	// CanaryPaused or CanaryFailed; empty when nodes may start.
	Hold string `json:"hold,omitempty"`
	// Done is true once more nodes than Size have started: the rest have
	// begun and the canary holds nothing any more.
	Done bool `json:"done,omitempty"`
	// Nodes are the canary's nodes started already (in flight, upgraded or
	// failed by this ClusterUpgrade), in plan order, while it is not done.
	Nodes []string `json:"nodes,omitempty"`
	// LastUpgraded is when the last canary node was upgraded, and
	// SoakUntil when the canary's soak ends, once every canary node is
	// upgraded (and its state-since annotation says when).
	LastUpgraded *time.Time `json:"lastUpgraded,omitempty"`
	SoakUntil    *time.Time `json:"soakUntil,omitempty"`
	// Waves is how many of the forecast's waves (counted in TotalWaves)
	// are the canary's: the first waves of the workers.
	Waves int `json:"waves"`
}

// Forecast is what Compute foresees.
type Forecast struct {
	// Name is the ClusterUpgrade's name.
	Name string `json:"name"`
	// Order says, in words, the order the nodes go in (spec.priority,
	// spec.strategy.zones): "zone by zone (nodes without a zone first),
	// then by name" without either.
	Order string `json:"order"`
	// Gates say, in words, the gates of spec.health each start waits for
	// (judged by the manager at each start, not foreseen here).
	Gates []string `json:"gates,omitempty"`
	// Hooks say, in words, the hook Jobs of spec.hooks, then the hook
	// annotations on the selected nodes
	// (pre-drain.hook.upgrade.nodewave.io/<name> and
	// post-upgrade.hook.upgrade.nodewave.io/<name>): each holds its node
	// until its Job succeeds or its controller removes it, so the waves
	// assume they do.
	Hooks []string `json:"hooks,omitempty"`
	// TargetVersion is spec.targetVersion.
	TargetVersion string `json:"targetVersion"`
	// Strategy is spec.strategy.type (Sequential when empty).
	Strategy upgradev1alpha1.StrategyType `json:"strategy"`
	// MaxUnavailable is the resolved budget: how many selected nodes may be
	// unavailable at once. With spec.controlPlane it is the workers'
	// budget, resolved over the workers only.
	MaxUnavailable int `json:"maxUnavailable"`
	// Selected is how many nodes the ClusterUpgrade selects; with
	// spec.controlPlane, how many workers: the nodes of spec.nodeSelector
	// that are not control-plane nodes (ControlPlane counts those).
	Selected int `json:"selected"`
	// Pending, InFlight, Upgraded, Failed and Skipped count the selected
	// nodes (the workers, with spec.controlPlane) by where they stand now,
	// as the planner classes them.
	Pending  int `json:"pending"`
	InFlight int `json:"inFlight"`
	Upgraded int `json:"upgraded"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	// InFlightNodes are the nodes (workers, with spec.controlPlane) in
	// flight now, in plan order; they finish before the first wave's nodes
	// do.
	InFlightNodes []string `json:"inFlightNodes,omitempty"`
	// ControlPlane is the control-plane wave's counts, with
	// spec.controlPlane; nil without it.
	ControlPlane *ControlPlane `json:"controlPlane,omitempty"`
	// Canary is the canary's forecast, with spec.strategy.canary; nil
	// without it.
	Canary *Canary `json:"canary,omitempty"`
	// Waves are the first waves (all of them unless Input.Waves limits it):
	// with spec.controlPlane, the control plane's first, one node each.
	Waves []Wave `json:"waves"`
	// TotalWaves is how many waves it takes to start every node that can
	// start.
	TotalWaves int `json:"totalWaves"`
	// NeverStarted are the pending nodes no wave starts (NotReady, the
	// budget is held by nodes that are not in flight, or the control-plane
	// wave never finishes), in plan order, the control plane's first.
	NeverStarted []string `json:"neverStarted,omitempty"`
	// Capacity is the room check for the pods of the largest wave of the
	// workers (all the selected nodes, without spec.controlPlane).
	Capacity Capacity `json:"capacity"`
	// Findings are the blockers first, then the notes.
	Findings []Finding `json:"findings"`
}

// Blockers counts the findings of severity Blocker.
func (f Forecast) Blockers() int {
	n := 0
	for _, x := range f.Findings {
		if x.Severity == Blocker {
			n++
		}
	}
	return n
}

// Compute foresees how in.ClusterUpgrade would go in the world of in. It
// returns an error, naming the field, only when the spec cannot be read
// (a target that is not a version, a selector or maxUnavailable that does
// not parse); everything else is a finding.
//
// With spec.controlPlane it plays the controller's two waves: the
// control-plane nodes (ControlPlaneSelector; a node both selectors select
// is one of them) one at a time, with no failure allowed; then the other
// nodes, the workers, by spec.strategy over the workers only, once every
// control-plane node is at the target.
//
// With spec.strategy.canary the workers' first waves are the canary's,
// up to its size; the next wave waits for the canary's soak and, with
// canary.pause, for a person, as the controller's planner says.
func Compute(in Input) (Forecast, error) {
	cu := in.ClusterUpgrade
	target, err := version.Parse(cu.Spec.TargetVersion)
	if err != nil {
		return Forecast{}, fmt.Errorf("spec.targetVersion: %w", err)
	}
	if _, err := cu.Selector(); err != nil {
		return Forecast{}, fmt.Errorf("spec.nodeSelector: %w", err)
	}
	cpSelector, err := cu.ControlPlaneSelector()
	if err != nil {
		return Forecast{}, fmt.Errorf("spec.controlPlane.nodeSelector: %w", err)
	}
	controlPlane := map[string]bool{}
	for i := range in.Nodes {
		if cpSelector != nil && cpSelector.Matches(labels.Set(in.Nodes[i].Labels)) {
			controlPlane[in.Nodes[i].Name] = true
		}
	}
	workers := len(in.Nodes) - len(controlPlane)
	maxUnavailable, err := plan.MaxUnavailable(cu.Spec.Strategy, workers)
	if err != nil {
		return Forecast{}, fmt.Errorf("spec.%w", err)
	}
	w := newWorld(in, target, maxUnavailable, controlPlane)
	w.canary = plan.CanaryOf(cu.Spec.Strategy.Canary, cu.Spec.CanarySoakDuration(), workers)

	cpNow := plan.Compute(w.planInput(true, cu.Spec.Paused))
	now := plan.Compute(w.planInput(false, cu.Spec.Paused))
	f := Forecast{
		Name:           cu.Name,
		Order:          orderWords(cu),
		Gates:          gateWords(cu),
		Hooks:          slices.Concat(hookJobWords(cu), hookWords(in.Nodes)),
		TargetVersion:  cu.Spec.TargetVersion,
		Strategy:       cmp.Or(cu.Spec.Strategy.Type, upgradev1alpha1.SequentialStrategy),
		MaxUnavailable: maxUnavailable,
		Selected:       workers,
		Pending:        now.Pending,
		InFlight:       now.InFlight,
		Upgraded:       now.Upgraded,
		Failed:         now.Failed,
		Skipped:        now.Skipped,
		InFlightNodes:  now.InFlightNodes,
	}
	sims := w.simulate(in.Waves)
	if w.hasControlPlane() {
		f.ControlPlane = &ControlPlane{Selected: len(controlPlane),
			Pending: cpNow.Pending, InFlight: cpNow.InFlight, Upgraded: cpNow.Upgraded, Failed: cpNow.Failed, Skipped: cpNow.Skipped,
			InFlightNodes: cpNow.InFlightNodes, Waves: sims.controlPlane.total}
	}
	f.Canary = w.canaryForecast(now.Canary, sims.workers)
	f.Waves = slices.Concat(sims.controlPlane.waves, sims.workers.waves)
	f.TotalWaves = sims.controlPlane.total + sims.workers.total
	f.NeverStarted = slices.Concat(sims.controlPlane.neverStarted, sims.workers.neverStarted)
	drained := w.toDrain(slices.Concat(sims.controlPlane.started, sims.workers.started))
	f.Capacity = w.capacity(plan.OfWave(drained, false, w.isControlPlane))

	found := slices.Concat(
		w.preflight(in, cpNow, now),
		w.budgetFindings(pdbIndex(in.PodDisruptionBudgets), drained),
		w.podFindings(drained),
		w.drainRuleFindings(drained),
		w.nodeFindings(sims),
		f.Capacity.findings(),
	)
	slices.SortStableFunc(found, func(a, b Finding) int {
		return strings.Compare(string(a.Severity), string(b.Severity)) // Blocker before Note
	})
	f.Findings = found
	// Lists the JSON output always has, empty rather than null.
	if f.Waves == nil {
		f.Waves = []Wave{}
	}
	if f.Findings == nil {
		f.Findings = []Finding{}
	}
	return f, nil
}

// world is the input indexed for the checks.
type world struct {
	cu             *upgradev1alpha1.ClusterUpgrade
	target         version.Version
	maxUnavailable int
	// nodes by name; planNodes in plan order, the control-plane nodes
	// first (as the controller orders them); controlPlane names the
	// control-plane nodes.
	nodes        map[string]*corev1.Node
	planNodes    []plan.Node
	controlPlane map[string]bool
	// pods by node name, each judged as the drain would.
	pods map[string][]judgedPod
	// canary is spec.strategy.canary resolved for the workers' wave; nil
	// without one. now is the time the canary's soak is judged at.
	canary *plan.Canary
	now    time.Time
}

// judgedPod is a pod, what the drain would do with it, and what it
// requests.
type judgedPod struct {
	pod     *corev1.Pod
	verdict drainpolicy.Verdict
	why     string
	// order is the pod's drain order.
	order int32
	// requests are the pod's requests as the scheduler counts them:
	// containers, init containers, pod-level resources and overhead.
	requests corev1.ResourceList
}

func newWorld(in Input, target version.Version, maxUnavailable int, controlPlane map[string]bool) *world {
	cu := in.ClusterUpgrade
	w := &world{cu: cu, target: target, maxUnavailable: maxUnavailable, controlPlane: controlPlane,
		nodes: map[string]*corev1.Node{}, pods: map[string][]judgedPod{}, now: in.Now}
	var cpNodes, workerNodes []plan.Node
	for i := range in.Nodes {
		n := &in.Nodes[i]
		w.nodes[n.Name] = n
		if controlPlane[n.Name] {
			cpNodes = append(cpNodes, nodeview.PlanNode(n, cu, target))
		} else {
			workerNodes = append(workerNodes, nodeview.PlanNode(n, cu, target))
		}
	}
	w.planNodes = slices.Concat(plan.Order(cpNodes), plan.Order(workerNodes))

	daemonSets := map[string]bool{}
	for _, ds := range in.DaemonSets {
		daemonSets[ds.Namespace+"/"+ds.Name] = true
	}
	exists := func(ns, name string) bool { return daemonSets[ns+"/"+name] }
	opts := drainspec.Options(cu.Spec.Drain)
	for i := range in.Pods {
		p := &in.Pods[i]
		if _, ok := w.nodes[p.Spec.NodeName]; !ok {
			continue
		}
		j := drainpolicy.Judge(p, opts, exists)
		w.pods[p.Spec.NodeName] = append(w.pods[p.Spec.NodeName], judgedPod{pod: p, verdict: j.Verdict, why: j.Why, order: j.Order,
			requests: resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})})
	}
	for _, pods := range w.pods {
		slices.SortFunc(pods, func(a, b judgedPod) int {
			return strings.Compare(a.pod.Namespace+"/"+a.pod.Name, b.pod.Namespace+"/"+b.pod.Name)
		})
	}
	return w
}

// hasControlPlane reports whether the ClusterUpgrade upgrades a control
// plane (spec.controlPlane is set), whether or not it selects a node.
func (w *world) hasControlPlane() bool { return w.cu.Spec.ControlPlane != nil }

// planInput is the planner's input for one wave of the world as it is
// now, as the controller makes it (plan.WaveInput): the control-plane
// nodes (controlPlane true) one at a time, the first failure halting
// them; the others by spec.strategy and spec.maxFailedNodes, with
// spec.strategy.canary and .zones.
func (w *world) planInput(controlPlane, paused bool) plan.Input {
	in := plan.Input{MaxUnavailable: w.maxUnavailable, MaxFailedNodes: int(w.cu.Spec.MaxFailedNodes),
		MaxBlockedNodes: w.cu.Spec.MaxBlockedNodes(w.maxUnavailable), Paused: paused, Now: w.now}
	if !controlPlane && w.canary != nil {
		c := *w.canary
		in.Canary = &c
	}
	if !controlPlane {
		in.Zones = plan.ZonesOf(w.cu.Spec.Strategy.Zones)
	}
	return plan.WaveInput(in, w.planNodes, controlPlane, w.isControlPlane)
}

// canaryForecast is the canary's part of the forecast: gate is where it
// stands now, workers the simulation of the workers' wave. Nil without a
// canary.
func (w *world) canaryForecast(gate plan.CanaryGate, workers simulation) *Canary {
	if w.canary == nil {
		return nil
	}
	c := &Canary{Size: w.canary.Size, SoakDuration: metav1.Duration{Duration: w.canary.Soak}, Pause: w.canary.Pause,
		Hold: gate.Hold, Done: !gate.Active, Nodes: gate.Nodes, Waves: workers.canaryWaves}
	if !gate.Upgraded.IsZero() && !gate.Until.IsZero() {
		upgraded, until := gate.Upgraded, gate.Until
		c.LastUpgraded, c.SoakUntil = &upgraded, &until
	}
	return c
}

// isControlPlane reports whether the node named name is a control-plane
// node of the ClusterUpgrade.
func (w *world) isControlPlane(name string) bool { return w.controlPlane[name] }

// wasUnschedulable reports whether a node stays cordoned once upgraded:
// an admin had cordoned it before a ClusterUpgrade took it. For a node
// that a ClusterUpgrade (this one or another) holds in flight, or failed,
// its was-unschedulable annotation says; for any other, its cordon now.
func (w *world) wasUnschedulable(name string) bool {
	n := w.nodes[name]
	switch upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel]) {
	case upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining, upgradev1alpha1.NodeUpgrading,
		upgradev1alpha1.NodeVerifying, upgradev1alpha1.NodeFailed, upgradev1alpha1.NodeBlocked:
		return n.Annotations[upgradev1alpha1.WasUnschedulableAnnotation] == "true"
	}
	return n.Spec.Unschedulable
}

// toDrain are the nodes whose pods the upgrade will evict, in plan order:
// the nodes the waves start, and the nodes in flight that are still
// cordoned or draining.
func (w *world) toDrain(started []string) []string {
	will := map[string]bool{}
	for _, name := range started {
		will[name] = true
	}
	var out []string
	for _, n := range w.planNodes {
		inDrain := plan.Classify(n) == plan.ClassInFlight &&
			(n.State == upgradev1alpha1.NodeCordoned || n.State == upgradev1alpha1.NodeDraining)
		if will[n.Name] || inDrain {
			out = append(out, n.Name)
		}
	}
	return out
}

// mostNamed is how many names a message lists before "and N more".
const mostNamed = 8

// names lists names for a message: at most mostNamed, then "and N more".
func names(list []string) string { return firstNames(list, mostNamed) }

// firstNames lists names for a message: at most most, then "and N more".
func firstNames(list []string, most int) string {
	if len(list) <= most {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:most], ", ") + fmt.Sprintf(" and %d more", len(list)-most)
}

// count says "1 node" or "N nodes" (any noun with a plain plural).
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// gateWords says the gates of spec.health in words, one each.
func gateWords(cu *upgradev1alpha1.ClusterUpgrade) []string {
	var gates []string
	if cu.Spec.Health.ReplacementsReady != nil {
		gates = append(gates, fmt.Sprintf("the workloads the drains evicted pods of are back to their ready replicas (stalls after %s)",
			cu.Spec.ReplacementsTimeout()))
	}
	for _, c := range cu.Spec.Health.Checks {
		what := c.Kind + " " + c.ObjectName
		if c.Namespace != "" && c.ObjectName != "" {
			what = c.Kind + " " + c.Namespace + "/" + c.ObjectName
		}
		if c.LabelSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
			what = fmt.Sprintf("every %s matching %s", c.Kind, sel)
			if err != nil {
				what = fmt.Sprintf("every %s matching an invalid selector (%v)", c.Kind, err)
			}
			if c.Namespace != "" {
				what += " in " + c.Namespace
			}
		}
		gates = append(gates, fmt.Sprintf("check %s: %s of %s", c.Name, c.Expression, what))
	}
	if p := cu.Spec.Health.Prometheus; p != nil {
		state := "firing or pending"
		if p.FiringOnly {
			state = "firing"
		}
		gates = append(gates, fmt.Sprintf("no alert matching %q %s in %s", cmp.Or(p.AlertNames, ".*"), state, p.URL))
	}
	return gates
}

// DefaultOrder is the plan order in words without spec.priority and
// spec.strategy.zones.
const DefaultOrder = "zone by zone (nodes without a zone first), then by name"

// orderWords says the plan order in words: by priority (spec.priority),
// then zone by zone (spec.strategy.zones: its key, its budget per zone,
// one at a time), then by name.
func orderWords(cu *upgradev1alpha1.ClusterUpgrade) string {
	words := DefaultOrder
	if z := cu.Spec.Strategy.Zones; z != nil {
		var rules []string
		if z.TopologyKey != "" && z.TopologyKey != upgradev1alpha1.ZoneLabel {
			rules = append(rules, "zones by "+z.TopologyKey)
		}
		if z.MaxUnavailable != nil {
			rules = append(rules, "at most "+z.MaxUnavailable.String()+" unavailable per zone")
		}
		if z.OneAtATime {
			rules = append(rules, "one zone at a time")
		}
		words = "zone by zone (" + strings.Join(rules, "; ") + "; nodes without a zone first), then by name"
	}
	if p := cu.Spec.Priority; p != nil {
		where := "label " + p.Label
		if p.Label == "" {
			where = "annotation " + p.Annotation
		}
		words = "by priority (" + where + ", lower first; 0 without it), then " + words
	}
	return words
}
