package plan

import (
	"fmt"
	"slices"
	"strings"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// HookPoint is where in a node's lifecycle hooks hold it.
type HookPoint string

// The hook points. Their names are also the hook Jobs' names (their
// upgrade.nodewave.io/hook label, NODEWAVE_HOOK, nodewave-<point>-...).
const (
	// PreDrain: cordoned, before the drain begins.
	PreDrain HookPoint = "pre-drain"
	// PostUpgrade: upgraded and soaked, before the uncordon.
	PostUpgrade HookPoint = "post-upgrade"
)

// HookPoints are the hook points in the order a node meets them.
var HookPoints = []HookPoint{PreDrain, PostUpgrade}

// Prefix begins the names of the hook annotations that hold a node at p:
// pre-drain.hook.upgrade.nodewave.io/ or post-upgrade.hook.upgrade.nodewave.io/.
func (p HookPoint) Prefix() string {
	if p == PreDrain {
		return upgradev1alpha1.PreDrainHookPrefix
	}
	return upgradev1alpha1.PostUpgradeHookPrefix
}

// Field is the field of p's hook Job in the spec: spec.hooks.preDrain or
// spec.hooks.postUpgrade.
func (p HookPoint) Field() string {
	if p == PreDrain {
		return "spec.hooks.preDrain"
	}
	return "spec.hooks.postUpgrade"
}

// Job is p's hook Job in hooks (spec.hooks), nil when it has none.
func (p HookPoint) Job(hooks *upgradev1alpha1.HooksSpec) *upgradev1alpha1.HookJob {
	switch {
	case hooks == nil:
		return nil
	case p == PreDrain:
		return hooks.PreDrain
	}
	return hooks.PostUpgrade
}

// Hooks are the names of the hooks a node's annotations hold it with at
// point: the annotations that begin with point's Prefix, named by what
// follows it, sorted.
func Hooks(annotations map[string]string, point HookPoint) []string {
	var names []string
	for k := range annotations {
		if name, ok := strings.CutPrefix(k, point.Prefix()); ok && name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// HookStep decides whether a node goes past a hook point: it waits while
// any hook holds it there, and only an event (the hook annotation's
// removal) changes that, so the wait has no timer. Hooks have no timeout
// of their own: the controller that set one is the one that knows when
// its work is done, as with Cluster API's lifecycle hooks.
func HookStep(point HookPoint, hooks []string) Decision {
	if len(hooks) == 0 {
		return Decision{Outcome: Advance}
	}
	if len(hooks) == 1 {
		return Decision{Outcome: Wait, Message: fmt.Sprintf("held by the %s hook %s until the annotation %s%s is removed",
			point, hooks[0], point.Prefix(), hooks[0])}
	}
	return Decision{Outcome: Wait, Message: fmt.Sprintf("held by the %s hooks %s until their annotations %s<name> are removed",
		point, strings.Join(hooks, ", "), point.Prefix())}
}

// ReasonHookJobFailed: a hook Job of spec.hooks failed (or outlived its
// timeout) under failurePolicy Fail.
const ReasonHookJobFailed = "HookJobFailed"

// HookJobFacts is what a hook point looks at of its hook Job (spec.hooks).
type HookJobFacts struct {
	// Point is the hook point; Job the hook Job's name.
	Point HookPoint
	Job   string
	// Succeeded and Failed are the Job's outcome (both false while it
	// runs, or before it exists); Message says why it failed.
	Succeeded, Failed bool
	Message           string
	// Ignore is failurePolicy Ignore.
	Ignore bool
	// Held is what holds the node's new Jobs (a pre-flight check), "" when
	// nothing does; it matters only before the Job exists.
	Held string
	// Exists is the Job being there.
	Exists bool
}

// HookJobStep decides a hook point with a hook Job: the node goes on once
// its Job succeeded, or failed under failurePolicy Ignore; it fails once
// its Job failed under Fail (the Job's activeDeadlineSeconds is the
// hook's timeout, so a Job that runs too long fails); otherwise it waits
// for the Job, whose every change is an event.
func HookJobStep(f HookJobFacts) Decision {
	switch {
	case f.Succeeded, f.Failed && f.Ignore:
		return Decision{Outcome: Advance}
	case f.Failed:
		return Decision{Outcome: Fail, Reason: ReasonHookJobFailed,
			Message: withDetail(fmt.Sprintf("its %s hook Job %s failed", f.Point, f.Job), f.Message)}
	case !f.Exists && f.Held != "":
		return Decision{Outcome: Wait, Message: fmt.Sprintf("held before its %s hook Job: %s (see the Stalled condition)", f.Point, f.Held)}
	}
	return Decision{Outcome: Wait, Message: fmt.Sprintf("running its %s hook Job %s", f.Point, f.Job)}
}
