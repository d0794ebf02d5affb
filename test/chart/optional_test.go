package chart

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestAppVersionIsTheRelease: Chart.yaml's appVersion is a release tag
// (vX.Y.Z, what `git describe` and the image tags say), and its version
// the same release without the v, as `helm package --version X
// --app-version vX` of the release process writes them.
func TestAppVersionIsTheRelease(t *testing.T) {
	meta := loadChart(t).Metadata
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(meta.AppVersion) {
		t.Errorf("appVersion %q is not a release tag vX.Y.Z", meta.AppVersion)
	}
	if "v"+meta.Version != meta.AppVersion {
		t.Errorf("version %q and appVersion %q name different releases", meta.Version, meta.AppVersion)
	}
}

// TestChartFilesAreConfigs: the chart's PrometheusRule and dashboard read
// copies of config/prometheus/rules.yaml and config/grafana's dashboard
// (hack/chartsync, `make manifests`): the copies must be the sources, byte
// for byte, and the rendered ConfigMap must hold the dashboard unchanged.
func TestChartFilesAreConfigs(t *testing.T) {
	for src, copied := range map[string]string{
		filepath.Join("config", "prometheus", "rules.yaml"):           filepath.Join("files", "prometheus", "rules.yaml"),
		filepath.Join("config", "grafana", "nodewave-dashboard.json"): filepath.Join("files", "grafana", "nodewave-dashboard.json"),
	} {
		want, err := os.ReadFile(filepath.Join(repoRoot(), src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chartDir(), copied))
		if err != nil {
			t.Fatalf("%v: run `make manifests`", err)
		}
		if string(got) != string(want) {
			t.Errorf("charts/nodewave/%s differs from %s: run `make manifests`", copied, src)
		}
	}
	entries, err := os.ReadDir(filepath.Join(chartDir(), "files", "grafana"))
	if err != nil || len(entries) != 1 {
		t.Errorf("charts/nodewave/files/grafana holds %d files, want the one dashboard (%v)", len(entries), err)
	}

	want, _ := os.ReadFile(filepath.Join(repoRoot(), "config", "grafana", "nodewave-dashboard.json"))
	r := render(t, "nodewave", "nodewave-system", map[string]any{"grafana": map[string]any{"dashboard": map[string]any{"enabled": true}}})
	cm := r.mustFindIn(t, "ConfigMap", "nodewave-system", "nodewave-dashboard")
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if data["nodewave-dashboard.json"] != string(want) {
		t.Errorf("the dashboard ConfigMap's nodewave-dashboard.json is not config/grafana's dashboard (keys %v)", keysOf(data))
	}
	if got := cm.GetLabels()["grafana_dashboard"]; got != "1" {
		t.Errorf("dashboard ConfigMap label grafana_dashboard=%q, want the sidecar's 1", got)
	}
}

