package v1alpha1_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/testenv"
)

// validObject is the smallest ClusterUpgrade that admission accepts; each
// table entry breaks one field of it.
func validObject(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": upgradev1alpha1.GroupVersion.String(),
		"kind":       "ClusterUpgrade",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"targetVersion": "v1.37.2",
			"upgrade":       map[string]any{"type": "External"},
		},
	}}
	return u
}

// set returns a mutation that sets spec.<path> to value.
func set(path string, value any) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		Expect(unstructured.SetNestedField(u.Object, value, append([]string{"spec"}, strings.Split(path, ".")...)...)).To(Succeed())
	}
}

// check is a spec.health.checks item named name of the Deployment kind,
// with fields over its defaults (nil: neither objectName nor
// labelSelector).
func check(name string, fields map[string]any) any {
	c := map[string]any{"name": name, "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
		"expression": "object.status.availableReplicas >= object.spec.replicas"}
	maps.Copy(c, fields)
	return c
}

// manyChecks is n valid checks, alternately by name and by selector.
func manyChecks(n int) []any {
	checks := make([]any, 0, n)
	for i := range n {
		by := map[string]any{"objectName": fmt.Sprintf("web-%d", i)}
		if i%2 == 1 {
			by = map[string]any{"labelSelector": map[string]any{"matchLabels": map[string]any{"tier": "web"}}}
		}
		checks = append(checks, check(fmt.Sprintf("c%d", i), by))
	}
	return checks
}

// unset returns a mutation that removes spec.<path>.
func unset(path string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		unstructured.RemoveNestedField(u.Object, append([]string{"spec"}, strings.Split(path, ".")...)...)
	}
}

// both applies mutations in order.
func both(ms ...func(*unstructured.Unstructured)) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		for _, m := range ms {
			m(u)
		}
	}
}

var jobTemplate = map[string]any{"template": map[string]any{"spec": map[string]any{
	"containers": []any{map[string]any{"name": "upgrade", "image": "example.com/upgrader:v1"}},
}}}

// The messages of the CEL rules in clusterupgrade_types.go.
const (
	badVersion    = "targetVersion must be a version like v1.37.2: vMAJOR.MINOR.PATCH with optional -prerelease and +build parts"
	badMaxUnavail = "maxUnavailable must be an integer of at least 1 or a percentage from 1% to 100%"
	bigMaxUnavail = "maxUnavailable must fit in 32 bits: at most 2147483647"
	badTimeout    = "timeout must be a positive duration such as 30s, 10m or 1h30m"
	badCanary     = "nodes must be an integer of at least 1 or a percentage from 1% to 100%"
	badSoak       = "soakDuration must be a duration of zero or more such as 0s, 30s or 5m"
	badOperator   = "nodeSelector.matchExpressions[].operator must be In, NotIn, Exists or DoesNotExist"
	badValues     = "nodeSelector.matchExpressions[].values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist"
	badStart      = "start must be a time of day as HH:MM on a 24-hour clock, from 00:00 to 23:59"
	badEnd        = "end must be a time of day as HH:MM on a 24-hour clock, from 00:00 to 23:59"
	sameStartEnd  = "window.end must differ from window.start (omit spec.window to allow every time)"
	badTimeZone   = "timeZone must be an IANA time zone name such as Europe/Berlin, America/New_York or UTC"
	badRuleValues = "values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist"
	// notADuration is how the CEL duration() of a rule fails on a value too
	// large for a Go duration (over 2562047h47m).
	notADuration = "type conversion error from 'string' to 'google.protobuf.Duration'"
	// unknownField is how strict field validation refuses an unknown field.
	unknownField = "strict decoding error: unknown field"
)

const (
	concurrent     = "Concurrent"
	maxUnavailable = "strategy.maxUnavailable"
)

// concurrentWith returns a mutation that makes the strategy Concurrent with
// the given maxUnavailable.
func concurrentWith(value any) func(*unstructured.Unstructured) {
	return both(set("strategy.type", concurrent), set(maxUnavailable, value))
}

// expr returns a mutation that sets spec.nodeSelector to one match expression.
func expr(e map[string]any) func(*unstructured.Unstructured) {
	return set("nodeSelector", map[string]any{"matchExpressions": []any{e}})
}

// withWindow returns a mutation that sets spec.window to a valid window
// (every day, 22:00 to 04:00, in the default zone) with the given fields
// changed; a nil value removes the field.
func withWindow(fields map[string]any) func(*unstructured.Unstructured) {
	w := map[string]any{"start": "22:00", "end": "04:00"}
	for k, v := range fields {
		if v == nil {
			delete(w, k)
			continue
		}
		w[k] = v
	}
	return set("window", w)
}

// withTimeZone returns a mutation that sets a valid window in zone.
func withTimeZone(zone any) func(*unstructured.Unstructured) {
	return withWindow(map[string]any{"timeZone": zone})
}

// withJob returns a mutation that makes the upgrade type Job with the given
// spec.upgrade.job.
func withJob(job map[string]any) func(*unstructured.Unstructured) {
	return both(set("upgrade.type", "Job"), set("upgrade.job", job))
}

// rule is a spec.drain.rules item named name, with fields (a nil value
// removes the name).
func rule(name string, fields map[string]any) any {
	r := map[string]any{"name": name}
	for k, v := range fields {
		if v == nil {
			delete(r, k)
			continue
		}
		r[k] = v
	}
	return r
}

// withRules returns a mutation that sets spec.drain.rules.
func withRules(rules ...any) func(*unstructured.Unstructured) {
	return set("drain.rules", rules)
}

// withRuleExpr returns a mutation that sets one drain rule whose
// podSelector has one match expression.
func withRuleExpr(e map[string]any) func(*unstructured.Unstructured) {
	return withRules(rule("r", map[string]any{"podSelector": map[string]any{"matchExpressions": []any{e}}}))
}

// manyRules is n valid drain rules of every behavior.
func manyRules(n int) []any {
	rules := make([]any, 0, n)
	for i := range n {
		fields := map[string]any{"namespaces": []any{fmt.Sprintf("ns-%d", i)}, "behavior": "Drain", "order": int64(i)}
		switch i % 3 {
		case 1:
			fields = map[string]any{"behavior": "Skip", "podSelector": map[string]any{"matchLabels": map[string]any{"app": "logs"}}}
		case 2:
			fields["behavior"] = "WaitCompleted"
		}
		rules = append(rules, rule(fmt.Sprintf("r%d", i), fields))
	}
	return rules
}

