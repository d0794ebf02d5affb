package gitops

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite config/argocd/argocd-cm.yaml from health.lua")

const (
	// customizations is laid out as Argo CD's own resource_customizations
	// directory: <group>/<kind>/health.lua beside health_test.yaml.
	customizations = repoRoot + "/config/argocd/resource_customizations"
	healthScript   = healthDir + "/health.lua"
	argoCDConfig   = repoRoot + "/config/argocd/argocd-cm.yaml"
	// healthKey is where Argo CD looks for the health check of
	// upgrade.nodewave.io/ClusterUpgrade: resource.customizations.health.<group>_<kind>.
	healthKey = "resource.customizations.health.upgrade.nodewave.io_ClusterUpgrade"
	// updateCommand rewrites argocd-cm.yaml; test/gitops is a module of
	// its own, so it runs from its directory.
	updateCommand = "cd test/gitops && go test -run TestArgoCDConfigMap -update"
)

// health is what an Argo CD health script returns, as Argo CD's
// health.HealthStatus reads it.
type health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// healthTests is a health_test.yaml, in Argo CD's format: each case names
// an object under testdata and the health the script must give it.
type healthTests struct {
	Tests []struct {
		HealthStatus health `json:"healthStatus"`
		InputPath    string `json:"inputPath"`
	} `json:"tests"`
}

// healthCase is one case of a health_test.yaml.
type healthCase struct {
	name   string // <group>/<kind>/<inputPath>, as Argo CD's test names it
	dir    string // the directory of health.lua
	input  string // inputPath, relative to dir
	expect health
}

// collectHealthCases reads every health_test.yaml beside a health.lua
// under customizations, as Argo CD's TestLuaHealthScript
// (util/lua/health_test.go) does, but strictly: an unknown key, a case
// without a status or an input outside testdata/ fails here rather than
// being skipped.
func collectHealthCases(t *testing.T) []healthCase {
	t.Helper()
	var cases []healthCase
	err := filepath.WalkDir(customizations, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "health.lua" {
			return err
		}
		dir := filepath.Dir(path)
		data, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
		if err != nil {
			return err
		}
		var file healthTests
		if err := yaml.UnmarshalStrict(data, &file); err != nil {
			t.Fatalf("%s/health_test.yaml: %v", dir, err)
		}
		prefix, err := filepath.Rel(customizations, dir)
		if err != nil {
			return err
		}
		for i, tc := range file.Tests {
			if tc.HealthStatus.Status == "" || !strings.HasPrefix(tc.InputPath, "testdata/") {
				t.Fatalf("%s/health_test.yaml: tests[%d]: healthStatus.status %q, inputPath %q: want a status and an input under testdata/",
					dir, i, tc.HealthStatus.Status, tc.InputPath)
			}
			cases = append(cases, healthCase{
				name: filepath.ToSlash(filepath.Join(prefix, tc.InputPath)), dir: dir, input: tc.InputPath, expect: tc.HealthStatus,
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("no health_test.yaml case under %s", customizations)
	}
	return cases
}

// luaLibraries are the two ways Argo CD runs a health script. From
// argocd-cm (how users install it today) it opens only the package, base
// and table libraries and a trimmed os, which this test leaves out, so a
// script that needs os fails here; a built-in script of
// resource_customizations (once upstream) gets every standard library.
var luaLibraries = map[string]bool{"argocd-cm": false, "built-in": true}

// runHealth runs script on obj the way Argo CD's util/lua runs a health
// check: a fresh gopher-lua state (openLibs: with the standard library),
// the package, base and table libraries opened, the object as the global
// obj, a one-second deadline, and the chunk's return value as the result;
// a status Argo CD does not know becomes Unknown, as Argo CD makes it.
func runHealth(t *testing.T, script string, obj *unstructured.Unstructured, openLibs bool) health {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: !openLibs})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(script); err != nil {
		t.Fatalf("the script failed: %v", err)
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the script returned %s, not a table", l.Get(-1).Type())
	}
	var h health
	for field, into := range map[string]*string{"status": &h.Status, "message": &h.Message} {
		switch v := ret.RawGetString(field).(type) {
		case lua.LString:
			*into = string(v)
		case *lua.LNilType:
		default:
			t.Fatalf("the script returned a %s as %s, not a string", v.Type(), field)
		}
	}
	switch h.Status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
	default:
		return health{Status: "Unknown", Message: "Lua returned an invalid health status"}
	}
	return h
}

// toLua converts an unstructured value as Argo CD does: maps to tables,
// slices to arrays, every number (int64 from the API server) to a number.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	}
	return lua.LNil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestArgoCDHealthTests runs every case of every health_test.yaml, as
// Argo CD's own test runs its resource_customizations: the health.lua
// beside it on the input, status and message compared, under both ways
// Argo CD runs a script.
func TestArgoCDHealthTests(t *testing.T) {
	for _, tc := range collectHealthCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			script := readFile(t, filepath.Join(tc.dir, "health.lua"))
			obj := decodeObject(t, []byte(readFile(t, filepath.Join(tc.dir, tc.input))))
			for libs, open := range luaLibraries {
				if got := runHealth(t, script, obj, open); got != tc.expect {
					t.Errorf("%s: got %s %q, want %s %q", libs, got.Status, got.Message, tc.expect.Status, tc.expect.Message)
				}
			}
		})
	}
}

