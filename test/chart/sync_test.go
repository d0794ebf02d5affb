package chart

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
func TestChartInstallsWhatKustomizeInstalls(t *testing.T) {
	want := index(t, kustomizeDefault(t))
	for _, tc := range []struct {
		release, namespace string
		naming             naming
	}{
		// The README's command: names and namespace as config/default's.
		{release: "nodewave", namespace: "nodewave-system", naming: naming{fullname: "nodewave", namespace: "nodewave-system"}},
		// Another release and namespace: every name follows the release.
		{release: "staging", namespace: "ops", naming: naming{fullname: "staging-nodewave", namespace: "ops"}},
	} {
		t.Run(tc.release, func(t *testing.T) {
			r := render(t, tc.release, tc.namespace, map[string]any{"namespace": map[string]any{"create": true}})
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
