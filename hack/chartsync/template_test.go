package main

import (
	"strings"
	"testing"
	"text/template"
)

// execute renders a generated template as Helm would, with stand-ins for
// the chart's helpers: include returns the chart labels, nindent indents.
func execute(t *testing.T, text string, values map[string]any) string {
	t.Helper()
	funcs := template.FuncMap{
		"include": func(name string, _ any) string {
			switch name {
			case "nodewave.labels":
				return "app.kubernetes.io/name: nodewave\napp.kubernetes.io/instance: test"
			case "nodewave.resourceName":
				return "test-nodewave-manager-role"
			case "nodewave.jobNamespace":
				return "jobs"
			}
			t.Fatalf("include %q: unknown helper", name)
			return ""
		},
		"nindent": func(n int, s string) string { return "\n" + indent(n, s) },
		"dict":    func(...any) map[string]any { return nil },
	}
	tmpl, err := template.New("t").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		t.Fatalf("parsing the generated template: %v\n%s", err, text)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, map[string]any{"Values": values}); err != nil {
		t.Fatalf("executing the generated template: %v", err)
	}
	return b.String()
}

// TestEscapeActionsRendersBackVerbatim: text with template delimiters
// survives a round trip through text/template, Helm's engine.
func TestEscapeActionsRendersBackVerbatim(t *testing.T) {
	for _, text := range []string{
		"plain",
		"a {{ .Values.x }} b",
		"{{{{}}}}",
		"}} {{- -}} {{/* c */}}",
		`"{{ "quoted" }}"`,
		"{{",
	} {
		if got := execute(t, escapeActions(text), nil); got != text {
			t.Errorf("escapeActions(%q) renders %q", text, got)
		}
	}
}

func TestIndent(t *testing.T) {
	if got, want := indent(2, "a:\n  b: c\n\nd\n"), "  a:\n    b: c\n\n  d\n"; got != want {
		t.Errorf("indent = %q, want %q", got, want)
	}
}
