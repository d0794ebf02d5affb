package observability

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// buildDefaultWithPrometheus builds config/default as a user who enables
// the optional Prometheus component does: with its `#- ../prometheus`
// line uncommented.
func buildDefaultWithPrometheus(t *testing.T) map[string][]byte {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	root := path("config")
	enabled := false
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == filepath.Join("default", "kustomization.yaml") {
			s := string(b)
			b = []byte(strings.Replace(s, "#- ../prometheus", "- ../prometheus", 1))
			enabled = s != string(b)
		}
		return mem.WriteFile(filepath.Join("/config", rel), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !enabled {
		t.Fatal("config/default/kustomization.yaml has no `#- ../prometheus` line to enable")
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, "/config/default")
	if err != nil {
		t.Fatalf("kustomize build config/default with ../prometheus: %v", err)
	}
	out := map[string][]byte{}
	for _, r := range res.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		out[r.GetKind()+"/"+r.GetName()] = b
	}
	return out
}

func TestServiceMonitorScrapesTheMetricsService(t *testing.T) {
	built := buildDefaultWithPrometheus(t)
	var monitors []*monitoringv1.ServiceMonitor
	var services []*corev1.Service
	for key, b := range built {
		switch kind, _, _ := strings.Cut(key, "/"); kind {
		case "ServiceMonitor":
			m := &monitoringv1.ServiceMonitor{}
			if err := yaml.UnmarshalStrict(b, m); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			monitors = append(monitors, m)
		case "Service":
			s := &corev1.Service{}
			if err := yaml.UnmarshalStrict(b, s); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			services = append(services, s)
		}
	}
	if len(monitors) != 1 || len(services) != 1 {
		t.Fatalf("built %d ServiceMonitors and %d Services, want one of each", len(monitors), len(services))
	}
	mon, svc := monitors[0], services[0]
	if built["PrometheusRule/nodewave-alerts"] == nil {
		t.Errorf("the build has no PrometheusRule nodewave-alerts: %v", keys(built))
	}
	if mon.Namespace != svc.Namespace {
		t.Errorf("ServiceMonitor in %q, the metrics Service in %q", mon.Namespace, svc.Namespace)
	}
	sel, err := labels.ValidatedSelectorFromSet(mon.Spec.Selector.MatchLabels)
	if err != nil || len(mon.Spec.Selector.MatchLabels) == 0 {
		t.Fatalf("ServiceMonitor selector %v: %v", mon.Spec.Selector, err)
	}
	if !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the metrics Service (labels %v)", sel, svc.Labels)
	}
	if len(mon.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor has %d endpoints, want 1", len(mon.Spec.Endpoints))
	}
	ep := mon.Spec.Endpoints[0]
	found := false
	for _, p := range svc.Spec.Ports {
		found = found || p.Name == ep.Port
	}
	if !found {
		t.Errorf("ServiceMonitor scrapes port %q; the metrics Service has %v", ep.Port, svc.Spec.Ports)
	}
	if ep.Scheme == nil || ep.Scheme.String() != "https" {
		t.Errorf("ServiceMonitor endpoint scrapes %v: the manager serves HTTPS", ep.Scheme)
	}
	checkScrapeAuthorization(t, built, mon.Namespace, ep)
	if mon.Spec.JobLabel != "" {
		t.Errorf("ServiceMonitor sets jobLabel %q: NodewaveManagerDown expects the Service's name as the job", mon.Spec.JobLabel)
	}

	// The Prometheus Operator names the job after the Service: that is
	// the job NodewaveManagerDown looks for.
	for _, a := range alerts(t) {
		if a.Alert != "NodewaveManagerDown" {
			continue
		}
		expr, err := promql.ParseExpr(a.Expr.String())
		if err != nil {
			t.Fatal(err)
		}
		jobs := 0
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && vs.Name == "up" {
				for _, m := range vs.LabelMatchers {
					if m.Name == "job" {
						jobs++
						if !m.Matches(svc.Name) {
							t.Errorf("NodewaveManagerDown selects up{%s}; the ServiceMonitor's job is %q", m, svc.Name)
						}
					}
				}
			}
			return nil
		})
		if jobs != 1 {
			t.Errorf("NodewaveManagerDown has %d job matchers on up, want 1", jobs)
		}
		return
	}
	t.Error("no alert NodewaveManagerDown")
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
