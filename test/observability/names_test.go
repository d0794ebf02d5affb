package observability

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	// What the manager imports registers its metrics: nodewave's own, and
	// controller-runtime's (reconciles, work queues, client-go) through
	// the controller.
	_ "github.com/nodewave/nodewave/internal/controller"
	"github.com/nodewave/nodewave/internal/metrics"
)

// synthesised are series Prometheus makes for each scrape target itself;
// no /metrics serves them.
var synthesised = []string{"up"}

// targetLabels are labels Prometheus adds to every scraped series.
var targetLabels = []string{"job", "instance", "namespace", "pod", "service", "endpoint", "container"}

// externalLabels are labels a multi-cluster setup adds to every series
// (Prometheus' external_labels, Thanos, Mimir): the dashboard's cluster
// variable selects on it.
var externalLabels = []string{"cluster"}

// registry is what the manager's registry serves, gathered once a
// ClusterUpgrade of every kind of series exists, so that every series the
// collector can publish is there.
type registry struct {
	families map[string]*dto.MetricFamily
}

func gatherRegistry(t *testing.T) *registry {
	t.Helper()
	now := time.Now()
	metrics.ClusterUpgrades.SetStatus("sample", metrics.UpgradeStatus{
		Phase: upgradev1alpha1.PhaseFailed, StalledReason: upgradev1alpha1.ReasonTooManyFailures, DrainTimeout: 10 * time.Minute,
		NextWindowOpens: now.Add(time.Hour)})
	view := metrics.NodeSummary{Counts: map[string]int{}, LastTransition: now}
	for _, state := range metrics.States {
		view.Counts[state] = 1
	}
	for _, state := range []upgradev1alpha1.NodeState{upgradev1alpha1.NodeCordoned, upgradev1alpha1.NodeDraining,
		upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying} {
		view.InFlight = append(view.InFlight, metrics.InFlightNode{Name: "node-" + string(state), State: string(state), Since: now})
	}
	metrics.ClusterUpgrades.SetNodes("sample", view)
	t.Cleanup(func() { metrics.ClusterUpgrades.Delete("sample") })
	// The request counter's series start with the manager's first request.
	metrics.APIRequestsTotal.WithLabelValues("list", "nodes")

	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	r := &registry{families: map[string]*dto.MetricFamily{}}
	for _, f := range families {
		r.families[f.GetName()] = f
	}
	return r
}

// registered reports whether the manager's registry has a metric of this
// name. Gather lists only the metrics that have a series now; a vector with
// no child yet (controller-runtime's reconcile metrics before the first
// reconcile) is registered all the same, and then the registry refuses
// another descriptor of its name.
func (r *registry) registered(name string) bool {
	if _, ok := r.families[name]; ok {
		return true
	}
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe of the registry"})
	if err := ctrlmetrics.Registry.Register(probe); err != nil {
		return true
	}
	ctrlmetrics.Registry.Unregister(probe)
	return false
}

// check says what is wrong with a metric name a query selects, "" if
// nothing: it must be registered, or be a histogram's _bucket, _sum or
// _count series of a registered histogram.
func (r *registry) check(name string) string {
	if slices.Contains(synthesised, name) || r.registered(name) {
		return ""
	}
	for suffix, types := range map[string][]dto.MetricType{
		"_bucket": {dto.MetricType_HISTOGRAM},
		"_sum":    {dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY},
		"_count":  {dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY},
	} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok || !r.registered(base) {
			continue
		}
		if f := r.families[base]; f != nil && !slices.Contains(types, f.GetType()) {
			return "is no series of " + base + ", a " + f.GetType().String()
		}
		return ""
	}
	return "is not registered by the manager"
}

// labelValues are the values each label has in the gathered series of a
// family; nil when the family has no series now.
func (r *registry) labelValues(name string) map[string][]string {
	f := r.families[name]
	if f == nil {
		return nil
	}
	out := map[string][]string{}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			out[l.GetName()] = append(out[l.GetName()], l.GetValue())
		}
	}
	return out
}

func TestRegistryCheckerTellsRegisteredFromUnknown(t *testing.T) {
	r := gatherRegistry(t)
	for name, want := range map[string]string{
		"nodewave_nodes": "",
		"nodewave_node_upgrade_duration_seconds_bucket":    "",
		"controller_runtime_reconcile_errors_total":        "", // a vector with no series yet
		"controller_runtime_reconcile_time_seconds_bucket": "",
		"nodewave_nodes_bucket":                            "is no series of nodewave_nodes, a GAUGE",
		"nodewave_no_such_metric":                          "is not registered by the manager",
		"nodewave_no_such_metric_bucket":                   "is not registered by the manager",
	} {
		if got := r.check(name); got != want {
			t.Errorf("check(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestQueriesSelectRegisteredMetrics(t *testing.T) {
	r := gatherRegistry(t)
	queries := append(ruleQueries(t), dashboardQueries(t)...)
	sels := selectors(t, queries)
	if len(sels) < len(queries) {
		t.Fatalf("%d selectors in %d queries", len(sels), len(queries))
	}
	for _, s := range sels {
		if s.metric == "" {
			t.Errorf("%s: selector %s names no metric", s.where, s.vs)
			continue
		}
		if problem := r.check(s.metric); problem != "" {
			t.Errorf("%s: %s %s", s.where, s.metric, problem)
			continue
		}
		if !strings.HasPrefix(s.metric, "nodewave_") {
			continue
		}
		// nodewave's own series are all there (gatherRegistry), so a label
		// or a value that none has is a typo that leaves a panel empty or
		// an alert silent.
		values := r.labelValues(strings.TrimSuffix(s.metric, "_bucket"))
		for _, m := range s.vs.LabelMatchers {
			if m.Name == "__name__" || slices.Contains(targetLabels, m.Name) || slices.Contains(externalLabels, m.Name) {
				continue
			}
			have, ok := values[m.Name]
			if !ok {
				t.Errorf("%s: %s has no label %s", s.where, s.metric, m.Name)
				continue
			}
			if m.Type == labels.MatchEqual && !slices.Contains(have, m.Value) {
				t.Errorf("%s: %s{%s} matches no series: %s is one of %v", s.where, s.metric, m, m.Name, unique(have))
			}
		}
	}
}

func TestEveryNodewaveMetricIsOnTheDashboardOrInAnAlert(t *testing.T) {
	r := gatherRegistry(t)
	used := map[string]bool{}
	for _, s := range selectors(t, append(ruleQueries(t), dashboardQueries(t)...)) {
		used[strings.TrimSuffix(s.metric, "_bucket")] = true
	}
	for name := range r.families {
		if strings.HasPrefix(name, "nodewave_") && !used[name] {
			t.Errorf("%s is registered but neither the dashboard nor an alert uses it", name)
		}
	}
}

func unique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
