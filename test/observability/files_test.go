package observability

import (
	"os"
	"path/filepath"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

// repo is the repository's root, from this module's directory.
const repo = "../.."

// path is a file of the repository.
func path(parts ...string) string { return filepath.Join(append([]string{repo}, parts...)...) }

// readStrict decodes a YAML file into v, refusing fields v does not have.
func readStrict(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// prometheusRule is config/prometheus/rules.yaml, decoded strictly into
// the Prometheus Operator's type.
func prometheusRule(t *testing.T) *monitoringv1.PrometheusRule {
	t.Helper()
	r := &monitoringv1.PrometheusRule{}
	readStrict(t, path("config", "prometheus", "rules.yaml"), r)
	if len(r.Spec.Groups) == 0 {
		t.Fatal("config/prometheus/rules.yaml has no rule group")
	}
	return r
}

// alerts are the alerting rules of config/prometheus/rules.yaml.
func alerts(t *testing.T) []monitoringv1.Rule {
	t.Helper()
	var out []monitoringv1.Rule
	for _, g := range prometheusRule(t).Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// ruleFile writes the PrometheusRule's groups as a Prometheus rule file
// (the format of rule_files), which is what the Prometheus Operator hands
// to Prometheus, and returns its path.
func ruleFile(t *testing.T) string {
	t.Helper()
	b, err := yaml.Marshal(map[string]any{"groups": prometheusRule(t).Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
