package chart

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The manager may exec into pods in kube-system only: the etcd quorum check
// of spec.controlPlane runs etcdctl in kubeadm's etcd pods, and exec
// anywhere else would let it run commands in any workload
// (docs/security.md). These checks read the RBAC objects themselves, so
// they hold for config/default and for the chart alike; the SubjectAccess
// Reviews of TestHelmOnAnAPIServer and of the end-to-end suite ask the
// API server's authorizer the same.

// grantsExec reports whether an RBAC rule grants any verb on pods/exec,
// wildcards included.
func grantsExec(rule map[string]any) bool {
	groups, resources := strs(rule["apiGroups"]), strs(rule["resources"])
	if !slices.Contains(groups, "") && !slices.Contains(groups, "*") {
		return false
	}
	if len(strs(rule["verbs"])) == 0 {
		return false
	}
	return slices.Contains(resources, "pods/exec") || slices.Contains(resources, "pods/*") ||
		slices.Contains(resources, "*") || slices.Contains(resources, "*/exec")
}

// execGrants lists the Roles and ClusterRoles among objects that grant
// pods/exec, as "Kind namespace/name".
func execGrants(objects []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objects {
		if o.GetKind() != "Role" && o.GetKind() != "ClusterRole" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
		for _, r := range rules {
			if rule, ok := r.(map[string]any); ok && grantsExec(rule) {
				out = append(out, keyOf(o).String())
				break
			}
		}
	}
	return out
}

// execOnlyInKubeSystem returns what is wrong with the pods/exec that
// objects grant, given the manager's ServiceAccount (namespace, name): no
// ClusterRole and no Role outside kube-system may grant it, and a Role in
// kube-system that does must be bound to the manager by a RoleBinding
// there. No problem when nothing grants it (controlPlaneChecks off).
func execOnlyInKubeSystem(objects []*unstructured.Unstructured, namespace, name string) []string {
	var problems []string
	for _, grant := range execGrants(objects) {
		kind, rest, _ := strings.Cut(grant, " ")
		roleNamespace, roleName, namespaced := strings.Cut(rest, "/")
		if kind != "Role" || !namespaced || roleNamespace != "kube-system" {
			problems = append(problems, fmt.Sprintf("%s grants pods/exec; only a Role of kube-system may", grant))
			continue
		}
		if !boundTo(objects, roleNamespace, roleName, namespace, name) {
			problems = append(problems, fmt.Sprintf("%s grants pods/exec but no RoleBinding of kube-system grants it to ServiceAccount %s/%s",
				grant, namespace, name))
		}
	}
	return problems
}

// boundTo reports whether a RoleBinding in roleNamespace binds the Role
// roleName there to the ServiceAccount namespace/name.
func boundTo(objects []*unstructured.Unstructured, roleNamespace, roleName, namespace, name string) bool {
	for _, o := range objects {
		if o.GetKind() != "RoleBinding" || o.GetNamespace() != roleNamespace {
			continue
		}
		if kind, _, _ := unstructured.NestedString(o.Object, "roleRef", "kind"); kind != "Role" {
			continue
		}
		if ref, _, _ := unstructured.NestedString(o.Object, "roleRef", "name"); ref != roleName {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for _, s := range subjects {
			subject, _ := s.(map[string]any)
			if subject["kind"] == "ServiceAccount" && subject["namespace"] == namespace && subject["name"] == name {
				return true
			}
		}
	}
	return false
}

// TestExecOnlyInKubeSystem: config/default and the chart (two releases)
// grant the manager pods/exec in kube-system and nowhere else; and the
// check fails when a role grants it elsewhere, with a wildcard included,
// or when the kube-system Role is not bound to the manager.
func TestExecOnlyInKubeSystem(t *testing.T) {
	kustomized := kustomizeDefault(t)
	for _, tc := range []struct {
		name               string
		objects            []*unstructured.Unstructured
		namespace, account string
	}{
		{"config/default", kustomized, "nodewave-system", "nodewave-controller-manager"},
		{"chart, release nodewave", render(t, "nodewave", "nodewave-system", nil).objects, "nodewave-system", "nodewave-controller-manager"},
		{"chart, release staging in ops", render(t, "staging", "ops", nil).objects, "ops", "staging-nodewave-controller-manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := execGrants(tc.objects); len(got) != 1 {
				t.Errorf("roles granting pods/exec: %v, want the kube-system Role alone", got)
			}
			for _, p := range execOnlyInKubeSystem(tc.objects, tc.namespace, tc.account) {
				t.Error(p)
			}
		})
	}

	// The check can fail.
	addRule := func(kind, namespace, name string, rule map[string]any) func([]*unstructured.Unstructured) {
		return func(objects []*unstructured.Unstructured) {
			for _, o := range objects {
				if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
					rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
					_ = unstructured.SetNestedSlice(o.Object, append(rules, rule), "rules")
					return
				}
			}
			t.Fatalf("config/default has no %s %s/%s", kind, namespace, name)
		}
	}
	execRule := func(resource string) map[string]any {
		return map[string]any{"apiGroups": []any{""}, "resources": []any{resource}, "verbs": []any{"create"}}
	}
	for _, tc := range []struct {
		name   string
		change func([]*unstructured.Unstructured)
		want   string
	}{
		{"pods/exec in the ClusterRole", addRule("ClusterRole", "", "nodewave-manager-role", execRule("pods/exec")),
			"ClusterRole nodewave-manager-role grants pods/exec"},
		{"pods/* in the Job Role", addRule("Role", "nodewave-system", "nodewave-manager-role", execRule("pods/*")),
			"Role nodewave-system/nodewave-manager-role grants pods/exec"},
		{"every resource in the leader election Role", addRule("Role", "nodewave-system", "nodewave-leader-election-role", execRule("*")),
			"Role nodewave-system/nodewave-leader-election-role grants pods/exec"},
		{"the kube-system Role unbound", func(objects []*unstructured.Unstructured) {
			for _, o := range objects {
				if o.GetKind() == "RoleBinding" && o.GetNamespace() == "kube-system" {
					_ = unstructured.SetNestedField(o.Object, "someone-else", "roleRef", "name")
				}
			}
		}, "no RoleBinding of kube-system grants it to ServiceAccount nodewave-system/nodewave-controller-manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objects := make([]*unstructured.Unstructured, len(kustomized))
			for i, o := range kustomized {
				objects[i] = o.DeepCopy()
			}
			tc.change(objects)
			problems := execOnlyInKubeSystem(objects, "nodewave-system", "nodewave-controller-manager")
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("problems %q, want one containing %q", problems, tc.want)
			}
		})
	}
}
