package chart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// repoRoot is the nodewave repository this file belongs to.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// chartDir is the chart under test.
func chartDir() string { return filepath.Join(repoRoot(), "charts", "nodewave") }

// Names config/default gives: its namePrefix and namespace.
const (
	kustomizePrefix    = "nodewave-"
	kustomizeNamespace = "nodewave-system"
)

// loadChart loads the chart from disk, as `helm install charts/nodewave` does.
func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir())
	if err != nil {
		t.Fatalf("loading %s: %v", chartDir(), err)
	}
	return c
}

// rendered is one `helm template` run.
type rendered struct {
	objects []*unstructured.Unstructured
	notes   string
}

// renderChart renders c as `helm template RELEASE charts/nodewave -n
// NAMESPACE --set ...` does: an install that only renders (client only, no
// cluster), with values validated against values.schema.json.
func renderChart(c *chart.Chart, release, namespace string, values map[string]any) (*rendered, error) {
	install := action.NewInstall(&action.Configuration{})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = release
	install.Namespace = namespace
	rel, err := install.Run(c, values)
	if err != nil {
		return nil, err
	}
	objects, err := decodeAll(rel.Manifest)
	if err != nil {
		return nil, fmt.Errorf("decoding the rendered manifest: %w", err)
	}
	return &rendered{objects: objects, notes: rel.Info.Notes}, nil
}

// render is renderChart for a chart that must render.
func render(t *testing.T, release, namespace string, values map[string]any) *rendered {
	t.Helper()
	r, err := renderChart(loadChart(t), release, namespace, values)
	if err != nil {
		t.Fatalf("rendering the chart (release %s, namespace %s, values %v): %v", release, namespace, values, err)
	}
	return r
}

// kustomizeDefault builds config/default as `kubectl kustomize` does.
func kustomizeDefault(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	return kustomizeBuild(t, filesys.MakeFsOnDisk(), filepath.Join(repoRoot(), "config", "default"))
}

// kustomizeDefaultUncommented builds config/default as a user does who
// uncommented the given lines of config/default/kustomization.yaml (each
// "#" + line there), such as the components: lines of
// config/no-control-plane-checks. The edit is made in memory.
func kustomizeDefaultUncommented(t *testing.T, lines ...string) []*unstructured.Unstructured {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	root := filepath.Join(repoRoot(), "config")
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
			text := string(b)
			for _, line := range lines {
				if !strings.Contains(text, "\n#"+line+"\n") {
					t.Fatalf("config/default/kustomization.yaml has no line %q to uncomment", "#"+line)
				}
				text = strings.Replace(text, "\n#"+line+"\n", "\n"+line+"\n", 1)
			}
			b = []byte(text)
		}
		return mem.WriteFile(filepath.Join("/config", rel), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return kustomizeBuild(t, mem, "/config/default")
}

// kustomizeBuild runs kustomize on dir of fsys.
func kustomizeBuild(t *testing.T, fsys filesys.FileSystem, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(fsys, dir)
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	objects, err := decodeAll(string(out))
	if err != nil {
		t.Fatalf("decoding config/default: %v", err)
	}
	return objects
}

// decodeAll reads every object of a YAML stream, numbers as int64 where
// they are whole, as client-go reads them.
func decodeAll(stream string) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	var objects []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, err
		}
		if s := string(bytes.TrimSpace(j)); s == "null" || s == "{}" {
			continue
		}
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(j); err != nil {
			return nil, err
		}
		objects = append(objects, o)
	}
}

// key names an object: kind, namespace and name.
type key struct{ kind, namespace, name string }

func (k key) String() string {
	if k.namespace == "" {
		return k.kind + " " + k.name
	}
	return k.kind + " " + k.namespace + "/" + k.name
}

func keyOf(o *unstructured.Unstructured) key {
	return key{o.GetKind(), o.GetNamespace(), o.GetName()}
}

// index maps objects by key, failing on a duplicate.
func index(t *testing.T, objects []*unstructured.Unstructured) map[key]*unstructured.Unstructured {
	t.Helper()
	m := make(map[key]*unstructured.Unstructured, len(objects))
	for _, o := range objects {
		k := keyOf(o)
		if _, dup := m[k]; dup {
			t.Fatalf("%s appears twice", k)
		}
		m[k] = o
	}
	return m
}

// find returns the rendered object of that kind and name (in any
// namespace), or nil.
func (r *rendered) find(kind, name string) *unstructured.Unstructured {
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// mustFindIn returns the rendered object of that kind, namespace and name,
// failing the test when there is none.
func (r *rendered) mustFindIn(t *testing.T, kind, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s/%s rendered; rendered: %s", kind, namespace, name, r.keys())
	return nil
}

// mustFind is find for an object that must be there.
func (r *rendered) mustFind(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o := r.find(kind, name)
	if o == nil {
		t.Fatalf("no %s %s rendered; rendered: %s", kind, name, r.keys())
	}
	return o
}

// keys lists the rendered objects, for messages.
func (r *rendered) keys() string {
	names := make([]string, 0, len(r.objects))
	for _, o := range r.objects {
		names = append(names, keyOf(o).String())
	}
	return strings.Join(names, ", ")
}
