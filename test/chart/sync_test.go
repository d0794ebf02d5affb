package chart

import (
	"maps"
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
// component enabled.
func TestChartInstallsWhatKustomizeInstalls(t *testing.T) {
	withChecks := index(t, kustomizeDefault(t))
	withoutChecks := index(t, kustomizeDefaultUncommented(t, "components:", "- ../no-control-plane-checks"))
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			values := map[string]any{"namespace": map[string]any{"create": true}}
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