// TestArgoCDHealthTestsReadEveryInput keeps health_test.yaml and testdata
// together: each file of testdata is the input of exactly one case, so a
// fixture recorded for a new phase cannot go untested, and is a
// ClusterUpgrade the API types describe, hand-written edge cases included.
func TestArgoCDHealthTestsReadEveryInput(t *testing.T) {
	var inputs []string
	for _, tc := range collectHealthCases(t) {
		if tc.dir == healthDir {
			inputs = append(inputs, tc.input)
		}
	}
	files, err := filepath.Glob(filepath.Join(healthDir, "testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel := "testdata/" + filepath.Base(f)
		typed(t, decodeObject(t, []byte(readFile(t, f))))
		if n := len(slices.DeleteFunc(slices.Clone(inputs), func(in string) bool { return in != rel })); n != 1 {
			t.Errorf("%s is the input of %d cases of health_test.yaml, want 1", rel, n)
		}
	}
	if len(inputs) != len(files) {
		t.Errorf("health_test.yaml has %d cases for %d files of testdata", len(inputs), len(files))
	}
}

// TestArgoCDShowsTheConditionMessage checks health_test.yaml's messages
// for the recorded phases against the objects: Argo CD shows the Stalled
// condition's message when there is one, else Ready's, or, before
// nodewave has seen the current spec, that it waits for it. A re-recorded
// fixture whose message changed fails here, naming the case to update.
func TestArgoCDShowsTheConditionMessage(t *testing.T) {
	expect := map[string]health{}
	for _, tc := range collectHealthCases(t) {
		if tc.dir == healthDir {
			expect[tc.input] = tc.expect
		}
	}
	for _, p := range phases {
		t.Run(p.fixture, func(t *testing.T) {
			obj := loadFixture(t, p.fixture)
			want := "Waiting for nodewave to observe generation " + strconv.FormatInt(obj.GetGeneration(), 10)
			if p.message != "" {
				want = conditionMessage(t, obj, p.message)
			}
			input := "testdata/" + p.fixture + ".yaml"
			got, ok := expect[input]
			if !ok {
				t.Fatalf("health_test.yaml has no case for %s", input)
			}
			if got.Message != want {
				t.Errorf("health_test.yaml expects message %q for %s, but its %s says %q", got.Message, input,
					or(p.message, "generation"), want)
			}
		})
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestArgoCDConfigMapHoldsTheScript keeps the ready-to-apply argocd-cm
// snippet equal, byte for byte, to what argoCDConfigMap writes from
// health.lua: the script under the key Argo CD reads, and nothing else.
// Run with -update to rewrite the snippet after changing the script.
func TestArgoCDConfigMapHoldsTheScript(t *testing.T) {
	script := readFile(t, healthScript)
	want := argoCDConfigMap(script)
	if *update {
		if err := os.WriteFile(argoCDConfig, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := readFile(t, argoCDConfig)
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict([]byte(data), cm); err != nil {
		t.Fatal(err)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" || cm.Namespace != "argocd" {
		t.Errorf("%s is %s %s %s/%s, want the v1 ConfigMap argocd/argocd-cm", argoCDConfig, cm.APIVersion, cm.Kind, cm.Namespace, cm.Name)
	}
	if cm.Labels["app.kubernetes.io/part-of"] != "argocd" {
		t.Errorf("argocd-cm lacks the label app.kubernetes.io/part-of=argocd that Argo CD selects it by")
	}
	if len(cm.Data) != 1 || cm.Data[healthKey] != script {
		t.Fatalf("%s must hold exactly %s under %s: run `%s`", argoCDConfig, healthScript, healthKey, updateCommand)
	}
	if data != string(want) {
		t.Fatalf("%s is not what the test writes from %s: run `%s`", argoCDConfig, healthScript, updateCommand)
	}
}

// argoCDConfigMap writes the argocd-cm snippet that holds script.
func argoCDConfigMap(script string) []byte {
	var b strings.Builder
	b.WriteString(`# nodewave's health check for Argo CD: the argocd-cm key Argo CD reads for
# upgrade.nodewave.io/ClusterUpgrade, holding
# config/argocd/resource_customizations/upgrade.nodewave.io/ClusterUpgrade/health.lua.
# Written from health.lua by ` + "`" + updateCommand + "`" + `;
# do not edit by hand. Merge it into your Argo CD's argocd-cm (docs/gitops.md):
#   kubectl apply --server-side --field-manager=nodewave -f config/argocd/argocd-cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
  ` + healthKey + `: |
`)
	for _, line := range strings.SplitAfter(script, "\n") {
		if line == "" {
			continue
		}
		if line == "\n" {
			b.WriteString(line)
			continue
		}
		b.WriteString("    " + line)
	}
	return []byte(b.String())
}
