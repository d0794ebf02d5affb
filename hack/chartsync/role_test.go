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
		{"a Role in another namespace", strings.Replace(testRole, "namespace: system", "namespace: kube-system", 1),
			`metadata.namespace is "kube-system"; the chart only knows namespace "system"`},
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