// Every field of ClusterUpgradeSpec, and what the table below checks of it.
// "refused" entries are in the first table, "accepted" in the second.
//
//	spec                          required: refused when absent; unknown fields refused (strict)
//	targetVersion                 required, string, maxLength 64, semver CEL pattern:
//	                              refused absent, not a string, too long, and 13 malformed versions;
//	                              accepted: pre-release, build, v0.0.0, vendor suffixes, 64 bytes
//	nodeSelector                  object; matchExpressions[].key and .operator required; operator
//	                              closed (CEL); values non-empty exactly for In/NotIn (CEL);
//	                              matchLabels values strings; unknown fields refused;
//	                              accepted: {}, matchLabels, each of the four operators
//	strategy.type                 enum Sequential|Concurrent: refused unknown value; accepted both
//	strategy.maxUnavailable       int >= 1 and <= 2^31-1, or "1%".."100%" (CEL); required for
//	                              Concurrent, forbidden otherwise (CEL): refused 0, -1, 2^31, 1.5,
//	                              0%, 101%, 1000%, "ten", "10", 12.5%, 05%, Sequential, default,
//	                              missing; accepted 1, 1%, 100%, 5000, 2^31-1
//	strategy.canary.nodes         required; int >= 1 and <= 2^31-1, or "1%".."100%" (CEL):
//	                              refused absent, 0, 2^31, 0%, 101%, "two"; accepted 1, 1%, 100%
//	strategy.canary.soakDuration  as health.soakDuration: refused negative, words; accepted 0s
//	strategy.canary.pause         boolean: refused a string; accepted true
//	strategy.canary (unknown)     refused
//	strategy.zones                needs maxUnavailable or oneAtATime true (CEL): refused {} and
//	                              oneAtATime false alone; unknown fields refused
//	strategy.zones.topologyKey    default topology.kubernetes.io/zone; a label key (CEL): refused
//	                              a space, a trailing /; accepted a prefixed key
//	strategy.zones.maxUnavailable as strategy.maxUnavailable: refused 0, 101%; accepted 1, 34%
//	priority                      exactly one of label and annotation (CEL): refused none, both;
//	                              keys as label keys (CEL): refused a space; accepted each
//	strategy (unknown field)      refused
//	maxFailedNodes                int32, minimum 0: refused -1, 2^31, a string; accepted 0, 10, 2^31-1
//	paused                        boolean: refused a string; accepted true
//	drain.timeout                 Go duration > 0, maxLength 32 (CEL): refused negative, zero, words,
//	                              no unit, ".5s", too long, too large for a Go duration;
//	                              accepted 1h30m, 1.5s, 1ns, 2562047h, 32 bytes
//	drain.gracePeriodSeconds      int64, minimum 0: refused -5, 1.5; accepted 0, 3600
//	drain.deleteEmptyDirData      boolean: refused a string; accepted false
//	drain.force                   boolean: refused a string; accepted true
//	drain.onTimeout               enum Fail|ForceDelete|Cordon: refused unknown value; accepted all three
//	hooks.preDrain|postUpgrade    template required, a PodTemplateSpec as upgrade.job.template:
//	                              refused a wrongly typed field, a spec without containers, an
//	                              unknown field, ephemeralContainers; timeout as drain.timeout,
//	                              failurePolicy enum Fail|Ignore: refused each, and an unknown
//	                              hook; accepted both with a timeout and Ignore
//	drain.maxBlockedNodes         int32, minimum 0, only with onTimeout Cordon (CEL): refused -1,
//	                              refused with Fail and without onTimeout; accepted 0 and 5 with Cordon
//	drain (unknown field)         refused
//	upgrade.type                  enum Job|External: refused unknown value; accepted both
//	                              (External is the base object of every entry)
//	upgrade.timeout               as drain.timeout: refused negative, zero, words, too long,
//	                              too large; accepted 1us, 1µs
//	upgrade.job                   required for Job (also the default type), forbidden for
//	                              External (CEL): refused all three ways
//	upgrade.job.template          required: refused when absent
//	upgrade.job.template.spec     a PodSpec: refused without containers, a container without a
//	                              name, an unknown field, ephemeralContainers (dropped from the
//	                              schema: a Job's pod never has them)
//	upgrade (unknown field)       refused
//	health.soakDuration           Go duration >= 0, maxLength 32 (CEL): refused negative, words,
//	                              too long, too large for a Go duration; accepted 0s, 2562047h
//	health.replacementsReady.timeout  Go duration > 0 (CEL): refused 0s, negative, words;
//	                              accepted 1s, and {} (defaulted to 10m)
//	health.checks                 name DNS label, unique; exactly one of objectName/labelSelector
//	                              (CEL); expression 1..1024; at most 16
//	health.prometheus             url http(s) (pattern), required; source enum; timeout > 0 (CEL)
//	health (unknown field)        refused
//	window                        object: refused a string, an unknown field
//	window.start, window.end      required, HH:MM 00:00..23:59 (CEL), maxLength 5, must differ
//	                              (CEL): refused absent, 24:00, 9:00, 22:60, a word, seconds,
//	                              start == end; accepted 00:00, 23:59, end 00:00, end before start
//	window.days                   set of Monday..Sunday, 1..7 items: refused an unknown day,
//	                              lower case, a duplicate, empty, eight; accepted one, all seven
//	window.timeZone               default UTC, maxLength 64, IANA name shape, not Local (CEL):
//	                              refused Local, empty, a space, "..", a leading /, too long, a
//	                              number; accepted UTC, three segments, Etc/GMT+5, a hyphen, and
//	                              an unknown but well-formed name (the controller judges it:
//	                              Stalled InvalidWindow)
//	drain.rules                   list map by name (unique), at most 32: refused a duplicate name,
//	                              33 rules; accepted 32 rules of every behavior, none
//	drain.rules[].name            required DNS label: refused absent, upper case and "_", 64 chars
//	drain.rules[].namespaces      set of DNS labels, at most 64: refused a duplicate, "Shop", "",
//	                              65 of them
//	drain.rules[].podSelector     a bounded label selector: operator enum, values non-empty
//	                              exactly for In/NotIn (CEL), keys and values label-shaped,
//	                              at most 32 expressions: refused "Like", In or NotIn without
//	                              values, Exists with values, a bad key, bad values, 33
//	                              expressions; accepted {}, each operator, an empty value, and a
//	                              matchLabels key the schema cannot check (the drain judges it)
//	drain.rules[].behavior        enum Drain|Skip|WaitCompleted, default Drain: refused "Maybe",
//	                              lower case; accepted each
//	drain.rules[].order           int32: refused 2^31, -2^31-1, 1.5, a string, and with Skip
//	                              (CEL); accepted -2^31, 2^31-1, with WaitCompleted
//	drain.rules (not a list), drain.rules[] (unknown field)  refused
//
// Status is not listed: it is written through the status subresource by
// nodewave alone.
var _ = Describe("ClusterUpgrade admission", func() {
	ctx := context.Background()
	var n int

	create := func(u *unstructured.Unstructured) error {
		return env.Client.Create(ctx, u, client.FieldValidation("Strict"))
	}

	DescribeTable("refuses an invalid object with a message that names the field",
		func(mutate func(*unstructured.Unstructured), field, message string) {
			n++
			u := validObject(fmt.Sprintf("invalid-%d", n))
			mutate(u)
			err := create(u)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
			Expect(apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)).To(BeTrue(), "unexpected error kind: %v", err)
			Expect(err.Error()).To(ContainSubstring(field), "the message does not name the field")
			Expect(err.Error()).To(ContainSubstring(message))
		},
		// spec
		Entry("spec missing", func(u *unstructured.Unstructured) { delete(u.Object, "spec") }, "spec: Required value", "Required value"),
		// The name is a label value on the upgrade Jobs and the value of
		// the pending taint, both at most 63 characters.
		Entry("name over 63 characters", func(u *unstructured.Unstructured) { u.SetName(strings.Repeat("n", 64)) },
			"metadata.name", "at most 63 characters"),
		Entry("unknown field in spec", set("maxSurge", int64(1)), `"spec.maxSurge"`, unknownField),

		// targetVersion
		Entry("targetVersion without the leading v", set("targetVersion", "1.37.2"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with a capital V", set("targetVersion", "V1.37.2"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion without a patch number", set("targetVersion", "v1.37"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with four numbers", set("targetVersion", "v1.37.2.1"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with a leading zero", set("targetVersion", "v1.037.2"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion that is a word", set("targetVersion", "latest"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion empty", set("targetVersion", ""), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with an empty pre-release", set("targetVersion", "v1.37.2-"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with an empty pre-release identifier", set("targetVersion", "v1.37.2-rc..1"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with a leading zero in a numeric pre-release part", set("targetVersion", "v1.37.2-rc.01"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with an empty build", set("targetVersion", "v1.37.2+"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with an underscore in the build", set("targetVersion", "v1.37.2+k3s_1"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with a space", set("targetVersion", "v1.37.2 "), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion over 64 bytes", set("targetVersion", "v1.37.2-"+strings.Repeat("a", 57)),
			"spec.targetVersion: Too long", "may not be more than 64 bytes"),
		Entry("targetVersion that is a number", set("targetVersion", int64(1)), "spec.targetVersion: Invalid value", `must be of type string`),
		Entry("targetVersion missing", unset("targetVersion"), "spec.targetVersion", "Required value"),

		// nodeSelector
		Entry("nodeSelector expression without a key", expr(map[string]any{"operator": "Exists"}),
			"spec.nodeSelector.matchExpressions[0].key", "Required value"),
		Entry("nodeSelector expression without an operator", expr(map[string]any{"key": "pool"}),
			"spec.nodeSelector.matchExpressions[0].operator", "Required value"),
		Entry("nodeSelector with an unknown operator", expr(map[string]any{"key": "pool", "operator": "Like"}),
			"spec.nodeSelector.matchExpressions: Invalid value", badOperator),
		Entry("nodeSelector In without values", expr(map[string]any{"key": "pool", "operator": "In"}),
			"spec.nodeSelector.matchExpressions: Invalid value", badValues),
		Entry("nodeSelector NotIn with an empty values list", expr(map[string]any{"key": "pool", "operator": "NotIn", "values": []any{}}),
			"spec.nodeSelector.matchExpressions: Invalid value", badValues),
		Entry("nodeSelector Exists with values", expr(map[string]any{"key": "pool", "operator": "Exists", "values": []any{"general"}}),
			"spec.nodeSelector.matchExpressions: Invalid value", badValues),
		Entry("nodeSelector DoesNotExist with values", expr(map[string]any{"key": "pool", "operator": "DoesNotExist", "values": []any{"gpu"}}),
			"spec.nodeSelector.matchExpressions: Invalid value", badValues),
		Entry("nodeSelector matchLabels value that is not a string", set("nodeSelector", map[string]any{"matchLabels": map[string]any{"pool": int64(1)}}),
			"spec.nodeSelector.matchLabels.pool", "must be of type string"),
		Entry("nodeSelector that is a string", set("nodeSelector", "pool=general"), "spec.nodeSelector", "must be of type object"),
		Entry("unknown field in nodeSelector", set("nodeSelector.labels", map[string]any{"pool": "general"}),
			`"spec.nodeSelector.labels"`, unknownField),

		// controlPlane
		Entry("controlPlane nodeSelector with an unknown operator",
			set("controlPlane", map[string]any{"nodeSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "pool", "operator": "Like"}}}}),
			"spec.controlPlane.nodeSelector.matchExpressions: Invalid value", "controlPlane."+badOperator),
		Entry("controlPlane nodeSelector Exists with values",
			set("controlPlane", map[string]any{"nodeSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "pool", "operator": "Exists", "values": []any{"a"}}}}}),
			"spec.controlPlane.nodeSelector.matchExpressions: Invalid value", "controlPlane."+badValues),
		Entry("unknown field in controlPlane (there is no controlPlane.upgrade: spec.upgrade serves both)",
			set("controlPlane", map[string]any{"upgrade": map[string]any{"type": "External"}}),
			`"spec.controlPlane.upgrade"`, unknownField),

		// strategy.type and strategy.maxUnavailable
		Entry("unknown strategy type", set("strategy.type", "Parallel"),
			"spec.strategy.type", `Unsupported value: "Parallel": supported values: "Sequential", "Concurrent"`),
		Entry("maxUnavailable 0", concurrentWith(int64(0)), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable -1", concurrentWith(int64(-1)), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 2^31 (does not fit the int32 of the Go type)", concurrentWith(int64(2147483648)),
			"spec.strategy.maxUnavailable: Invalid value", bigMaxUnavail),
		Entry("maxUnavailable 1.5", concurrentWith(1.5), "spec.strategy.maxUnavailable", "must be of type integer"),
		Entry("maxUnavailable 0%", concurrentWith("0%"), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 101%", concurrentWith("101%"), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 1000%", concurrentWith("1000%"), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable \"ten\"", concurrentWith("ten"), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable \"10\" (a string without %)", concurrentWith("10"), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 12.5%", concurrentWith("12.5%"), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 05%", concurrentWith("05%"), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable on Sequential", both(set("strategy.type", "Sequential"), set(maxUnavailable, int64(2))),
			"spec.strategy.maxUnavailable", "Forbidden: maxUnavailable is only allowed when strategy.type is Concurrent"),
		Entry("maxUnavailable with the default (Sequential) strategy", set(maxUnavailable, "10%"),
			"spec.strategy.maxUnavailable", "Forbidden: maxUnavailable is only allowed when strategy.type is Concurrent"),
		Entry("Concurrent without maxUnavailable", set("strategy.type", concurrent),
			"spec.strategy.maxUnavailable", "Required value: maxUnavailable is required when strategy.type is Concurrent"),
		Entry("unknown field in strategy", set("strategy.batchSize", int64(3)), `"spec.strategy.batchSize"`, unknownField),
		Entry("zones with nothing to do", set("strategy.zones", map[string]any{}),
			"spec.strategy.zones", "zones needs maxUnavailable, oneAtATime: true, or both"),
		Entry("zones with oneAtATime false alone", set("strategy.zones", map[string]any{"oneAtATime": false}),
			"spec.strategy.zones", "zones needs maxUnavailable, oneAtATime: true, or both"),
		Entry("zones maxUnavailable 0", set("strategy.zones.maxUnavailable", int64(0)),
			"spec.strategy.zones.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("zones maxUnavailable 101%", set("strategy.zones.maxUnavailable", "101%"),
			"spec.strategy.zones.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("zones topologyKey with a space", both(set("strategy.zones.oneAtATime", true), set("strategy.zones.topologyKey", "my zone")),
			"spec.strategy.zones.topologyKey: Invalid value", "topologyKey must be a label key"),
		Entry("zones topologyKey ending in /", both(set("strategy.zones.oneAtATime", true), set("strategy.zones.topologyKey", "example.com/")),
			"spec.strategy.zones.topologyKey: Invalid value", "topologyKey must be a label key"),
		Entry("unknown field in zones", both(set("strategy.zones.oneAtATime", true), set("strategy.zones.order", "a")),
			`"spec.strategy.zones.order"`, unknownField),
		Entry("priority with neither label nor annotation", set("priority", map[string]any{}),
			"spec.priority", "priority needs exactly one of label and annotation"),
		Entry("priority with both", set("priority", map[string]any{"label": "a", "annotation": "b"}),
			"spec.priority", "priority needs exactly one of label and annotation"),
		Entry("priority label with a space", set("priority.label", "rack number"),
			"spec.priority.label: Invalid value", "label must be a label key"),
		Entry("canary without nodes", set("strategy.canary", map[string]any{"pause": true}),
			"spec.strategy.canary.nodes: Required value", ""),
		Entry("canary of 0 nodes", set("strategy.canary.nodes", int64(0)), "spec.strategy.canary.nodes: Invalid value", badCanary),
		Entry("canary of 2^31 nodes", set("strategy.canary.nodes", int64(2147483648)),
			"spec.strategy.canary.nodes: Invalid value", "nodes must fit in 32 bits: at most 2147483647"),
		Entry("canary of 0%", set("strategy.canary.nodes", "0%"), "spec.strategy.canary.nodes: Invalid value", badCanary),
		Entry("canary of 101%", set("strategy.canary.nodes", "101%"), "spec.strategy.canary.nodes: Invalid value", badCanary),
		Entry("canary of \"two\" nodes", set("strategy.canary.nodes", "two"), "spec.strategy.canary.nodes: Invalid value", badCanary),
		Entry("negative canary soak", both(set("strategy.canary.nodes", int64(1)), set("strategy.canary.soakDuration", "-1m")),
			"spec.strategy.canary.soakDuration: Invalid value", "soakDuration must be a duration of zero or more such as 0s, 30s or 10m"),
		Entry("canary soak in words", both(set("strategy.canary.nodes", int64(1)), set("strategy.canary.soakDuration", "an hour")),
			"spec.strategy.canary.soakDuration: Invalid value", "soakDuration must be a duration of zero or more"),
		Entry("canary pause as a string", both(set("strategy.canary.nodes", int64(1)), set("strategy.canary.pause", "yes")),
			"spec.strategy.canary.pause", "must be of type boolean"),
		Entry("unknown field in canary", both(set("strategy.canary.nodes", int64(1)), set("strategy.canary.wave", int64(1))),
			`"spec.strategy.canary.wave"`, unknownField),

		// maxFailedNodes and paused
		Entry("negative maxFailedNodes", set("maxFailedNodes", int64(-1)),
			"spec.maxFailedNodes", "Invalid value: -1: spec.maxFailedNodes in body should be greater than or equal to 0"),
		Entry("maxFailedNodes 2^31 (over int32)", set("maxFailedNodes", int64(2147483648)),
			"spec.maxFailedNodes", "must be of type integer with format int32"),
		Entry("maxFailedNodes that is a string", set("maxFailedNodes", "1"), "spec.maxFailedNodes", "must be of type integer"),
		Entry("paused that is not a boolean", set("paused", "yes"), "spec.paused", "spec.paused in body must be of type boolean"),

		// drain
		Entry("negative drain timeout", set("drain.timeout", "-5m"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("zero drain timeout", set("drain.timeout", "0s"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("drain timeout in words", set("drain.timeout", "ten minutes"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("drain timeout without a unit", set("drain.timeout", "600"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("drain timeout without a leading digit", set("drain.timeout", ".5s"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("drain timeout over 32 bytes", set("drain.timeout", strings.Repeat("1s", 17)),
			"spec.drain.timeout: Too long", "may not be more than 32 bytes"),
		Entry("drain timeout too large for a Go duration", set("drain.timeout", "2562048h"), "spec.drain.timeout: Invalid value", notADuration),
		Entry("negative grace period", set("drain.gracePeriodSeconds", int64(-5)),
			"spec.drain.gracePeriodSeconds", "Invalid value: -5: spec.drain.gracePeriodSeconds in body should be greater than or equal to 0"),
		Entry("fractional grace period", set("drain.gracePeriodSeconds", 1.5), "spec.drain.gracePeriodSeconds", "must be of type integer"),
		Entry("deleteEmptyDirData that is not a boolean", set("drain.deleteEmptyDirData", "false"),
			"spec.drain.deleteEmptyDirData", "must be of type boolean"),
		Entry("force that is not a boolean", set("drain.force", "true"), "spec.drain.force", "must be of type boolean"),
		Entry("unknown onTimeout", set("drain.onTimeout", "Ignore"),
			"spec.drain.onTimeout", `Unsupported value: "Ignore": supported values: "Fail", "ForceDelete", "Cordon"`),
		Entry("hook without a template", set("hooks.preDrain", map[string]any{"timeout": "5m"}),
			"spec.hooks.preDrain.template", "Required value"),
		Entry("hook with a timeout in words", set("hooks.postUpgrade", map[string]any{"template": map[string]any{}, "timeout": "soon"}),
			"spec.hooks.postUpgrade.timeout: Invalid value", badTimeout),
		Entry("hook with an unknown failurePolicy", set("hooks.preDrain", map[string]any{"template": map[string]any{}, "failurePolicy": "Retry"}),
			"spec.hooks.preDrain.failurePolicy", `Unsupported value: "Retry": supported values: "Fail", "Ignore"`),
		Entry("unknown hook", set("hooks.preUpgrade", map[string]any{"template": map[string]any{}}), `"spec.hooks.preUpgrade"`, unknownField),
		Entry("hook template with a wrongly typed field", set("hooks.postUpgrade", map[string]any{"template": map[string]any{
			"spec": map[string]any{"containers": int64(5)}}}), "spec.hooks.postUpgrade.template.spec.containers", "must be of type array"),
		Entry("hook template whose spec has no containers", set("hooks.preDrain", map[string]any{"template": map[string]any{
			"spec": map[string]any{"restartPolicy": "Never"}}}), "spec.hooks.preDrain.template.spec.containers", "Required value"),
		Entry("hook template with an unknown field", set("hooks.preDrain", map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "noout", "image": "example.com/ceph-tools:v1"}}, "hostRoot": true}}}),
			`"spec.hooks.preDrain.template.spec.hostRoot"`, unknownField),
		Entry("hook template with ephemeral containers (a Job's pod never has them)", set("hooks.postUpgrade", map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers":          []any{map[string]any{"name": "smoke", "image": "example.com/smoke:v1"}},
			"ephemeralContainers": []any{map[string]any{"name": "debug", "image": "busybox"}}}}}),
			`"spec.hooks.postUpgrade.template.spec.ephemeralContainers"`, unknownField),
		Entry("upgrade template with ephemeral containers (a Job's pod never has them)", withJob(map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers":          []any{map[string]any{"name": "upgrade", "image": "example.com/upgrader:v1"}},
			"ephemeralContainers": []any{map[string]any{"name": "debug", "image": "busybox"}}}}}),
			`"spec.upgrade.job.template.spec.ephemeralContainers"`, unknownField),
		Entry("maxBlockedNodes without onTimeout Cordon", set("drain.maxBlockedNodes", int64(2)),
			"spec.drain.maxBlockedNodes", "drain.maxBlockedNodes is only allowed when drain.onTimeout is Cordon"),
		Entry("maxBlockedNodes with onTimeout Fail", both(set("drain.onTimeout", "Fail"), set("drain.maxBlockedNodes", int64(2))),
			"spec.drain.maxBlockedNodes", "drain.maxBlockedNodes is only allowed when drain.onTimeout is Cordon"),
		Entry("negative maxBlockedNodes", both(set("drain.onTimeout", "Cordon"), set("drain.maxBlockedNodes", int64(-1))),
			"spec.drain.maxBlockedNodes", "should be greater than or equal to 0"),
		Entry("unknown field in drain", set("drain.ignoreDaemonSets", true), `"spec.drain.ignoreDaemonSets"`, unknownField),

		// upgrade
		Entry("unknown upgrade type", set("upgrade.type", "Ansible"),
			"spec.upgrade.type", `Unsupported value: "Ansible": supported values: "Job", "External"`),
		Entry("negative upgrade timeout", set("upgrade.timeout", "-1h"), "spec.upgrade.timeout: Invalid value", badTimeout),
		Entry("zero upgrade timeout", set("upgrade.timeout", "0m"), "spec.upgrade.timeout: Invalid value", badTimeout),
		Entry("upgrade timeout in words", set("upgrade.timeout", "half an hour"), "spec.upgrade.timeout: Invalid value", badTimeout),
		Entry("upgrade timeout over 32 bytes", set("upgrade.timeout", strings.Repeat("1m", 17)),
			"spec.upgrade.timeout: Too long", "may not be more than 32 bytes"),
		Entry("upgrade timeout too large for a Go duration", set("upgrade.timeout", "9999999999h"), "spec.upgrade.timeout: Invalid value", notADuration),
		Entry("Job upgrade without a job", set("upgrade.type", "Job"),
			"spec.upgrade.job", "Required value: upgrade.job is required when upgrade.type is Job"),
		Entry("default (Job) upgrade without a job", unset("upgrade"),
			"spec.upgrade.job", "Required value: upgrade.job is required when upgrade.type is Job"),
		Entry("External upgrade with a job", set("upgrade.job", jobTemplate),
			"spec.upgrade.job", "Forbidden: upgrade.job is only allowed when upgrade.type is Job"),
		Entry("Job upgrade with a job without a template", withJob(map[string]any{}),
			"spec.upgrade.job.template", "Required value"),
		Entry("Job template without containers", withJob(map[string]any{"template": map[string]any{"spec": map[string]any{}}}),
			"spec.upgrade.job.template.spec.containers", "Required value"),
		Entry("Job template with a container without a name", withJob(map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"image": "example.com/upgrader:v1"}},
		}}}), "spec.upgrade.job.template.spec.containers[0].name", "Required value"),
		Entry("Job template with an unknown field", withJob(map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "upgrade", "image": "example.com/upgrader:v1"}},
			"hostRoot":   true,
		}}}), `"spec.upgrade.job.template.spec.hostRoot"`, unknownField),
		Entry("unknown field in upgrade", set("upgrade.retries", int64(3)), `"spec.upgrade.retries"`, unknownField),

		// health
		Entry("negative soak duration", set("health.soakDuration", "-30s"), "spec.health.soakDuration: Invalid value", badSoak),
		Entry("replacementsReady timeout 0s", set("health.replacementsReady.timeout", "0s"),
			"spec.health.replacementsReady.timeout: Invalid value", "replacementsReady.timeout must be a positive duration such as 10m"),
		Entry("negative replacementsReady timeout", set("health.replacementsReady.timeout", "-1m"),
			"spec.health.replacementsReady.timeout: Invalid value", "replacementsReady.timeout must be a positive duration such as 10m"),
		Entry("replacementsReady timeout in words", set("health.replacementsReady.timeout", "ten minutes"),
			"spec.health.replacementsReady.timeout: Invalid value", "replacementsReady.timeout must be a positive duration such as 10m"),
		Entry("a check with neither objectName nor labelSelector", set("health.checks", []any{check("c", nil)}),
			"spec.health.checks[0]: Invalid value", "a check needs exactly one of objectName and labelSelector"),
		Entry("a check with both objectName and labelSelector", set("health.checks", []any{check("c", map[string]any{
			"objectName": "db", "labelSelector": map[string]any{"matchLabels": map[string]any{"app": "db"}}})}),
			"spec.health.checks[0]: Invalid value", "a check needs exactly one of objectName and labelSelector"),
		Entry("a check name that is not a DNS label", set("health.checks", []any{check("Ceph_Health", map[string]any{"objectName": "x"})}),
			"spec.health.checks[0].name: Invalid value", "should match"),
		Entry("a check without an expression", set("health.checks", []any{check("c", map[string]any{"objectName": "x", "expression": ""})}),
			"spec.health.checks[0].expression: Invalid value", "at least 1 chars long"),
		Entry("two checks of one name", set("health.checks", []any{check("c", map[string]any{"objectName": "x"}), check("c", map[string]any{"objectName": "y"})}),
			"spec.health.checks[1]: Duplicate value", "Duplicate value"),
		Entry("17 checks", set("health.checks", manyChecks(17)), "spec.health.checks: Too many", "must have at most 16 items"),
		Entry("a prometheus url without a scheme", set("health.prometheus", map[string]any{"url": "prometheus:9090"}),
			"spec.health.prometheus.url: Invalid value", "should match"),
		Entry("a prometheus url of another scheme", set("health.prometheus", map[string]any{"url": "ftp://prometheus"}),
			"spec.health.prometheus.url: Invalid value", "should match"),
		Entry("a prometheus without a url", set("health.prometheus", map[string]any{"alertNames": "Kube.*"}),
			"spec.health.prometheus.url: Required value", "Required value"),
		Entry("an unknown alert source", set("health.prometheus", map[string]any{"url": "http://p:9090", "source": "Thanos"}),
			"spec.health.prometheus.source: Unsupported value", "supported values"),
		Entry("a prometheus timeout of 0s", set("health.prometheus", map[string]any{"url": "http://p:9090", "timeout": "0s"}),
			"spec.health.prometheus.timeout: Invalid value", "prometheus.timeout must be a positive duration such as 10m"),
		Entry("unknown field in replacementsReady", set("health.replacementsReady.workloads", "all"), `"spec.health.replacementsReady.workloads"`, unknownField),
		Entry("soak duration in words", set("health.soakDuration", "a minute"), "spec.health.soakDuration: Invalid value", badSoak),
		Entry("soak duration over 32 bytes", set("health.soakDuration", strings.Repeat("1s", 17)),
			"spec.health.soakDuration: Too long", "may not be more than 32 bytes"),
		// It passed admission before the rule called duration(), and then no
		// client could decode the object: metav1.Duration is a Go duration.
		Entry("soak duration too large for a Go duration", set("health.soakDuration", "2562048h"),
			"spec.health.soakDuration: Invalid value", notADuration),
		Entry("unknown field in health", set("health.probe", "/healthz"), `"spec.health.probe"`, unknownField),

		// window
		Entry("window that is a string", set("window", "22:00-04:00"), "spec.window", "must be of type object"),
		Entry("unknown field in window", withWindow(map[string]any{"length": "6h"}), `"spec.window.length"`, unknownField),
		Entry("window without a start", withWindow(map[string]any{"start": nil}), "spec.window.start", "Required value"),
		Entry("window without an end", withWindow(map[string]any{"end": nil}), "spec.window.end", "Required value"),
		Entry("window start 24:00", withWindow(map[string]any{"start": "24:00"}), "spec.window.start: Invalid value", badStart),
		Entry("window start without a leading zero", withWindow(map[string]any{"start": "9:00"}), "spec.window.start: Invalid value", badStart),
		Entry("window start 22:60", withWindow(map[string]any{"start": "22:60"}), "spec.window.start: Invalid value", badStart),
		Entry("window start that is a word", withWindow(map[string]any{"start": "night"}), "spec.window.start: Invalid value", badStart),
		Entry("window start with seconds", withWindow(map[string]any{"start": "22:00:00"}),
			"spec.window.start: Too long", "may not be more than 5 bytes"),
		Entry("window end 24:00", withWindow(map[string]any{"end": "24:00"}), "spec.window.end: Invalid value", badEnd),
		Entry("window end with a dot", withWindow(map[string]any{"end": "04.00"}), "spec.window.end: Invalid value", badEnd),
		Entry("window end equal to its start", withWindow(map[string]any{"start": "04:00"}), "spec.window.end: Invalid value", sameStartEnd),
		Entry("window day that is not a day", withWindow(map[string]any{"days": []any{"Monday", "Funday"}}),
			"spec.window.days[1]", `Unsupported value: "Funday": supported values: "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"`),
		Entry("window day in lower case", withWindow(map[string]any{"days": []any{"monday"}}), "spec.window.days[0]", `Unsupported value: "monday"`),
		Entry("window day listed twice", withWindow(map[string]any{"days": []any{"Monday", "Friday", "Monday"}}),
			"spec.window.days[2]", `Duplicate value: "Monday"`),
		Entry("window with an empty days list", withWindow(map[string]any{"days": []any{}}),
			"spec.window.days", "should have at least 1 items"),
		Entry("window with eight days", withWindow(map[string]any{"days": []any{
			"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Monday"}}),
			"spec.window.days", "must have at most 7 items"),
		Entry("window time zone Local", withTimeZone("Local"), "spec.window.timeZone: Invalid value", badTimeZone),
		Entry("window time zone empty", withTimeZone(""), "spec.window.timeZone: Invalid value", badTimeZone),
		Entry("window time zone with a space", withTimeZone("Europe/Berlin "), "spec.window.timeZone: Invalid value", badTimeZone),
		Entry("window time zone with ..", withTimeZone("../etc/passwd"), "spec.window.timeZone: Invalid value", badTimeZone),
		Entry("window time zone with a leading /", withTimeZone("/UTC"), "spec.window.timeZone: Invalid value", badTimeZone),
		Entry("window time zone over 64 bytes", withTimeZone("Europe/"+strings.Repeat("a", 58)),
			"spec.window.timeZone: Too long", "may not be more than 64 bytes"),
		Entry("window time zone that is a number", withTimeZone(int64(1)), "spec.window.timeZone", "must be of type string"),

		// drain.rules
		Entry("a drain rule with an unknown behavior", withRules(rule("r", map[string]any{"behavior": "Maybe"})),
			"spec.drain.rules[0].behavior", `Unsupported value: "Maybe": supported values: "Drain", "Skip", "WaitCompleted"`),
		Entry("a drain rule behavior in lower case", withRules(rule("r", map[string]any{"behavior": "skip"})),
			"spec.drain.rules[0].behavior", `Unsupported value: "skip"`),
		Entry("a drain rule without a name", withRules(rule("r", map[string]any{"name": nil, "behavior": "Skip"})),
			"spec.drain.rules[0].name", "Required value"),
		Entry("a drain rule name that is not a DNS label", withRules(rule("Batch_Jobs", nil)),
			"spec.drain.rules[0].name: Invalid value", "should match"),
		Entry("a drain rule name over 63 characters", withRules(rule(strings.Repeat("r", 64), nil)),
			"spec.drain.rules[0].name: Too long", "may not be more than 63 bytes"),
		Entry("two drain rules of one name", withRules(rule("r", nil), rule("r", map[string]any{"behavior": "Skip"})),
			"spec.drain.rules[1]: Duplicate value", "Duplicate value"),
		Entry("33 drain rules", set("drain.rules", manyRules(33)), "spec.drain.rules: Too many", "must have at most 32 items"),
		Entry("a drain rule namespace that is not a name", withRules(rule("r", map[string]any{"namespaces": []any{"Shop"}})),
			"spec.drain.rules[0].namespaces[0]: Invalid value", "should match"),
		Entry("an empty drain rule namespace", withRules(rule("r", map[string]any{"namespaces": []any{"shop", ""}})),
			"spec.drain.rules[0].namespaces[1]: Invalid value", "at least 1 chars long"),
		Entry("a drain rule namespace listed twice", withRules(rule("r", map[string]any{"namespaces": []any{"shop", "batch", "shop"}})),
			"spec.drain.rules[0].namespaces[2]", `Duplicate value: "shop"`),
		Entry("a drain rule of 65 namespaces", withRules(rule("r", map[string]any{"namespaces": func() []any {
			ns := make([]any, 65)
			for i := range ns {
				ns[i] = fmt.Sprintf("ns-%d", i)
			}
			return ns
		}()})), "spec.drain.rules[0].namespaces", "must have at most 64 items"),
		Entry("a drain rule podSelector with an unknown operator", withRuleExpr(map[string]any{"key": "app", "operator": "Like"}),
			"spec.drain.rules[0].podSelector.matchExpressions[0].operator",
			`Unsupported value: "Like": supported values: "In", "NotIn", "Exists", "DoesNotExist"`),
		Entry("a drain rule podSelector In without values", withRuleExpr(map[string]any{"key": "app", "operator": "In"}),
			"spec.drain.rules[0].podSelector.matchExpressions[0].values: Invalid value", badRuleValues),
		Entry("a drain rule podSelector NotIn with an empty values list", withRuleExpr(map[string]any{"key": "app", "operator": "NotIn", "values": []any{}}),
			"spec.drain.rules[0].podSelector.matchExpressions[0].values: Invalid value", badRuleValues),
		Entry("a drain rule podSelector Exists with values", withRuleExpr(map[string]any{"key": "app", "operator": "Exists", "values": []any{"db"}}),
			"spec.drain.rules[0].podSelector.matchExpressions[0].values: Invalid value", badRuleValues),
		Entry("a drain rule podSelector value that is not a label value", withRuleExpr(map[string]any{"key": "app", "operator": "In", "values": []any{"db", "-db"}}),
			"spec.drain.rules[0].podSelector.matchExpressions[0].values[1]: Invalid value", "should match"),
		Entry("a drain rule podSelector key that is not a label key", withRuleExpr(map[string]any{"key": "my app", "operator": "Exists"}),
			"spec.drain.rules[0].podSelector.matchExpressions[0].key: Invalid value", "should match"),
		Entry("a drain rule podSelector matchLabels value that is not a label value",
			withRules(rule("r", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "not a value"}}})),
			"spec.drain.rules[0].podSelector.matchLabels.app: Invalid value", "should match"),
		Entry("a drain rule podSelector of 33 expressions", withRules(rule("r", map[string]any{"podSelector": map[string]any{"matchExpressions": func() []any {
			es := make([]any, 33)
			for i := range es {
				es[i] = map[string]any{"key": fmt.Sprintf("k%d", i), "operator": "Exists"}
			}
			return es
		}()}})), "spec.drain.rules[0].podSelector.matchExpressions", "must have at most 32 items"),
		Entry("a drain rule podSelector expression without an operator", withRuleExpr(map[string]any{"key": "app"}),
			"spec.drain.rules[0].podSelector.matchExpressions[0].operator", "Required value"),
		Entry("a drain rule order with behavior Skip", withRules(rule("r", map[string]any{"behavior": "Skip", "order": int64(5)})),
			"spec.drain.rules[0].order: Forbidden", "order is not allowed when behavior is Skip"),
		Entry("a drain rule order of 2^31 (over int32)", withRules(rule("r", map[string]any{"order": int64(2147483648)})),
			"spec.drain.rules[0].order", "must be of type integer with format int32"),
		Entry("a drain rule order of -2^31-1 (under int32)", withRules(rule("r", map[string]any{"order": int64(-2147483649)})),
			"spec.drain.rules[0].order", "must be of type integer with format int32"),
		Entry("a fractional drain rule order", withRules(rule("r", map[string]any{"order": 1.5})),
			"spec.drain.rules[0].order", "must be of type integer"),
		Entry("a drain rule order that is a string", withRules(rule("r", map[string]any{"order": "10"})),
			"spec.drain.rules[0].order", "must be of type integer"),
		Entry("unknown field in a drain rule", withRules(rule("r", map[string]any{"namespaceSelector": map[string]any{}})),
			`"spec.drain.rules[0].namespaceSelector"`, unknownField),
		Entry("drain rules that are a string", set("drain.rules", "skip-logs"), "spec.drain.rules", "must be of type array"),
	)

	DescribeTable("accepts the edge values of every rule, and the result decodes into the Go type",
		func(mutate func(*unstructured.Unstructured)) {
			n++
			u := validObject(fmt.Sprintf("edge-%d", n))
			mutate(u)
			Expect(create(u)).To(Succeed(), "spec: %v", u.Object["spec"])
			// What the API server stored must decode, or the controller's
			// informer could not read it.
			got := &upgradev1alpha1.ClusterUpgrade{}
			Expect(env.Client.Get(ctx, client.ObjectKey{Name: u.GetName()}, got)).To(Succeed())
		},
		Entry("name of exactly 63 characters", func(u *unstructured.Unstructured) { u.SetName(strings.Repeat("n", 63)) }),
		Entry("targetVersion with pre-release and build", set("targetVersion", "v1.37.2-rc.1+build.7")),
		Entry("targetVersion v0.0.0", set("targetVersion", "v0.0.0")),
		Entry("targetVersion with an EKS suffix", set("targetVersion", "v1.30.4-eks-a737599")),
		Entry("targetVersion with a GKE suffix", set("targetVersion", "v1.29.8-gke.1211000")),
		Entry("targetVersion with a k3s build", set("targetVersion", "v1.30.4+k3s1")),
		Entry("targetVersion with an alphanumeric pre-release starting with a digit", set("targetVersion", "v1.37.2-0a.1")),
		Entry("targetVersion of exactly 64 bytes", set("targetVersion", "v1.37.2-"+strings.Repeat("a", 56))),
		Entry("empty nodeSelector (every node)", set("nodeSelector", map[string]any{})),
		Entry("nodeSelector matchLabels", set("nodeSelector", map[string]any{"matchLabels": map[string]any{"pool": "general"}})),
		Entry("nodeSelector In", expr(map[string]any{"key": "pool", "operator": "In", "values": []any{"a", "b"}})),
		Entry("nodeSelector NotIn", expr(map[string]any{"key": "pool", "operator": "NotIn", "values": []any{"gpu"}})),
		Entry("nodeSelector Exists", expr(map[string]any{"key": "pool", "operator": "Exists"})),
		Entry("nodeSelector DoesNotExist with an empty values list", expr(map[string]any{"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist", "values": []any{}})),
		Entry("explicit Sequential", set("strategy.type", "Sequential")),
		Entry("maxUnavailable 1", concurrentWith(int64(1))),
		Entry("maxUnavailable 1%", concurrentWith("1%")),
		Entry("maxUnavailable 100%", concurrentWith("100%")),
		Entry("maxUnavailable 5000", concurrentWith(int64(5000))),
		Entry("maxUnavailable 2^31-1", concurrentWith(int64(2147483647))),
		Entry("canary of 1 node", set("strategy.canary.nodes", int64(1))),
		Entry("zones maxUnavailable 1", set("strategy.zones.maxUnavailable", int64(1))),
		Entry("zones maxUnavailable 34% one at a time, a prefixed key", set("strategy.zones",
			map[string]any{"maxUnavailable": "34%", "oneAtATime": true, "topologyKey": "example.com/rack"})),
		Entry("priority by label", set("priority.label", "example.com/upgrade-priority")),
		Entry("priority by annotation", set("priority.annotation", "upgrade-priority")),
		Entry("canary of 1%", set("strategy.canary.nodes", "1%")),
		Entry("canary of 100% with a soak of 0s, paused", set("strategy.canary", map[string]any{"nodes": "100%", "soakDuration": "0s", "pause": true})),
		Entry("canary of 2 nodes on Concurrent", both(concurrentWith("10%"), set("strategy.canary.nodes", int64(2)))),
		Entry("maxFailedNodes 0", set("maxFailedNodes", int64(0))),
		Entry("maxFailedNodes 10", set("maxFailedNodes", int64(10))),
		Entry("maxFailedNodes 2^31-1", set("maxFailedNodes", int64(2147483647))),
		Entry("paused", set("paused", true)),
		Entry("drain timeout 1h30m", set("drain.timeout", "1h30m")),
		Entry("drain timeout 1.5s", set("drain.timeout", "1.5s")),
		Entry("drain timeout 1ns", set("drain.timeout", "1ns")),
		Entry("drain timeout 2562047h (the largest whole hours of a Go duration)", set("drain.timeout", "2562047h")),
		Entry("drain timeout of exactly 32 bytes", set("drain.timeout", strings.Repeat("1s", 16))),
		Entry("grace period 0", set("drain.gracePeriodSeconds", int64(0))),
		Entry("grace period of an hour", set("drain.gracePeriodSeconds", int64(3600))),
		Entry("deleteEmptyDirData false", set("drain.deleteEmptyDirData", false)),
		Entry("force", set("drain.force", true)),
		Entry("onTimeout ForceDelete", set("drain.onTimeout", "ForceDelete")),
		Entry("onTimeout Fail", set("drain.onTimeout", "Fail")),
		Entry("onTimeout Cordon", set("drain.onTimeout", "Cordon")),
		Entry("hooks with templates, a timeout and failurePolicy Ignore", set("hooks", map[string]any{
			"preDrain": map[string]any{"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "noout", "image": "example.com/ceph-tools:v1"}}}}},
			"postUpgrade": map[string]any{"template": map[string]any{}, "timeout": "90s", "failurePolicy": "Ignore"}})),
		Entry("onTimeout Cordon with maxBlockedNodes 0", both(set("drain.onTimeout", "Cordon"), set("drain.maxBlockedNodes", int64(0)))),
		Entry("onTimeout Cordon with maxBlockedNodes 5", both(set("drain.onTimeout", "Cordon"), set("drain.maxBlockedNodes", int64(5)))),
		Entry("upgrade timeout 1us", set("upgrade.timeout", "1us")),
		Entry("upgrade timeout 1µs", set("upgrade.timeout", "1µs")),
		Entry("Job upgrade with a job", withJob(jobTemplate)),
		Entry("soak duration 0s", set("health.soakDuration", "0s")),
		Entry("replacementsReady timeout 1s", set("health.replacementsReady.timeout", "1s")),
		Entry("16 checks, by name and by selector", set("health.checks", manyChecks(16))),
		Entry("a prometheus by https with a path", set("health.prometheus", map[string]any{"url": "https://monitoring.example.com/prometheus/"})),
		Entry("an alertmanager, firing only", set("health.prometheus", map[string]any{"url": "http://alertmanager:9093", "source": "Alertmanager",
			"alertNames": "(Kube|Node).*", "firingOnly": true, "timeout": "1m"})),
		Entry("replacementsReady empty: its timeout defaults", set("health.replacementsReady", map[string]any{})),
		Entry("soak duration 2562047h", set("health.soakDuration", "2562047h")),
		Entry("window past midnight, every day, in the default zone", withWindow(nil)),
		Entry("window from 00:00 to 23:59", withWindow(map[string]any{"start": "00:00", "end": "23:59"})),
		Entry("window from 23:59 to 00:00", withWindow(map[string]any{"start": "23:59", "end": "00:00"})),
		Entry("window ending at midnight", withWindow(map[string]any{"start": "20:00", "end": "00:00"})),
		Entry("window on one day", withWindow(map[string]any{"days": []any{"Sunday"}})),
		Entry("window on all seven days", withWindow(map[string]any{"days": []any{
			"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}})),
		Entry("window time zone UTC", withTimeZone("UTC")),
		Entry("window time zone of three parts", withTimeZone("America/Argentina/ComodRivadavia")),
		Entry("window time zone Etc/GMT+5", withTimeZone("Etc/GMT+5")),
		Entry("window time zone with a hyphen", withTimeZone("America/Port-au-Prince")),
		Entry("window time zone of exactly 64 bytes", withTimeZone("Europe/"+strings.Repeat("a", 57))),
		Entry("window time zone unknown but well-formed (the controller judges it)", withTimeZone("Mars/Olympus")),
		Entry("32 drain rules of every behavior", set("drain.rules", manyRules(32))),
		Entry("no drain rules", set("drain.rules", []any{})),
		Entry("a drain rule of every field", withRules(rule("batch", map[string]any{"namespaces": []any{"batch", "reports"},
			"podSelector": map[string]any{"matchLabels": map[string]any{"app": "report"},
				"matchExpressions": []any{map[string]any{"key": "tier", "operator": "NotIn", "values": []any{"web"}}}},
			"behavior": "WaitCompleted", "order": int64(-5)}))),
		Entry("a drain rule with only a name (Drain, order 0, every pod)", withRules(rule("all", nil))),
		Entry("a drain rule with an empty podSelector", withRules(rule("r", map[string]any{"podSelector": map[string]any{}, "behavior": "Skip"}))),
		Entry("a drain rule order of -2^31", withRules(rule("r", map[string]any{"order": int64(-2147483648)}))),
		Entry("a drain rule order of 2^31-1", withRules(rule("r", map[string]any{"order": int64(2147483647)}))),
		Entry("a drain rule name of 63 characters", withRules(rule(strings.Repeat("r", 63), nil))),
		Entry("a drain rule podSelector of each operator, and an empty label value",
			withRules(rule("r", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"tier": ""}, "matchExpressions": []any{
				map[string]any{"key": "app", "operator": "In", "values": []any{"a", "b"}},
				map[string]any{"key": "example.com/team", "operator": "NotIn", "values": []any{"web"}},
				map[string]any{"key": "batch", "operator": "Exists"},
				map[string]any{"key": "canary", "operator": "DoesNotExist", "values": []any{}}}}}))),
		Entry("a drain rule podSelector matchLabels key the schema does not check (the drain judges it)",
			withRules(rule("r", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"not a key": "x"}}}))),
	)

	It("defaults spec.drain.rules[].behavior to Drain, and leaves order unset", func() {
		n++
		u := validObject(fmt.Sprintf("rules-default-%d", n))
		withRules(rule("batch", map[string]any{"namespaces": []any{"batch"}}))(u)
		Expect(create(u)).To(Succeed())
		got := &upgradev1alpha1.ClusterUpgrade{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Name: u.GetName()}, got)).To(Succeed())
		Expect(got.Spec.Drain.Rules).To(HaveLen(1))
		Expect(got.Spec.Drain.Rules[0].Behavior).To(Equal(upgradev1alpha1.DrainBehaviorDrain))
		Expect(got.Spec.Drain.Rules[0].Order).To(BeNil())
	})

	It("defaults spec.window.timeZone to UTC", func() {
		n++
		u := validObject(fmt.Sprintf("window-default-%d", n))
		withWindow(nil)(u)
		Expect(create(u)).To(Succeed())
		got := &upgradev1alpha1.ClusterUpgrade{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Name: u.GetName()}, got)).To(Succeed())
		Expect(got.Spec.Window).NotTo(BeNil())
		Expect(got.Spec.Window.TimeZone).To(Equal("UTC"))
		Expect(got.Spec.Window.Days).To(BeEmpty(), "absent days mean every day, and stay absent")
	})

	Describe("the samples in config/samples", func() {
		// defaults are the values the API server fills in when a field is
		// absent. Paths are relative to the object.
		defaults := map[string]any{
			"spec.strategy.type":            "Sequential",
			"spec.drain.timeout":            "10m",
			"spec.drain.deleteEmptyDirData": true,
			"spec.drain.onTimeout":          "Fail",
			"spec.upgrade.type":             "Job",
			"spec.upgrade.timeout":          "30m",
			"spec.health.soakDuration":      "30s",
			"spec.maxFailedNodes":           int64(0),
			"status.observedGeneration":     int64(-1),
		}

		files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "samples", "upgrade_*.yaml"))
		It("has a sample for every strategy and upgrade type, one with a maintenance window, the binary Job, the whole cluster, a canary, zones with priorities, the replacements-ready gate and drain rules", func() {
			Expect(err).NotTo(HaveOccurred())
			Expect(files).To(HaveLen(12))
		})

		It("runs the same kubeadm Job on the whole cluster as on the workers", func() {
			template := func(name string) any {
				data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", name))
				Expect(err).NotTo(HaveOccurred())
				sample := map[string]any{}
				Expect(utilyaml.Unmarshal(data, &sample)).To(Succeed())
				job, found, err := unstructured.NestedFieldNoCopy(sample, "spec", "upgrade")
				Expect(err).NotTo(HaveOccurred())
				Expect(found).To(BeTrue(), name)
				return job
			}
			Expect(template("upgrade_v1alpha1_clusterupgrade_cluster.yaml")).To(Equal(
				template("upgrade_v1alpha1_clusterupgrade_sequential.yaml")))
		})

		for _, file := range files {
			It("accepts "+filepath.Base(file)+" and fills in its defaults", func() {
				data, err := os.ReadFile(file)
				Expect(err).NotTo(HaveOccurred())
				sample := &unstructured.Unstructured{}
				Expect(utilyaml.Unmarshal(data, &sample.Object)).To(Succeed())
				Expect(create(sample.DeepCopy())).To(Succeed())

				got := &unstructured.Unstructured{}
				got.SetGroupVersionKind(sample.GroupVersionKind())
				Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(sample), got)).To(Succeed())
				for path, def := range defaults {
					fields := strings.Split(path, ".")
					want, set, err := unstructured.NestedFieldNoCopy(sample.Object, fields...)
					Expect(err).NotTo(HaveOccurred())
					if !set {
						want = def
					}
					have, found, err := unstructured.NestedFieldNoCopy(got.Object, fields...)
					Expect(err).NotTo(HaveOccurred())
					Expect(found).To(BeTrue(), "%s was not defaulted", path)
					Expect(have).To(Equal(want), "%s", path)
				}
				Expect(env.Client.Delete(ctx, got)).To(Succeed())
			})
		}
	})
})
