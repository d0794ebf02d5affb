package healthcheck

import (
	"context"
	"strings"
	"testing"
)

func TestCompileAndEval(t *testing.T) {
	ceph := map[string]any{"status": map[string]any{"ceph": map[string]any{"health": "HEALTH_OK"}}}
	deploy := map[string]any{"spec": map[string]any{"replicas": int64(3)}, "status": map[string]any{"availableReplicas": int64(2)},
		"metadata": map[string]any{"labels": map[string]any{"tier": "db"}}}
	cases := []struct {
		expr       string
		object     map[string]any
		want       bool
		compileErr string
		evalErr    string
	}{
		{expr: `object.status.ceph.health == "HEALTH_OK"`, object: ceph, want: true},
		{expr: `object.status.availableReplicas >= object.spec.replicas`, object: deploy, want: false},
		// The Kubernetes libraries are there: a quantity, a regex, lists.
		{expr: `quantity("1Gi").isGreaterThan(quantity("512Mi"))`, object: deploy, want: true},
		{expr: `object.metadata.labels.tier.matches("^d")`, object: deploy, want: true},
		{expr: `has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Available")`, object: deploy, want: false},
		// A field not there yet: an evaluation error, not a crash.
		{expr: `object.status.ceph.health == "HEALTH_OK"`, object: deploy, evalErr: "no such key"},
		{expr: `object.status.availableReplicas`, object: deploy, evalErr: "not evaluate to a bool"},
		{expr: `object.status.ceph.health ==`, compileErr: "Syntax error"},
		{expr: `1 + 1`, compileErr: "not a bool"},
		{expr: `nosuchvariable == 1`, compileErr: "undeclared reference"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			p, err := Compile(c.expr)
			if c.compileErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.compileErr) {
					t.Fatalf("compile error %v, want one with %q", err, c.compileErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Eval(context.Background(), c.object)
			if c.evalErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.evalErr) {
					t.Fatalf("eval error %v, want one with %q", err, c.evalErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestTheCostLimitStopsARunawayExpression(t *testing.T) {
	p, err := Compile(`[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Eval(context.Background(), map[string]any{}); err == nil || !strings.Contains(err.Error(), "cost") {
		t.Fatalf("error %v, want the cost limit's", err)
	}
}
