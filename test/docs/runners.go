package docs

import (
	"cmp"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Runners is what runs the documents' commands.
type Runners struct {
	// E2E holds the command lines the end-to-end suite runs, exactly as
	// the documents show them (placeholders such as <name> included; the
	// suite fills them in).
	E2E map[string]bool
	// Demo holds the lines of hack/demo.sh, its defaulted variables
	// expanded (see DemoLines).
	Demo []string
	// HelmDocs are the documents whose helm commands the Helm chart's tests
	// run (test/chart, TestDocsHelmCommandsRun).
	HelmDocs map[string]bool
	// Allowed are commands nothing runs, each with the reason.
	Allowed map[string]string
}

// Cover says what runs a command, or "" when nothing does.
func (r Runners) Cover(c Command) string {
	switch {
	case r.E2E[c.Text]:
		return "e2e"
	case r.demoRuns(c.Text):
		return "demo"
	case strings.HasPrefix(c.Text, "helm ") && r.HelmDocs[c.Doc]:
		return "chart"
	case r.Allowed[c.Text] != "":
		return "allowed"
	}
	return ""
}

// demoRuns reports whether a line of the demo is the command, alone or
// followed by a redirection, a pipe, a list operator or a closing subshell.
func (r Runners) demoRuns(command string) bool {
	for _, line := range r.Demo {
		rest, ok := strings.CutPrefix(line, command)
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest == "" || strings.ContainsAny(rest[:1], "|>&;)") || strings.HasPrefix(rest, "2>") {
			return true
		}
	}
	return false
}

// E2ELines returns the values of the `line:` fields of the composite
// literals in a Go source file: the commands of test/e2e/docs_test.go's
// table.
func E2ELines(filename, src string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), filename, src, 0)
	if err != nil {
		return nil, err
	}
	var lines []string
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok || key.Name != "line" {
			return true
		}
		if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				lines = append(lines, s)
			}
		}
		return true
	})
	return lines, nil
}

// defaultedVar matches a shell assignment with a default,
// NAME="${NAME:-value}".
var defaultedVar = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)="\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}"\s*$`)

// DemoLines returns the lines of a shell script, trimmed, with each
// variable the script assigns a default to (NAME="${NAME:-value}")
// replaced by that default, and double quotes removed: what the line runs
// when the demo is started without settings.
func DemoLines(script string) []string {
	lines := strings.Split(script, "\n")
	defaults := map[string]string{}
	for _, l := range lines {
		if m := defaultedVar.FindStringSubmatch(l); m != nil && m[1] == m[2] {
			defaults[m[1]] = m[3]
		}
	}
	names := slices.Collect(maps.Keys(defaults))
	// Longest first, so that $NAME never replaces the start of $NAME_2.
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	pairs := make([]string, 0, 4*len(names))
	for _, name := range names {
		pairs = append(pairs, "${"+name+"}", defaults[name], "$"+name, defaults[name])
	}
	expand := strings.NewReplacer(pairs...)
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, strings.ReplaceAll(expand.Replace(l), `"`, ""))
	}
	return out
}
