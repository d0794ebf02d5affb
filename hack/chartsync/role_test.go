package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// testRole is RBAC as controller-gen writes it for cluster-wide and
// namespaced markers.
const testRole = `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: manager-role
rules:
- apiGroups:
  - ""
  resources:
  - nodes
  verbs:
  - get
  - patch
- nonResourceURLs:
  - /healthz
  verbs:
  - get
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: manager-role
  namespace: system
rules:
- apiGroups:
  - batch
  resources:
  - jobs
  resourceNames:
  - one
  verbs:
  - create
`

// testKubeSystemRole is the Role controller-gen writes for a marker with
// namespace=kube-system, the control-plane checks'.
const testKubeSystemRole = `---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: manager-role
  namespace: kube-system
rules:
- apiGroups:
  - ""
  resources:
  - pods/exec
  verbs:
  - create
  - get
`

// TestManagerRoleTemplateKubeSystem: the Role of kube-system keeps its
// namespace and its name (the Job Role's, in another namespace), and the
// chart renders it only with controlPlaneChecks.enabled; the other roles
// render either way.
func TestManagerRoleTemplateKubeSystem(t *testing.T) {
	// controller-gen writes the Roles in the order of their namespaces.
	src := testRole[:strings.Index(testRole, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n")] +
		testKubeSystemRole + testRole[strings.Index(testRole, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"):]
	out, err := managerRoleTemplate([]byte(src), "config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	source, err := splitDocuments([]byte(testKubeSystemRole))
	if err != nil {
		t.Fatal(err)
	}
	var want rbacv1.Role
	if err := yaml.UnmarshalStrict(source[0], &want); err != nil {
		t.Fatal(err)
	}
	for _, enabled := range []bool{true, false} {
		rendered := execute(t, string(out), map[string]any{"controlPlaneChecks": map[string]any{"enabled": enabled}})
		docs, err := splitDocuments([]byte(rendered))
		if err != nil {
			t.Fatal(err)
		}
		namespaces := map[string]rbacv1.Role{}
		kinds := make([]string, 0, len(docs))
		for _, doc := range docs {
			var role rbacv1.Role
			if err := yaml.Unmarshal(doc, &role); err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			kinds = append(kinds, role.Kind)
			if role.Kind == "Role" {
				namespaces[role.Namespace] = role
			}
		}
		wantKinds := []string{"ClusterRole", "Role", "Role"}
		if !enabled {
			wantKinds = wantKinds[:2]
		}
		if diff := cmp.Diff(wantKinds, kinds); diff != "" {
			t.Errorf("controlPlaneChecks.enabled=%v: kinds rendered (-want +got):\n%s\n%s", enabled, diff, rendered)
		}
		if _, ok := namespaces["jobs"]; !ok {
			t.Errorf("controlPlaneChecks.enabled=%v: no Role in the Job namespace:\n%s", enabled, rendered)
		}
		role, ok := namespaces["kube-system"]
		if ok != enabled {
			t.Errorf("controlPlaneChecks.enabled=%v: a Role in kube-system rendered: %v\n%s", enabled, ok, rendered)
		}
		if !ok {
			continue
		}
		if diff := cmp.Diff(want.Rules, role.Rules); diff != "" {
			t.Errorf("kube-system Role rules (-source +rendered):\n%s", diff)
		}
		if role.Name != "test-nodewave-manager-role" || role.Labels["app.kubernetes.io/instance"] != "test" {
			t.Errorf("kube-system Role %q with labels %v, want the chart's name and labels", role.Name, role.Labels)
		}
	}
}

func TestManagerRoleTemplate(t *testing.T) {
	out, err := managerRoleTemplate([]byte(testRole), "config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rendered := execute(t, string(out), nil)
	docs, err := splitDocuments([]byte(rendered))
	if err != nil {
		t.Fatal(err)
	}
	source, err := splitDocuments([]byte(testRole))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("rendered %d documents, want 2:\n%s", len(docs), rendered)
	}
	var clusterRole, wantClusterRole rbacv1.ClusterRole
	var role, wantRole rbacv1.Role
	for _, step := range []struct {
		doc []byte
		out any
	}{{docs[0], &clusterRole}, {source[0], &wantClusterRole}, {docs[1], &role}, {source[1], &wantRole}} {
		if err := yaml.UnmarshalStrict(step.doc, step.out); err != nil {
			t.Fatalf("%v\n%s", err, step.doc)
		}
	}
	if diff := cmp.Diff(wantClusterRole.Rules, clusterRole.Rules); diff != "" {
		t.Errorf("ClusterRole rules (-source +rendered):\n%s", diff)
	}
	if diff := cmp.Diff(wantRole.Rules, role.Rules); diff != "" {
		t.Errorf("Role rules (-source +rendered):\n%s", diff)
	}
	// Names come from the chart's helper; the Role follows the Jobs.
	if clusterRole.Name != "test-nodewave-manager-role" || role.Name != "test-nodewave-manager-role" {
		t.Errorf("names %q, %q, want the chart's", clusterRole.Name, role.Name)
	}
	if role.Namespace != "jobs" {
		t.Errorf("Role in namespace %q, want the Job namespace", role.Namespace)
	}
	if clusterRole.Labels["app.kubernetes.io/instance"] != "test" {
		t.Errorf("ClusterRole labels %v, want the chart's", clusterRole.Labels)
	}
	if !strings.Contains(string(out), `"suffix" "manager-role"`) {
		t.Errorf("the name suffix is not the source's name:\n%s", out)
	}
}

func TestManagerRoleTemplateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "", "no ClusterRole or Role found"},
		{"another kind", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: x\n", `found "RoleBinding"`},
		{"another apiVersion", "apiVersion: v1\nkind: ClusterRole\nmetadata:\n  name: x\n", `found "v1"`},
		{"a Role in another namespace", strings.Replace(testRole, "namespace: system", "namespace: default", 1),
			`metadata.namespace is "default"; the chart only knows namespace "system" (the manager's, where the upgrade Jobs run) and kube-system`},
		{"the same Role twice in kube-system", testKubeSystemRole + testKubeSystemRole, "Role/kube-system/manager-role appears twice"},
		{"the same role twice", testRole + "---\n" + testRole[4:], "ClusterRole/manager-role appears twice"},
		{"no name", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {}\n", "metadata.name is empty"},
		{"an unknown field", strings.Replace(testRole, "rules:", "rulez: []\nrules:", 1), "rulez"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := managerRoleTemplate([]byte(tc.src), "role.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
