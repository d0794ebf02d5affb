package plan

import (
	"fmt"
	"slices"
	"strings"
)

// HookPoint is where in a node's lifecycle hooks hold it.
type HookPoint string

// The hook points.
const (
	// PreDrain: cordoned, before the drain begins.
	PreDrain HookPoint = "pre-drain"
	// PostUpgrade: upgraded and soaked, before the uncordon.
	PostUpgrade HookPoint = "post-upgrade"
)

// Hooks are the names of the hooks a node's annotations hold it with at
// one point: the annotations that begin with prefix (for example
// pre-drain.hook.upgrade.nodewave.io/), named by what follows it, sorted.
func Hooks(annotations map[string]string, prefix string) []string {
	var names []string
	for k := range annotations {
		if name, ok := strings.CutPrefix(k, prefix); ok && name != "" {
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
func HookStep(point HookPoint, prefix string, hooks []string) Decision {
	if len(hooks) == 0 {
		return Decision{Outcome: Advance}
	}
	if len(hooks) == 1 {
		return Decision{Outcome: Wait, Message: fmt.Sprintf("held by the %s hook %s until the annotation %s%s is removed",
			point, hooks[0], prefix, hooks[0])}
	}
	return Decision{Outcome: Wait, Message: fmt.Sprintf("held by the %s hooks %s until their annotations %s<name> are removed",
		point, strings.Join(hooks, ", "), prefix)}
}
