package observability

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// query is one PromQL expression nodewave ships, and where it is.
type query struct {
	where string
	expr  string
}

// ruleQueries are the expressions of config/prometheus/rules.yaml.
func ruleQueries(t *testing.T) []query {
	t.Helper()
	var out []query
	for _, g := range prometheusRule(t).Spec.Groups {
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			out = append(out, query{where: "rules.yaml " + name, expr: r.Expr.String()})
		}
	}
	return out
}

// dashboard is config/grafana/nodewave-dashboard.json: the fields the
// tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *datasourceRef  `json:"datasource"`
	GridPos    gridPos         `json:"gridPos"`
	Targets    []panelTarget   `json:"targets"`
	Panels     []panel         `json:"panels"` // a collapsed row's panels
	FieldConf  json.RawMessage `json:"fieldConfig"`
}

type gridPos struct{ H, W, X, Y int }

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panelTarget struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Datasource *datasourceRef `json:"datasource"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasourceRef  `json:"datasource"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

func readDashboard(t *testing.T) *dashboard {
	t.Helper()
	b, err := os.ReadFile(path("config", "grafana", "nodewave-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := &dashboard{}
	if err := json.Unmarshal(b, d); err != nil {
		t.Fatalf("config/grafana/nodewave-dashboard.json: %v", err)
	}
	return d
}

// allPanels are the dashboard's panels, rows' panels included.
func (d *dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// grafanaDurations are the dashboard's variables that stand for a range:
// Grafana's own and the dashboard's window.
var grafanaDurations = regexp.MustCompile(`\$(__rate_interval|__interval|__range|window)\b|\$\{(__rate_interval|__interval|__range|window)\}`)

// labelValues is Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`)

// dashboardQueries are the PromQL expressions of the dashboard's panels and
// variables, with Grafana's range variables put as 5m, as Grafana would
// before sending them. Other variables ($cluster_upgrade) only appear
// inside label matcher strings, where any text parses.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	d := readDashboard(t)
	var out []query
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			out = append(out, query{where: fmt.Sprintf("dashboard panel %q (%s)", p.Title, tg.RefID),
				expr: grafanaDurations.ReplaceAllString(tg.Expr, "5m")})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("dashboard variable %s: query: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(strings.TrimSpace(q.Query))
		if m == nil {
			t.Fatalf("dashboard variable %s: %q is not label_values(selector, label)", v.Name, q.Query)
		}
		out = append(out, query{where: "dashboard variable " + v.Name, expr: m[1]})
	}
	return out
}

// selector is one vector selector of a query: its metric and matchers.
type selector struct {
	where  string
	metric string
	vs     *parser.VectorSelector
}

var promql = parser.NewParser(parser.Options{})

// selectors parses every query with Prometheus' parser and returns their
// vector selectors.
func selectors(t *testing.T, queries []query) []selector {
	t.Helper()
	var out []selector
	for _, q := range queries {
		expr, err := promql.ParseExpr(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
			if vs, ok := node.(*parser.VectorSelector); ok {
				out = append(out, selector{where: q.where, metric: metricName(vs), vs: vs})
			}
			return nil
		})
	}
	return out
}

// metricName is the metric a selector selects: its name, or its
// __name__="..." matcher.
func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == "__name__" {
			return m.Value
		}
	}
	return ""
}
