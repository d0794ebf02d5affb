package gitops

import (
	"context"
	"flag"
	"os"
	"path/filepath"
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
	healthScript = repoRoot + "/config/argocd/health.lua"
	argoCDConfig = repoRoot + "/config/argocd/argocd-cm.yaml"
	// healthKey is where Argo CD looks for the health check of
	// upgrade.nodewave.io/ClusterUpgrade: resource.customizations.health.<group>_<kind>.
	healthKey = "resource.customizations.health.upgrade.nodewave.io_ClusterUpgrade"
)

// health is what an Argo CD health script returns.
type health struct {
	Status, Message string
}

// runHealth runs script on obj the way Argo CD runs a health check from
// argocd-cm: a fresh gopher-lua state with no standard library but
// package, base and table (Argo CD also opens a trimmed os library, which
// the script does not use, so a script that needs it fails here), the
// object as the global obj, a one-second deadline, and the chunk's return
// value as the result.
func runHealth(t *testing.T, script string, obj *unstructured.Unstructured) health {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
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
	h := health{Status: lua.LVAsString(ret.RawGetString("status")), Message: lua.LVAsString(ret.RawGetString("message"))}
	switch h.Status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
	default:
		t.Fatalf("the script returned status %q, which Argo CD turns into Unknown", h.Status)
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

func readScript(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(healthScript)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestArgoCDHealthOfEveryPhase runs the shipped script on each status the
// reconciler recorded, and checks the health and message Argo CD shows.
func TestArgoCDHealthOfEveryPhase(t *testing.T) {
	script := readScript(t)
	for _, p := range phases {
		t.Run(p.fixture, func(t *testing.T) {
			obj := loadFixture(t, p.fixture)
			got := runHealth(t, script, obj)
			if got.Status != p.argo {
				t.Errorf("health %s (%q), want %s", got.Status, got.Message, p.argo)
			}
			want := "Waiting for nodewave to observe generation " + strconv.FormatInt(obj.GetGeneration(), 10)
			if p.message != "" {
				want = conditionMessage(t, obj, p.message)
			}
			if got.Message != want {
				t.Errorf("message %q, want %q", got.Message, want)
			}
		})
	}
}

// TestArgoCDHealthOfEdgeCases covers objects the recorded phases do not:
// no status at all (read before the API server defaulted it), no
// generation, a Stalled condition in a phase that is not Failed, and a
// phase this script does not know.
func TestArgoCDHealthOfEdgeCases(t *testing.T) {
	script := readScript(t)
	progressing := loadFixture(t, "progressing")
	for _, tc := range []struct {
		name         string
		change       func(u *unstructured.Unstructured)
		status, want string
	}{
		{"no status", func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "status") },
			"Progressing", "Waiting for nodewave to observe generation 1"},
		{"no generation", func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "metadata", "generation") },
			"Progressing", "0 of 2 nodes upgraded, 1 in flight, 1 pending"},
		{"Stalled while Progressing", func(u *unstructured.Unstructured) {
			addCondition(u, "Stalled", "True", "BudgetExhausted", "3 selected nodes are unavailable")
		}, "Degraded", "3 selected nodes are unavailable"},
		{"a phase this script does not know", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "Verifying", "status", "phase")
		}, "Progressing", "0 of 2 nodes upgraded, 1 in flight, 1 pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := progressing.DeepCopy()
			tc.change(u)
			if got := runHealth(t, script, u); got.Status != tc.status || got.Message != tc.want {
				t.Fatalf("got %s %q, want %s %q", got.Status, got.Message, tc.status, tc.want)
			}
		})
	}
}

// addCondition appends a condition to u's status.
func addCondition(u *unstructured.Unstructured, conditionType, status, reason, message string) {
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	conditions = append(conditions, map[string]any{
		"type": conditionType, "status": status, "reason": reason, "message": message,
		"observedGeneration": u.GetGeneration(), "lastTransitionTime": "2026-01-01T00:00:00Z",
	})
	_ = unstructured.SetNestedSlice(u.Object, conditions, "status", "conditions")
}

// TestArgoCDConfigMapHoldsTheScript keeps the ready-to-apply argocd-cm
// snippet equal to health.lua, under the key Argo CD reads. Run with
// -update to rewrite the snippet after changing the script.
func TestArgoCDConfigMapHoldsTheScript(t *testing.T) {
	script := readScript(t)
	if *update {
		if err := os.WriteFile(argoCDConfig, argoCDConfigMap(script), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(argoCDConfig)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(data, cm); err != nil {
		t.Fatal(err)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" || cm.Namespace != "argocd" {
		t.Errorf("%s is %s %s %s/%s, want the v1 ConfigMap argocd/argocd-cm", argoCDConfig, cm.APIVersion, cm.Kind, cm.Namespace, cm.Name)
	}
	if cm.Labels["app.kubernetes.io/part-of"] != "argocd" {
		t.Errorf("argocd-cm lacks the label app.kubernetes.io/part-of=argocd that Argo CD selects it by")
	}
	if len(cm.Data) != 1 || cm.Data[healthKey] != script {
		t.Fatalf("%s must hold exactly %s under %s: run `go test ./test/gitops -run TestArgoCDConfigMap -update`",
			argoCDConfig, filepath.Base(healthScript), healthKey)
	}
}

// argoCDConfigMap writes the argocd-cm snippet that holds script.
func argoCDConfigMap(script string) []byte {
	var b strings.Builder
	b.WriteString(`# nodewave's health check for Argo CD: the argocd-cm key Argo CD reads for
# upgrade.nodewave.io/ClusterUpgrade, holding config/argocd/health.lua.
# Written from health.lua by ` + "`go test ./test/gitops -run TestArgoCDConfigMap -update`" + `;
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
