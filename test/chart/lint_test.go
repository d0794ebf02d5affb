package chart

import (
	"testing"

	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestLint runs Helm's linter on the chart as `helm lint --strict` does
// (a warning fails as an error would), with its defaults and with every
// optional part switched the other way.
func TestLint(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"defaults": nil,
		"everything switched": {
			"namespace":            map[string]any{"create": true},
			"crd":                  map[string]any{"enable": false},
			"rbacHelpers":          map[string]any{"enable": false},
			"controlPlaneChecks":   map[string]any{"enabled": false},
			"leaderElection":       map[string]any{"enable": false},
			"metrics":              map[string]any{"secure": false},
			"jobNamespace":         "node-upgrades",
			"allowedUpgradeImages": []any{"registry.example.com/infra/*"},
		},
		"metrics off": {"metrics": map[string]any{"enable": false}},
		"optional pieces on": {
			"manager": map[string]any{"replicas": 2, "priorityClassName": "system-cluster-critical",
				"podAnnotations": map[string]any{"example.com/a": "b"}},
			"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true},
				"prometheusRule": map[string]any{"enabled": true}},
			"grafana":       map[string]any{"dashboard": map[string]any{"enabled": true}},
			"networkPolicy": map[string]any{"enabled": true},
			"extraObjects":  []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "{{ .Release.Name }}-extra"}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			linter := lint.All(chartDir(), values, "nodewave-system", false)
			for _, msg := range linter.Messages {
				if msg.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", msg)
				} else {
					t.Logf("helm lint: %s", msg)
				}
			}
		})
	}
}
