package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// crd is a small CRD in controller-gen's layout: a template (an object
// with a list of containers, one field of which is called "description")
// and a field of nodewave's own beside it.
const crd = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  group: example.com
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        description: Thing is a thing.
        properties:
          spec:
            description: spec is ours.
            properties:
              other:
                description: other is ours, untouched.
                type: string
              template:
                description: template points at PodTemplateSpec.
                properties:
                  spec:
                    description: A pod's spec.
                    properties:
                      containers:
                        description: The containers.
                        items:
                          description: One container.
                          properties:
                            description:
                              description: A field named description.
                              type: string
                            name:
                              description: The name.
                              type: string
                          required:
                          - name
                          type: object
                        type: array
                      ephemeralContainers:
                        description: Never in a Job.
                        items:
                          type: object
                        type: array
                    required:
                    - containers
                    - ephemeralContainers
                    type: object
                type: object
            type: object
        type: object
    served: true
    storage: true
`

func TestTrimKeepsTheSchemaAndDropsOnlyTheDescriptionsUnderThePath(t *testing.T) {
	out, err := Trim([]byte(crd), []string{"spec.template"}, []string{"spec.template.spec.ephemeralContainers"})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(
		"                    description: A pod's spec.\n", "",
		"                        description: The containers.\n", "",
		"                          description: One container.\n", "",
		"                              description: A field named description.\n", "",
		"                              description: The name.\n", "",
		`                      ephemeralContainers:
                        description: Never in a Job.
                        items:
                          type: object
                        type: array
`, "",
		"                    - ephemeralContainers\n", "",
	).Replace(crd)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestTrimGoesThroughListItems(t *testing.T) {
	out, err := Trim([]byte(crd), []string{"spec.template.spec.containers.name"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("description: The name.")) {
		t.Error("the path's own description was removed")
	}
	if !bytes.Contains(out, []byte("description: One container.")) {
		t.Error("a description above the path was removed")
	}
}

func TestTrimFailsOnAPathNotInTheSchema(t *testing.T) {
	for _, tc := range []struct {
		trim, drop []string
		want       string
	}{
		{trim: []string{"spec.hooks.preDrain.template"}, want: `-trim spec.hooks.preDrain.template: no field "hooks" under spec`},
		{trim: []string{"status"}, want: `-trim status: no field "status" under the root`},
		{drop: []string{"spec.template.spec.initContainers"}, want: `-drop spec.template.spec.initContainers: no field "initContainers" there`},
		{drop: []string{"spec.templates.spec"}, want: `-drop spec.templates.spec: no field "templates" under spec`},
	} {
		_, err := Trim([]byte(crd), tc.trim, tc.drop)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("trim %v drop %v: got error %v, want one containing %q", tc.trim, tc.drop, err, tc.want)
		}
	}
}

func TestTrimRefusesWhatIsNotACRD(t *testing.T) {
	_, err := Trim([]byte("apiVersion: v1\nkind: ConfigMap\n"), []string{"data"}, nil)
	if err == nil || !strings.Contains(err.Error(), "want a CustomResourceDefinition") {
		t.Errorf("got %v", err)
	}
}

// The committed CRD goes through Trim unchanged when there is nothing to
// trim: Trim writes YAML exactly as controller-gen does, so `make
// manifests` changes nothing but what it is asked to.
func TestTrimWritesAsControllerGenDoes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRD found: %v", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Trim(src, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s changed on a round trip through Trim", file)
		}
	}
}

func TestRunWritesTheFileInPlace(t *testing.T) {
	file := filepath.Join(t.TempDir(), "crd.yaml")
	if err := os.WriteFile(file, []byte(crd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-trim", "spec.template", file}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("One container.")) || !bytes.Contains(data, []byte("template points at PodTemplateSpec.")) {
		t.Errorf("run did not trim %s in place:\n%s", file, data)
	}
	if err := run([]string{file}); err == nil {
		t.Error("run without a path succeeded")
	}
	if err := run([]string{"-trim", "spec..template", file}); err == nil {
		t.Error("run took an empty path segment")
	}
}
