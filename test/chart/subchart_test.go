package chart

import (
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// parentChart writes a chart "platform" to a temporary directory that
// depends on nodewave, a copy of charts/nodewave under its charts/ (what
// `helm dependency build` leaves there), with parentValues as its
// values.yaml, and returns its directory.
func parentChart(t *testing.T, parentValues map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	meta := map[string]any{
		"apiVersion": "v2",
		"name":       "platform",
		"version":    "1.0.0",
		"dependencies": []any{map[string]any{
			"name":    "nodewave",
			"version": loadChart(t).Metadata.Version,
		}},
	}
	for file, v := range map[string]any{"Chart.yaml": meta, "values.yaml": parentValues} {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(dir, "charts", "nodewave"), os.DirFS(chartDir())); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRendersAsASubchart renders nodewave as a dependency of a parent
// chart, as an umbrella chart of a platform does: Helm hands the subchart
// the parent's global values, which its strict values.schema.json must
// accept, and the parent's `nodewave:` values, which must reach it.
func TestRendersAsASubchart(t *testing.T) {
	t.Run("global values only", func(t *testing.T) {
		dir := parentChart(t, map[string]any{"global": map[string]any{"imageRegistry": "registry.example.com"}})
		c, err := loader.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := renderChart(c, "platform", "infra", nil)
		if err != nil {
			t.Fatalf("rendering nodewave as a subchart with global values: %v", err)
		}
		r.mustFindIn(t, "Deployment", "infra", "platform-nodewave-controller-manager")
	})
	t.Run("values through nodewave:", testSubchartValues)
}

func testSubchartValues(t *testing.T) {
	dir := parentChart(t, map[string]any{
		"global": map[string]any{"imageRegistry": "registry.example.com", "clusterName": "prod-eu"},
		"nodewave": map[string]any{
			"manager":            map[string]any{"replicas": 2, "priorityClassName": "system-cluster-critical"},
			"controlPlaneChecks": map[string]any{"enabled": false},
			"grafana":            map[string]any{"dashboard": map[string]any{"enabled": true}},
		},
	})
	c, err := loader.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := renderChart(c, "platform", "infra", nil)
	if err != nil {
		t.Fatalf("rendering nodewave as a subchart of %s: %v", dir, err)
	}
	d := r.mustFindIn(t, "Deployment", "infra", "platform-nodewave-controller-manager")
	if got, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); got != 2 {
		t.Errorf("replicas %d, want the parent's nodewave.manager.replicas, 2", got)
	}
	if got, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "priorityClassName"); got != "system-cluster-critical" {
		t.Errorf("priorityClassName %q, want the parent's", got)
	}
	r.mustFindIn(t, "PodDisruptionBudget", "infra", "platform-nodewave-controller-manager")
	cm := r.mustFindIn(t, "ConfigMap", "infra", "platform-nodewave-dashboard")
	if data, _, _ := unstructured.NestedStringMap(cm.Object, "data"); len(data["nodewave-dashboard.json"]) < 1000 {
		t.Errorf("the dashboard ConfigMap holds no dashboard in a subchart: %v", keysOf(data))
	}
	wantAbsent(t, r, "Role", "platform-nodewave-manager-role-control-plane")
	for _, o := range r.objects {
		if o.GetKind() == "Role" && o.GetNamespace() == "kube-system" {
			t.Errorf("Role kube-system/%s rendered: the parent's controlPlaneChecks.enabled=false did not reach the subchart", o.GetName())
		}
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
