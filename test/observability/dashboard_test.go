package observability

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

const datasourceVar = "${datasource}"

func TestDashboardIsWellFormed(t *testing.T) {
	d := readDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q, title %q: both are needed to import and link it", d.UID, d.Title)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v, ok := vars["datasource"]; !ok || v.Type != "datasource" || string(v.Query) != `"prometheus"` {
		t.Errorf("no Prometheus datasource variable: %+v", v)
	}
	if v, ok := vars["cluster_upgrade"]; !ok || v.Datasource == nil || v.Datasource.UID != datasourceVar {
		t.Errorf("no cluster_upgrade variable on the datasource variable: %+v", v)
	}

	ids := map[int]string{}
	var placed []panel
	for _, p := range d.allPanels() {
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
			t.Errorf("panel %q: gridPos %+v is off Grafana's 24-column grid", p.Title, g)
		}
		for _, q := range placed {
			if overlap(p.GridPos, q.GridPos) {
				t.Errorf("panels %q %+v and %q %+v overlap", p.Title, p.GridPos, q.Title, q.GridPos)
			}
		}
		placed = append(placed, p)
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.Datasource == nil || p.Datasource.UID != datasourceVar {
			t.Errorf("panel %q does not use the datasource variable: %+v", p.Title, p.Datasource)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != datasourceVar {
				t.Errorf("panel %q query %s does not use the datasource variable", p.Title, tg.RefID)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q query %s is empty", p.Title, tg.RefID)
			}
		}
	}
}

// filtersBy says whether a selector follows the dashboard variable named
// as the label: label=~"$label".
func filtersBy(vs *parser.VectorSelector, label string) bool {
	for _, m := range vs.LabelMatchers {
		if m.Name == label && m.Type == labels.MatchRegexp && m.Value == "$"+label {
			return true
		}
	}
	return false
}

func overlap(a, b gridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// TestDashboardFiltersByClusterUpgrade: every panel on a per-ClusterUpgrade
// metric follows the dashboard's ClusterUpgrade picker.
func TestDashboardFiltersByClusterUpgrade(t *testing.T) {
	r := gatherRegistry(t)
	for _, s := range selectors(t, dashboardQueries(t)) {
		if _, perCU := r.labelValues(s.metric)["cluster_upgrade"]; !perCU || strings.HasPrefix(s.where, "dashboard variable") {
			continue
		}
		if !filtersBy(s.vs, "cluster_upgrade") {
			t.Errorf(`%s: %s does not filter by cluster_upgrade=~"$cluster_upgrade"`, s.where, s.vs)
		}
	}
}

// TestDashboardShowsWhatOperatorsAskFor: progress, nodes by state, each
// step's duration, evictions blocked by PodDisruptionBudgets, and the
// controller's errors and latency.
func TestDashboardShowsWhatOperatorsAskFor(t *testing.T) {
	type want struct{ metric, label, value string }
	sels := selectors(t, dashboardQueries(t))
	for _, w := range []want{
		{"nodewave_nodes", "state", "upgraded"}, // progress
		{"nodewave_nodes", "", ""},              // nodes by state
		{"nodewave_node_upgrade_duration_seconds_bucket", "step", "drain"},
		{"nodewave_node_upgrade_duration_seconds_bucket", "step", "upgrade"},
		{"nodewave_node_upgrade_duration_seconds_bucket", "step", "verify"},
		{"nodewave_evictions_total", "result", "blocked"},
		{"nodewave_cluster_upgrade_stalled", "", ""},
		{"controller_runtime_reconcile_errors_total", "", ""},
		{"controller_runtime_reconcile_time_seconds_bucket", "", ""},
	} {
		found := false
		for _, s := range sels {
			if s.metric != w.metric {
				continue
			}
			if w.label == "" {
				found = true
				break
			}
			for _, m := range s.vs.LabelMatchers {
				found = found || (m.Name == w.label && m.Type == labels.MatchEqual && m.Value == w.value)
			}
		}
		if !found {
			t.Errorf("no panel selects %s{%s=%q}", w.metric, w.label, w.value)
		}
	}
}

// TestDashboardFiltersByCluster: the dashboard has a cluster variable over
// the cluster label that a multi-cluster Prometheus adds (external_labels,
// Thanos, Mimir), whose All matches series without the label too, so a
// single cluster's Prometheus shows everything; and every selector of every
// panel query and of the cluster_upgrade variable follows it.
func TestDashboardFiltersByCluster(t *testing.T) {
	d := readDashboard(t)
	var cluster *variable
	for i, v := range d.Templating.List {
		if v.Name == "cluster" {
			cluster = &d.Templating.List[i]
		}
	}
	if cluster == nil {
		t.Fatal("the dashboard has no cluster variable")
	}
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(cluster.Query, &q); err != nil {
		t.Fatal(err)
	}
	m := labelValues.FindStringSubmatch(q.Query)
	if cluster.Type != "query" || m == nil || m[2] != "cluster" || !strings.HasPrefix(m[1], "nodewave_") {
		t.Errorf("cluster variable: type %q, query %q; want label_values(nodewave_..., cluster)", cluster.Type, q.Query)
	}
	if cluster.Datasource == nil || cluster.Datasource.UID != datasourceVar {
		t.Errorf("cluster variable does not use the datasource variable: %+v", cluster.Datasource)
	}
	// All as .* matches the empty value: series without a cluster label.
	if !cluster.IncludeAll || cluster.AllValue != ".*" {
		t.Errorf(`cluster variable: includeAll %v, allValue %q; want true and ".*", so setups without a cluster label show their series`,
			cluster.IncludeAll, cluster.AllValue)
	}
	sels := selectors(t, dashboardQueries(t))
	if len(sels) < 20 {
		t.Fatalf("only %d selectors in the dashboard's queries", len(sels))
	}
	for _, s := range sels {
		if s.where == "dashboard variable cluster" {
			continue
		}
		if !filtersBy(s.vs, "cluster") {
			t.Errorf(`%s: %s does not filter by cluster=~"$cluster"`, s.where, s.vs)
		}
	}
}
