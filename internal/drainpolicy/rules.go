package drainpolicy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Behavior is what a drain does with a pod it would otherwise evict
// (api/v1alpha1.DrainBehavior; this package does not import the API).
type Behavior string

// The behaviors a drain rule or a pod's marker may ask for.
const (
	// BehaviorDrain evicts the pod, in its drain order.
	BehaviorDrain Behavior = "Drain"
	// BehaviorSkip leaves the pod on the node; it does not hold the drain.
	BehaviorSkip Behavior = "Skip"
	// BehaviorWaitCompleted never evicts the pod: the drain waits until it
	// has Succeeded or Failed.
	BehaviorWaitCompleted Behavior = "WaitCompleted"
)

// The pod markers, as a label or an annotation
// (api/v1alpha1.DrainBehaviorKey and DrainOrderKey).
const (
	behaviorKey = "drain.upgrade.nodewave.io/behavior"
	orderKey    = "drain.upgrade.nodewave.io/order"
)

// Rule is one of spec.drain.rules, resolved for matching (see
// internal/drainpolicy/drainspec, which makes them from the API).
type Rule struct {
	// Name names the rule in messages.
	Name string
	// Namespaces are the names of the namespaces whose pods the rule
	// matches; empty: every namespace.
	Namespaces []string
	// Pods selects, by their labels, the pods of those namespaces the
	// rule matches; nil: every pod.
	Pods labels.Selector
	// Invalid says why the rule's pod selector does not parse; "" when it
	// does. Such a rule decides for every pod of its namespaces it comes
	// to (no marker and no earlier rule decided): it blocks them.
	Invalid string
	// Behavior is what the drain does with the pods the rule matches;
	// "" is BehaviorDrain.
	Behavior Behavior
	// Order is their drain order.
	Order int32
}

// Placement is what a pod's markers and the drain rules say of it.
type Placement struct {
	// Behavior is what the drain does with the pod.
	Behavior Behavior
	// Order is the pod's drain order: lower orders leave first.
	Order int32
	// By names what set Behavior, for messages: "label
	// drain.upgrade.nodewave.io/behavior", "annotation ...", or
	// `drain rule "name"`; "" for the default.
	By string
	// Invalid says why the pod must block the drain, naming each marker
	// and value that does not parse, or the rule whose selector does not;
	// "" when nothing is wrong. Behavior and Order are then what the rest
	// says (a marker that does not parse counts as absent).
	Invalid string
}

// Place says what the pod's markers and rules ask of a drain, as a pure
// function. Each marker (behavior, order) is read from the pod's
// annotation, else its label; where a marker is absent or does not parse,
// the first rule that matches the pod, in list order, decides that field;
// where no rule matches either, the pod is drained, at order 0.
func Place(pod *corev1.Pod, rules []Rule) Placement {
	p := Placement{Behavior: BehaviorDrain}
	var problems []string
	behavior, behaviorBy, hasBehavior := marker(pod, behaviorKey)
	if hasBehavior {
		switch b := Behavior(behavior); b {
		case BehaviorDrain, BehaviorSkip, BehaviorWaitCompleted:
			p.Behavior, p.By = b, behaviorBy
		default:
			hasBehavior = false
			problems = append(problems, fmt.Sprintf("has %s %q, not one of Drain, Skip, WaitCompleted (fix or remove it)", behaviorBy, behavior))
		}
	}
	order, orderBy, hasOrder := marker(pod, orderKey)
	if hasOrder {
		n, err := strconv.ParseInt(order, 10, 32)
		if err == nil {
			p.Order = int32(n)
		} else {
			hasOrder = false
			problems = append(problems, fmt.Sprintf("has %s %q, not a 32-bit integer (fix or remove it)", orderBy, order))
		}
	}
	if !hasBehavior || !hasOrder {
		if r := firstRule(pod, rules); r != nil && r.Invalid != "" {
			problems = append(problems, fmt.Sprintf("is in a namespace of drain rule %q, whose podSelector does not parse: %s (fix the rule)",
				r.Name, r.Invalid))
		} else if r != nil {
			if !hasBehavior {
				p.Behavior, p.By = BehaviorDrain, fmt.Sprintf("drain rule %q", r.Name)
				if r.Behavior != "" {
					p.Behavior = r.Behavior
				}
			}
			if !hasOrder {
				p.Order = r.Order
			}
		}
	}
	p.Invalid = strings.Join(problems, "; ")
	return p
}

// marker is the pod's annotation key, else its label key, and which of the
// two it is ("annotation key" or "label key").
func marker(pod *corev1.Pod, key string) (value, by string, ok bool) {
	if v, ok := pod.Annotations[key]; ok {
		return v, "annotation " + key, true
	}
	if v, ok := pod.Labels[key]; ok {
		return v, "label " + key, true
	}
	return "", "", false
}

// firstRule is the first rule that matches pod: one of its namespaces
// (or of every namespace) whose selector selects it, or does not parse
// (then whether it matches is unknown, and it decides: it blocks). nil
// when none does.
func firstRule(pod *corev1.Pod, rules []Rule) *Rule {
	for i := range rules {
		r := &rules[i]
		if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, pod.Namespace) {
			continue
		}
		if r.Invalid != "" || r.Pods == nil || r.Pods.Matches(labels.Set(pod.Labels)) {
			return r
		}
	}
	return nil
}
