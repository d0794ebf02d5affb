package chart

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestChartInstallsWhatKustomizeInstalls renders the chart with its
// default values (plus namespace.create, as for `helm template` in GitOps)
// and builds config/default, and checks that they hold the same objects,
// equal once the chart's release-based names are mapped to config/default's:
// the CRD, every Role, ClusterRole and binding (rules as the permissions
// they grant, roleRefs and subjects), the ServiceAccount, the Deployment
// (the whole pod spec: securityContexts, args, probes, resources,
// scheduling), the metrics Service and the Namespace. The chart may add
// labels (Helm's, and app.kubernetes.io/instance to its selectors) and
// annotations, but not drop or change config/default's.
//
// The same holds with the control-plane checks' kube-system Role and
// RoleBinding left out: the chart's controlPlaneChecks.enabled=false
// against config/default with its config/no-control-plane-checks
// component enabled. And with the optional pieces on: the chart's
// ServiceMonitor (and its metrics-scraper ServiceAccount, token Secret and
// binding), PrometheusRule and NetworkPolicy against config/default with
// its `- ../prometheus` and `- ../network-policy` lines uncommented. (The
// chart's PodDisruptionBudget, Grafana dashboard ConfigMap and
// extraObjects have no counterpart in config/: TestValues checks them.)
//
// The manager image's tag is the one thing compared by fiat: the chart's
// default is its appVersion, the release (TestAppVersionIsTheRelease), while
// config/manager's is whatever `make build-installer` pins; each case sets
// the chart's tag to config/default's.
func TestChartInstallsWhatKustomizeInstalls(t *testing.T) {
	withChecks := index(t, kustomizeDefault(t))
	withoutChecks := index(t, kustomizeDefaultUncommented(t, "components:", "- ../no-control-plane-checks"))
	withOptional := index(t, kustomizeDefaultUncommented(t, "- ../prometheus", "- ../network-policy"))
	optional := map[string]any{
		"metrics": map[string]any{
			"serviceMonitor": map[string]any{"enabled": true},
			"prometheusRule": map[string]any{"enabled": true},
		},
		"networkPolicy": map[string]any{"enabled": true},
	}
	tag := kustomizeImageTag(t, withChecks)
	for _, tc := range []struct {
		name, release, namespace string
		naming                   naming
		values                   map[string]any
		want                     map[key]*unstructured.Unstructured
	}{
		// The README's command: names and namespace as config/default's.
		{name: "nodewave", release: "nodewave", namespace: "nodewave-system",
			naming: naming{fullname: "nodewave", namespace: "nodewave-system"}, want: withChecks},
		// Another release and namespace: every name follows the release.
		{name: "staging", release: "staging", namespace: "ops",
			naming: naming{fullname: "staging-nodewave", namespace: "ops"}, want: withChecks},
		// Without the control-plane checks' pods/exec in kube-system.
		{name: "no control-plane checks", release: "nodewave", namespace: "nodewave-system",
			naming: naming{fullname: "nodewave", namespace: "nodewave-system"},
			values: map[string]any{"controlPlaneChecks": map[string]any{"enabled": false}}, want: withoutChecks},
		// The optional pieces, for both releases.
		{name: "nodewave with the optional pieces", release: "nodewave", namespace: "nodewave-system",
			naming: naming{fullname: "nodewave", namespace: "nodewave-system"}, values: optional, want: withOptional},
		{name: "staging with the optional pieces", release: "staging", namespace: "ops",
			naming: naming{fullname: "staging-nodewave", namespace: "ops"}, values: optional, want: withOptional},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			values := map[string]any{
				"namespace": map[string]any{"create": true},
				"manager":   map[string]any{"image": map[string]any{"tag": tag}},
			}
			maps.Copy(values, tc.values)
			r := render(t, tc.release, tc.namespace, values)
			got := index(t, nil)
			for _, o := range r.objects {
				mapped := tc.naming.toKustomize(o)
				k := keyOf(mapped)
				if _, dup := got[k]; dup {
					t.Fatalf("two rendered objects map to %s", k)
				}
				got[k] = mapped
			}
			for k := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("config/default has %s, the chart does not", k)
				}
			}
			for k, g := range got {
				w, ok := want[k]
				if !ok {
					t.Errorf("the chart renders %s, config/default does not", k)
					continue
				}
				for _, p := range missingEntries(w, g) {
					t.Errorf("%s: %s", k, p)
				}
				if diff := cmp.Diff(comparable(w), comparable(g)); diff != "" {
					t.Errorf("%s differs from config/default (-kustomize +chart):\n%s", k, diff)
				}
			}
		})
	}
}

// kustomizeImageTag is the tag of config/default's manager image.
func kustomizeImageTag(t *testing.T, objects map[key]*unstructured.Unstructured) string {
	t.Helper()
	d := objects[key{"Deployment", kustomizeNamespace, kustomizePrefix + "controller-manager"}]
	if d == nil {
		t.Fatal("config/default has no manager Deployment")
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	image, _ := containers[0].(map[string]any)["image"].(string)
	_, tag, ok := strings.Cut(image, ":")
	if !ok || strings.Contains(image, "@") {
		t.Fatalf("config/default's manager image %q has no tag", image)
	}
	return tag
}
