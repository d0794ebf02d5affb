package observability

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

// ruleTests is the format of testdata/alerts_test.yaml: the part of
// `promtool test rules`' format that alert tests use. The rules are always
// config/prometheus/rules.yaml; exp_annotations are compared when given.
type ruleTests struct {
	EvaluationInterval model.Duration `json:"evaluation_interval"`
	Tests              []testGroup    `json:"tests"`
}

type testGroup struct {
	Name           string          `json:"name"`
	Interval       model.Duration  `json:"interval"`
	InputSeries    []inputSeries   `json:"input_series"`
	AlertRuleTests []alertRuleTest `json:"alert_rule_test"`
}

type inputSeries struct {
	Series string `json:"series"`
	Values string `json:"values"`
}

type alertRuleTest struct {
	EvalTime  model.Duration `json:"eval_time"`
	Alertname string         `json:"alertname"`
	ExpAlerts []expAlert     `json:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `json:"exp_labels"`
	ExpAnnotations map[string]string `json:"exp_annotations"`
}

// firing is one firing alert as a test sees it.
type firing struct {
	labels      labels.Labels
	annotations labels.Labels
}

// TestAlerts evaluates config/prometheus/rules.yaml over the synthetic
// series of each case of testdata/alerts_test.yaml, every
// evaluation_interval from time 0 (the Unix epoch) as Prometheus would,
// and compares the firing alerts at each eval_time with the expected ones.
func TestAlerts(t *testing.T) {
	var suite ruleTests
	readStrict(t, "testdata/alerts_test.yaml", &suite)
	if suite.EvaluationInterval == 0 {
		suite.EvaluationInterval = model.Duration(time.Minute)
	}
	file := ruleFile(t)
	for _, tg := range suite.Tests {
		t.Run(tg.Name, func(t *testing.T) {
			runGroup(t, tg, time.Duration(suite.EvaluationInterval), file)
		})
	}
}

func runGroup(t *testing.T, tg testGroup, evalInterval time.Duration, file string) {
	if tg.Interval == 0 {
		tg.Interval = model.Duration(evalInterval)
	}
	var load strings.Builder
	fmt.Fprintf(&load, "load %s\n", tg.Interval)
	for _, s := range tg.InputSeries {
		fmt.Fprintf(&load, "  %s %s\n", s.Series, s.Values)
	}
	storage, err := promqltest.NewLazyLoader(load.String(), promqltest.LazyLoaderOpts{
		EnableAtModifier: true, EnableNegativeOffset: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = storage.Close() }()
	storage.SubqueryInterval = evalInterval

	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(storage.QueryEngine(), storage.Storage()),
		AppendableV2: storage.Storage(),
		Context:      context.Background(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       promslog.NewNopLogger(),
	})
	groups, errs := m.LoadGroups(evalInterval, labels.EmptyLabels(), "", nil, false, file)
	if errs != nil {
		t.Fatalf("loading the rules: %v", errs)
	}
	byName := map[string]*rules.AlertingRule{}
	for _, g := range groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				ar.SetRestored(true) // as promtool does: no `for` state to restore
				byName[ar.Name()] = ar
			}
		}
	}

	cases := slices.Clone(tg.AlertRuleTests)
	slices.SortStableFunc(cases, func(a, b alertRuleTest) int { return int(a.EvalTime - b.EvalTime) })
	if len(cases) == 0 {
		t.Fatal("no alert_rule_test")
	}
	start := time.Unix(0, 0).UTC()
	last := start.Add(time.Duration(cases[len(cases)-1].EvalTime))
	next := 0
	for ts := start; !ts.After(last); ts = ts.Add(evalInterval) {
		storage.WithSamplesTill(ts, func(err error) {
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range groups {
				g.Eval(storage.Context(), ts)
				for _, r := range g.Rules() {
					if r.LastError() != nil {
						t.Fatalf("rule %s at %s: %v", r.Name(), ts.Sub(start), r.LastError())
					}
				}
			}
		})
		// Check the cases whose eval_time falls in [ts, ts+interval), as
		// promtool does.
		for ; next < len(cases) && start.Add(time.Duration(cases[next].EvalTime)).Before(ts.Add(evalInterval)); next++ {
			c := cases[next]
			ar := byName[c.Alertname]
			if ar == nil {
				t.Fatalf("eval_time %s: no alert %s in the rules", c.EvalTime, c.Alertname)
			}
			compareAlerts(t, c, ar)
		}
	}
}

func compareAlerts(t *testing.T, c alertRuleTest, ar *rules.AlertingRule) {
	t.Helper()
	var got []firing
	for _, a := range ar.ActiveAlerts() {
		if a.State == rules.StateFiring {
			got = append(got, firing{labels: a.Labels, annotations: a.Annotations})
		}
	}
	want := make([]firing, 0, len(c.ExpAlerts))
	for _, e := range c.ExpAlerts {
		l := map[string]string{labels.AlertName: c.Alertname}
		for k, v := range e.ExpLabels {
			l[k] = v
		}
		want = append(want, firing{labels: labels.FromMap(l), annotations: labels.FromMap(e.ExpAnnotations)})
	}
	byLabels := func(a, b firing) int { return labels.Compare(a.labels, b.labels) }
	slices.SortFunc(got, byLabels)
	slices.SortFunc(want, byLabels)
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = labels.Equal(got[i].labels, want[i].labels) &&
			(want[i].annotations.IsEmpty() || labels.Equal(got[i].annotations, want[i].annotations))
	}
	if !same {
		t.Errorf("%s at %s:\n got  %s\n want %s", c.Alertname, c.EvalTime, describe(got), describe(want))
	}
}

func describe(fs []firing) string {
	if len(fs) == 0 {
		return "nothing firing"
	}
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.labels.String()+" "+f.annotations.String())
	}
	return strings.Join(parts, "\n      ")
}

// TestEveryAlertIsTestedAndDocumented: each alert has a summary, a
// description and a runbook_url that points at its runbook section in
// docs/observability.md, and is tested firing in testdata/alerts_test.yaml.
func TestEveryAlertIsTestedAndDocumented(t *testing.T) {
	doc, err := os.ReadFile(path("docs", "observability.md"))
	if err != nil {
		t.Fatal(err)
	}
	var suite ruleTests
	readStrict(t, "testdata/alerts_test.yaml", &suite)
	testedFiring := map[string]bool{}
	for _, tg := range suite.Tests {
		for _, c := range tg.AlertRuleTests {
			if len(c.ExpAlerts) > 0 {
				testedFiring[c.Alertname] = true
			}
		}
	}
	headings := regexp.MustCompile(`(?m)^### (\w+)\s*$`).FindAllStringSubmatch(string(doc), -1)
	documented := map[string]bool{}
	for _, h := range headings {
		documented[h[1]] = true
	}
	for _, a := range alerts(t) {
		for _, key := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(a.Annotations[key]) == "" {
				t.Errorf("alert %s has no %s annotation", a.Alert, key)
			}
		}
		if want := "docs/observability.md#" + strings.ToLower(a.Alert); !strings.HasSuffix(a.Annotations["runbook_url"], want) {
			t.Errorf("alert %s: runbook_url %q does not end in %s", a.Alert, a.Annotations["runbook_url"], want)
		}
		if !documented[a.Alert] {
			t.Errorf("alert %s has no runbook section (### %s) in docs/observability.md", a.Alert, a.Alert)
		}
		if !testedFiring[a.Alert] {
			t.Errorf("alert %s is never tested firing in testdata/alerts_test.yaml", a.Alert)
		}
		if a.Labels["severity"] == "" {
			t.Errorf("alert %s has no severity label", a.Alert)
		}
	}
}
