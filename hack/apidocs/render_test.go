package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

const fixture = "testdata/widgets.yaml"

var templateType = map[string]string{"spec.template": "[PodTemplateSpec](https://example.com/pod-template)"}

func loadFixture(t *testing.T) []apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds, err := loadCRDs([]string{fixture})
	if err != nil {
		t.Fatal(err)
	}
	return crds
}

func render(t *testing.T, crds []apiextensionsv1.CustomResourceDefinition) string {
	t.Helper()
	doc, err := Render(crds, Options{External: templateType})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// TestRenderDocumentsEachKindOfField checks the row of every kind of field
// the fixture has: its type, default, validation and description.
func TestRenderDocumentsEachKindOfField(t *testing.T) {
	doc := render(t, loadFixture(t))
	for _, want := range []string{
		"`example.com/v1`, namespaced-scoped, plural `widgets`, short name `wd`, status subresource.",
		"Widget is a thing with parts.",
		"| SIZE | `.spec.size` | always |",
		"| READY | `.status.conditions[?(@.type==\"Ready\")].message` | `-o wide` |",
		"### `spec`\n\nspec is what the user wants.\n\n- Rule: a widget needs a name or parts\n",
		"| `name` | string |  | required<br>pattern `^[a-z]+(-[a-z]+)*$`<br>at most 63 characters | " +
			"name is the widget's name, such as &lt;team&gt;-widget.<br><br>It is shown in every event. |",
		"| `size` | integer (int32) | `3` | >= 1<br><= 10 | size is how big it is. |",
		"| `ratio` | number |  | > 0 | ratio must be above zero. |",
		"| `color` | string | `Red` | one of `Red`, `Blue` | color is Red or Blue. |",
		"| `spare` | integer or string |  | spare must be at least 1 | spare is a count or a percentage. |",
		"| `tags` | []string |  | at most 1 item<br>items unique | tags label the widget. |",
		"| `labels` | map[string]string |  |  | labels go on every part. |",
		"| `budget` | [object](#specbudget) | `{}` |  | budget limits the parts. |",
		"| `maxParts` | integer |  | budget.maxParts is required when parts are listed | maxParts is the most parts. |",
		"| `parts` | [[]object](#specparts) |  | one entry per `name` | parts are the widget's parts. |",
		"### `spec.parts[]`\n\nPart is one part.\n",
		"| `name` | string |  | required | name is the part's name (a \\| b). |",
		"| `template` | [PodTemplateSpec](https://example.com/pod-template) |  |  | template is the pod that builds it. |",
		"| `observedGeneration` | integer (int64) | `-1` |  | observedGeneration is the generation seen. |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the reference lacks\n%s\n\ngot:\n%s", want, doc)
		}
	}
	for _, absent := range []string{"`apiVersion`", "`metadata`", "spec.template.spec", "`containers`"} {
		if strings.Contains(doc, absent) {
			t.Errorf("the reference documents %s", absent)
		}
	}
	checkLinks(t, doc)
}

// TestRenderPicksUpANewField adds a field to the CRD, as a new Go field and
// `make manifests` would, and checks that the reference shows it and that
// the reference written before is found stale.
func TestRenderPicksUpANewField(t *testing.T) {
	crds := loadFixture(t)
	before := render(t, crds)
	stale := filepath.Join(t.TempDir(), "api-reference.md")
	if err := os.WriteFile(stale, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}

	spec := crds[0].Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	spec.Properties["window"] = apiextensionsv1.JSONSchemaProps{
		Description: "window says when new nodes may start.",
		Type:        "object",
		Properties: map[string]apiextensionsv1.JSONSchemaProps{
			"timeZone": {Description: "timeZone is an IANA time zone.", Type: "string", Default: &apiextensionsv1.JSON{Raw: []byte(`"UTC"`)}},
		},
	}
	crds[0].Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = spec
	after := render(t, crds)
	for _, want := range []string{
		"| `window` | [object](#specwindow) |  |  | window says when new nodes may start. |",
		"### `spec.window`\n",
		"| `timeZone` | string | `UTC` |  | timeZone is an IANA time zone. |",
	} {
		if !strings.Contains(after, want) {
			t.Errorf("the new field is missing: %s", want)
		}
	}

	err := Check(stale, []byte(after))
	if err == nil || !strings.Contains(err.Error(), "out of date") || !strings.Contains(err.Error(), "make manifests") {
		t.Fatalf("a stale reference was not found out: %v", err)
	}
	if err := Check(stale, []byte(before)); err != nil {
		t.Fatalf("a current reference was found stale: %v", err)
	}
}

func TestRenderRefusesAnExternalPathThatNamesNoField(t *testing.T) {
	_, err := Render(loadFixture(t), Options{External: map[string]string{"spec.templat": "x"}})
	if err == nil || !strings.Contains(err.Error(), "spec.templat") {
		t.Fatalf("want an error naming the path, got %v", err)
	}
}

func TestLoadRefusesWhatIsNotACRD(t *testing.T) {
	for name, content := range map[string]string{
		"kind":          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		"unknown field": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {grup: x}\n",
		"empty":         "---\n",
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "crd.yaml")
			if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := loadCRDs([]string{f}); err == nil {
				t.Fatal("loaded")
			}
		})
	}
}

// TestRunWritesAndChecks runs the command as the Makefile does: it writes
// the reference, -check passes on it, and fails once the file is edited.
func TestRunWritesAndChecks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "api-reference.md")
	args := []string{"-out", out, "-external", "spec.template=[PodTemplateSpec](https://example.com/pod-template)", fixture}
	if err := run(args); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := render(t, loadFixture(t)); string(written) != want {
		t.Fatal("run wrote something else than Render")
	}
	if err := run(append([]string{"-check"}, args...)); err != nil {
		t.Fatalf("-check on a fresh file: %v", err)
	}
	if err := os.WriteFile(out, append(written, "hand edit\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(append([]string{"-check"}, args...)); err == nil {
		t.Fatal("-check passed on an edited file")
	}
	if err := run([]string{"-external", "nopath", fixture}); err == nil {
		t.Fatal("a malformed -external was accepted")
	}
}

// TestTheRepositoryReferenceLinksResolve checks the committed reference:
// every link to a section finds its heading.
func TestTheRepositoryReferenceLinksResolve(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "api-reference.md"))
	if err != nil {
		t.Fatal(err)
	}
	checkLinks(t, string(doc))
	for _, field := range []string{"`targetVersion`", "`maxUnavailable`", "`observedGeneration`", "`soakDuration`"} {
		if !strings.Contains(string(doc), "| "+field+" |") {
			t.Errorf("docs/api-reference.md has no row for %s", field)
		}
	}
}

// checkLinks fails for a link to an anchor that no heading of doc has.
func checkLinks(t *testing.T, doc string) {
	t.Helper()
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(doc, -1) {
		anchors[anchor(m[1])] = true
	}
	links := regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(doc, -1)
	if len(links) == 0 {
		t.Error("no link to a section")
	}
	for _, m := range links {
		if !anchors[m[1]] {
			t.Errorf("link #%s has no heading", m[1])
		}
	}
}
