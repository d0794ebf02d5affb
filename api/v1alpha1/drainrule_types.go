package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// DrainBehavior is what a drain does with a pod it would otherwise evict.
// +kubebuilder:validation:Enum=Drain;Skip;WaitCompleted
type DrainBehavior string

// The drain behaviors, the same values as a pod's DrainBehaviorKey.
const (
	// DrainBehaviorDrain evicts the pod, in its drain order.
	DrainBehaviorDrain DrainBehavior = "Drain"
	// DrainBehaviorSkip leaves the pod on the node: it is not evicted and
	// does not hold the drain, like a DaemonSet's pod.
	DrainBehaviorSkip DrainBehavior = "Skip"
	// DrainBehaviorWaitCompleted never evicts the pod: the drain waits
	// until it has Succeeded or Failed (a batch Job's pod), and
	// drain.onTimeout applies to it as to any pod left.
	DrainBehaviorWaitCompleted DrainBehavior = "WaitCompleted"
)

// DrainRule says what a drain does with the pods it matches: the pods of
// its namespaces that its podSelector selects. A pod's own
// drain.upgrade.nodewave.io/behavior and drain.upgrade.nodewave.io/order
// (label or annotation) win over every rule; of the rules, the first that
// matches a pod, in list order, decides for it. A rule changes nothing for
// the pods a drain always leaves alone: DaemonSet, mirror and finished
// pods, and nodewave's own upgrade Job pods.
// +kubebuilder:validation:XValidation:rule="!has(self.order) || !has(self.behavior) || self.behavior != 'Skip'",message="order is not allowed when behavior is Skip: a skipped pod is never drained",fieldPath=".order",reason="FieldValueForbidden"
type DrainRule struct {
	// name identifies the rule in messages, such as the pods it keeps
	// waiting: a DNS label, unique among the rules.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// namespaces are the names of the namespaces whose pods the rule
	// matches, exactly as written (no patterns). Absent or empty: every
	// namespace. Namespaces go by name rather than by a label selector so
	// that the manager never needs to read Namespaces.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespaces []string `json:"namespaces,omitempty"`

	// podSelector selects, by their labels, the pods of those namespaces
	// the rule matches: a label selector (matchLabels, matchExpressions)
	// as everywhere in Kubernetes, checked at admission but for one thing:
	// a matchLabels key that is not a label key passes, and the rule then
	// blocks the drain of every pod it would decide for, naming the rule,
	// until it is fixed. Absent: every pod of those namespaces; an empty
	// selector ({}) too.
	// +optional
	PodSelector *PodLabelSelector `json:"podSelector,omitempty"`

	// behavior is what the drain does with the pods the rule matches:
	// Drain (evict them, in order; the default), Skip (leave them on the
	// node: they do not hold the drain) or WaitCompleted (never evict
	// them: the drain waits until each has Succeeded or Failed, and
	// drain.onTimeout applies to those still running at drain.timeout,
	// as to any pod left: ForceDelete deletes them).
	// +optional
	// +kubebuilder:default=Drain
	Behavior DrainBehavior `json:"behavior,omitempty"`

	// order is the drain order of the pods the rule matches: a drain
	// evicts the pods of the lowest order still on the node (terminating,
	// waited for, or refused by a PodDisruptionBudget) first, and the
	// pods of a higher order only once those have left. Default 0;
	// negative orders go first. Not allowed with behavior Skip.
	// +optional
	Order *int32 `json:"order,omitempty"`
}

// PodLabelSelector is a label selector of pods, with the fields and the
// meaning of metav1.LabelSelector (LabelSelector converts it), and bounds:
// inside a list of 32 rules, CEL checks of an unbounded
// metav1.LabelSelector cost more than the API server allows a CRD, so the
// operators and label values are checked by the schema instead. A
// matchLabels key that is not a label key passes admission; the rule then
// blocks the drain of every pod it would decide for, naming the rule,
// until it is fixed.
type PodLabelSelector struct {
	// matchLabels are labels a pod must have, with these values. The
	// requirements are ANDed, with those of matchExpressions too.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	MatchLabels map[string]LabelValue `json:"matchLabels,omitempty"`

	// matchExpressions are requirements on a pod's labels. The
	// requirements are ANDed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	MatchExpressions []PodLabelRequirement `json:"matchExpressions,omitempty"`
}

// LabelValue is the value of a label: at most 63 characters, alphanumeric
// at both ends, with -, _ and . between; or empty.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
type LabelValue string

// PodLabelRequirement is one requirement on a pod's labels, as a
// metav1.LabelSelectorRequirement.
// +kubebuilder:validation:XValidation:rule="(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",message="values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",fieldPath=".values"
type PodLabelRequirement struct {
	// key is the label key the requirement is about, such as app or
	// example.com/tier.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`
	Key string `json:"key"`

	// operator relates the key to the values: In, NotIn, Exists or
	// DoesNotExist.
	// +required
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
	Operator metav1.LabelSelectorOperator `json:"operator"`

	// values are the label values of In and NotIn, at least one; Exists
	// and DoesNotExist take none.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Values []LabelValue `json:"values,omitempty"`
}

// LabelSelector is s as a metav1.LabelSelector; nil for nil.
func (s *PodLabelSelector) LabelSelector() *metav1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &metav1.LabelSelector{}
	if s.MatchLabels != nil {
		out.MatchLabels = make(map[string]string, len(s.MatchLabels))
		for k, v := range s.MatchLabels {
			out.MatchLabels[k] = string(v)
		}
	}
	for _, r := range s.MatchExpressions {
		req := metav1.LabelSelectorRequirement{Key: r.Key, Operator: r.Operator}
		for _, v := range r.Values {
			req.Values = append(req.Values, string(v))
		}
		out.MatchExpressions = append(out.MatchExpressions, req)
	}
	return out
}
