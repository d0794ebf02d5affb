package v1alpha1_test

import (
	"context"
	"fmt"
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
	badTimeout    = "timeout must be a positive duration such as 30s, 10m or 1h30m"
)

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
		Entry("targetVersion without the leading v", set("targetVersion", "1.37.2"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion without a patch number", set("targetVersion", "v1.37"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with four numbers", set("targetVersion", "v1.37.2.1"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with a leading zero", set("targetVersion", "v1.037.2"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion that is a word", set("targetVersion", "latest"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion empty", set("targetVersion", ""), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with an empty pre-release", set("targetVersion", "v1.37.2-"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with a leading zero in a numeric pre-release part", set("targetVersion", "v1.37.2-rc.01"), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion with a space", set("targetVersion", "v1.37.2 "), "spec.targetVersion: Invalid value", badVersion),
		Entry("targetVersion missing", unset("targetVersion"), "spec.targetVersion", "Required value"),
		Entry("maxUnavailable 0", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", int64(0))), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable -1", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", int64(-1))), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 0%", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "0%")), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 101%", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "101%")), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 1000%", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "1000%")), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable \"ten\"", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "ten")), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable \"10\" (a string without %)", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "10")), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 12.5%", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "12.5%")), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable 05%", both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "05%")), "spec.strategy.maxUnavailable: Invalid value", badMaxUnavail),
		Entry("maxUnavailable on Sequential", both(set("strategy.type", "Sequential"), set("strategy.maxUnavailable", int64(2))),
			"spec.strategy.maxUnavailable", "Forbidden: maxUnavailable is only allowed when strategy.type is Concurrent"),
		Entry("maxUnavailable with the default (Sequential) strategy", set("strategy.maxUnavailable", "10%"),
			"spec.strategy.maxUnavailable", "Forbidden: maxUnavailable is only allowed when strategy.type is Concurrent"),
		Entry("Concurrent without maxUnavailable", set("strategy.type", "Concurrent"),
			"spec.strategy.maxUnavailable", "Required value: maxUnavailable is required when strategy.type is Concurrent"),
		Entry("unknown strategy type", set("strategy.type", "Parallel"),
			"spec.strategy.type", `Unsupported value: "Parallel": supported values: "Sequential", "Concurrent"`),
		Entry("negative drain timeout", set("drain.timeout", "-5m"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("zero drain timeout", set("drain.timeout", "0s"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("drain timeout in words", set("drain.timeout", "ten minutes"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("drain timeout without a unit", set("drain.timeout", "600"), "spec.drain.timeout: Invalid value", badTimeout),
		Entry("negative upgrade timeout", set("upgrade.timeout", "-1h"), "spec.upgrade.timeout: Invalid value", badTimeout),
		Entry("negative soak duration", set("health.soakDuration", "-30s"),
			"spec.health.soakDuration: Invalid value", "soakDuration must be a duration of zero or more such as 0s, 30s or 5m"),
		Entry("negative grace period", set("drain.gracePeriodSeconds", int64(-5)),
			"spec.drain.gracePeriodSeconds", "Invalid value: -5: spec.drain.gracePeriodSeconds in body should be greater than or equal to 0"),
		Entry("unknown onTimeout", set("drain.onTimeout", "Ignore"),
			"spec.drain.onTimeout", `Unsupported value: "Ignore": supported values: "Fail", "ForceDelete"`),
		Entry("unknown upgrade type", set("upgrade.type", "Ansible"),
			"spec.upgrade.type", `Unsupported value: "Ansible": supported values: "Job", "External"`),
		Entry("negative maxFailedNodes", set("maxFailedNodes", int64(-1)),
			"spec.maxFailedNodes", "Invalid value: -1: spec.maxFailedNodes in body should be greater than or equal to 0"),
		Entry("Job upgrade without a job", set("upgrade.type", "Job"),
			"spec.upgrade.job", "Required value: upgrade.job is required when upgrade.type is Job"),
		Entry("default (Job) upgrade without a job", unset("upgrade"),
			"spec.upgrade.job", "Required value: upgrade.job is required when upgrade.type is Job"),
		Entry("External upgrade with a job", set("upgrade.job", jobTemplate),
			"spec.upgrade.job", "Forbidden: upgrade.job is only allowed when upgrade.type is Job"),
		Entry("Job template without containers", both(set("upgrade.type", "Job"), set("upgrade.job", map[string]any{"template": map[string]any{"spec": map[string]any{}}})),
			"spec.upgrade.job.template.spec.containers", "Required value"),
		Entry("unknown field in spec", set("maxSurge", int64(1)), `"spec.maxSurge"`, "strict decoding error: unknown field"),
		Entry("unknown field in strategy", set("strategy.batchSize", int64(3)), `"spec.strategy.batchSize"`, "strict decoding error: unknown field"),
		Entry("paused that is not a boolean", set("paused", "yes"), "spec.paused", "spec.paused in body must be of type boolean"),
	)

	It("accepts the edge values of every rule", func() {
		for i, m := range []func(*unstructured.Unstructured){
			set("targetVersion", "v1.37.2-rc.1+build.7"),
			set("targetVersion", "v0.0.0"),
			set("targetVersion", "v1.30.4-eks-a737599"),
			set("targetVersion", "v1.29.8-gke.1211000"),
			set("targetVersion", "v1.37.2-0a.1"),
			both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", int64(1))),
			both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "1%")),
			both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", "100%")),
			both(set("strategy.type", "Concurrent"), set("strategy.maxUnavailable", int64(5000))),
			set("drain.timeout", "1h30m"),
			set("drain.timeout", "1.5s"),
			set("health.soakDuration", "0s"),
			set("drain.gracePeriodSeconds", int64(0)),
			set("maxFailedNodes", int64(10)),
			both(set("upgrade.type", "Job"), set("upgrade.job", jobTemplate)),
		} {
			u := validObject(fmt.Sprintf("edge-%d", i))
			m(u)
			Expect(create(u)).To(Succeed(), "edge case %d: %v", i, u.Object["spec"])
		}
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
		It("has a sample for every strategy and upgrade type", func() {
			Expect(err).NotTo(HaveOccurred())
			Expect(files).To(HaveLen(4))
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