// TestOptionalPieces checks what the values of the optional pieces change.
func TestOptionalPieces(t *testing.T) {
	t.Run("PodDisruptionBudget only with more than one replica", func(t *testing.T) {
		wantAbsent(t, render(t, "nodewave", "nodewave-system", nil), "PodDisruptionBudget", "nodewave-controller-manager")
		r := render(t, "nodewave", "nodewave-system", map[string]any{"manager": map[string]any{"replicas": 3}})
		pdb := r.mustFind(t, "PodDisruptionBudget", "nodewave-controller-manager")
		if got, _, _ := unstructured.NestedInt64(pdb.Object, "spec", "minAvailable"); got != 1 {
			t.Errorf("minAvailable %d, want 1", got)
		}
		sel, _, _ := unstructured.NestedStringMap(pdb.Object, "spec", "selector", "matchLabels")
		d := r.mustFind(t, "Deployment", "nodewave-controller-manager")
		pods, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
		if diff := cmp.Diff(pods, sel); diff != "" {
			t.Errorf("the budget does not select the manager's pods (-pod labels +selector):\n%s", diff)
		}
		r = render(t, "nodewave", "nodewave-system", map[string]any{"manager": map[string]any{
			"replicas": 3, "podDisruptionBudget": map[string]any{"enabled": false}}})
		wantAbsent(t, r, "PodDisruptionBudget", "nodewave-controller-manager")
	})
	t.Run("pod annotations and priority class", func(t *testing.T) {
		r := render(t, "nodewave", "nodewave-system", map[string]any{"manager": map[string]any{
			"podAnnotations":    map[string]any{"example.com/scrape": "false"},
			"priorityClassName": "system-cluster-critical",
		}})
		d := r.mustFind(t, "Deployment", "nodewave-controller-manager")
		got, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "annotations")
		want := map[string]string{"kubectl.kubernetes.io/default-container": "manager", "example.com/scrape": "false"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pod annotations (-want +got):\n%s", diff)
		}
		if got := podSpec(t, r)["priorityClassName"]; got != "system-cluster-critical" {
			t.Errorf("priorityClassName %v", got)
		}
	})
	t.Run("ServiceMonitor and PrometheusRule follow the release", func(t *testing.T) {
		r := render(t, "staging", "ops", map[string]any{"metrics": map[string]any{
			"serviceMonitor": map[string]any{"enabled": true, "interval": "1m", "labels": map[string]any{"release": "kube-prometheus-stack"}},
			"prometheusRule": map[string]any{"enabled": true, "labels": map[string]any{"role": "alert-rules"}},
		}})
		sm := r.mustFindIn(t, "ServiceMonitor", "ops", "staging-nodewave-controller-manager-metrics-monitor")
		if sm.GetLabels()["release"] != "kube-prometheus-stack" {
			t.Errorf("ServiceMonitor labels %v lack release=kube-prometheus-stack", sm.GetLabels())
		}
		eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		ep := eps[0].(map[string]any)
		if ep["interval"] != "1m" {
			t.Errorf("interval %v, want 1m", ep["interval"])
		}
		if name, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "name"); name != "staging-nodewave-metrics-scraper-token" {
			t.Errorf("credentials Secret %q", name)
		}
		r.mustFindIn(t, "Secret", "ops", "staging-nodewave-metrics-scraper-token")
		rule := r.mustFindIn(t, "PrometheusRule", "ops", "staging-nodewave-alerts")
		if rule.GetLabels()["role"] != "alert-rules" {
			t.Errorf("PrometheusRule labels %v lack role=alert-rules", rule.GetLabels())
		}
		b, _ := rule.MarshalJSON()
		if !strings.Contains(string(b), `up{job=\"staging-nodewave-controller-manager-metrics-service\"}`) ||
			strings.Contains(string(b), `"nodewave-controller-manager-metrics-service`) {
			t.Errorf("NodewaveManagerDown does not look for the release's metrics Service as its job:\n%s", b)
		}
	})
	t.Run("ServiceMonitor of insecure metrics", func(t *testing.T) {
		r := render(t, "nodewave", "nodewave-system", map[string]any{"metrics": map[string]any{
			"secure": false, "serviceMonitor": map[string]any{"enabled": true}}})
		sm := r.mustFind(t, "ServiceMonitor", "nodewave-controller-manager-metrics-monitor")
		eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		ep := eps[0].(map[string]any)
		if ep["scheme"] != "http" || ep["port"] != "http" || ep["authorization"] != nil || ep["tlsConfig"] != nil {
			t.Errorf("endpoint %v, want plain http without authorization", ep)
		}
		wantAbsent(t, r, "Secret", "nodewave-metrics-scraper-token", "ServiceAccount", "nodewave-metrics-scraper")
	})
	t.Run("NetworkPolicy", func(t *testing.T) {
		r := render(t, "nodewave", "nodewave-system", map[string]any{
			"metrics":       map[string]any{"port": 9443},
			"networkPolicy": map[string]any{"enabled": true, "metricsNamespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}}},
		})
		np := r.mustFind(t, "NetworkPolicy", "nodewave-allow-metrics-traffic")
		ingress, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
		want := []any{map[string]any{
			"from":  []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}}}},
			"ports": []any{map[string]any{"port": int64(9443), "protocol": "TCP"}},
		}}
		if diff := cmp.Diff(want, ingress); diff != "" {
			t.Errorf("ingress (-want +got):\n%s", diff)
		}
	})
	t.Run("Grafana dashboard namespace and annotations", func(t *testing.T) {
		r := render(t, "nodewave", "nodewave-system", map[string]any{"grafana": map[string]any{"dashboard": map[string]any{
			"enabled": true, "namespace": "monitoring", "annotations": map[string]any{"grafana_folder": "Kubernetes"},
			"labels": map[string]any{"grafana_dashboard": nil, "dashboards": "nodewave"},
		}}})
		cm := r.mustFindIn(t, "ConfigMap", "monitoring", "nodewave-dashboard")
		if cm.GetAnnotations()["grafana_folder"] != "Kubernetes" || cm.GetLabels()["dashboards"] != "nodewave" {
			t.Errorf("ConfigMap labels %v, annotations %v", cm.GetLabels(), cm.GetAnnotations())
		}
		if _, ok := cm.GetLabels()["grafana_dashboard"]; ok {
			t.Errorf("grafana_dashboard label kept after setting it to null: %v", cm.GetLabels())
		}
	})
	t.Run("extraObjects through tpl", func(t *testing.T) {
		r := render(t, "nodewave", "nodewave-system", map[string]any{"extraObjects": []any{
			map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{
				"name": "{{ .Release.Name }}-extra", "namespace": "{{ .Release.Namespace }}"}},
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull-{{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n",
		}})
		r.mustFindIn(t, "ConfigMap", "nodewave-system", "nodewave-extra")
		r.mustFindIn(t, "Secret", "nodewave-system", "pull-nodewave")
	})
}
