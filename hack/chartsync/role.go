package main

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// kustomizeNamespace is the placeholder namespace of config/: kustomize
// replaces it with nodewave-system, the chart with the release's.
const kustomizeNamespace = "system"

// fixedNamespaces are the other namespaces the markers may name: a Role
// there keeps its namespace in the chart (as config/default keeps it), and
// is installed only when the chart value named here is true. A marker
// naming any other namespace fails chartsync, so that a new namespaced
// permission is a decision: add it here, with its value, its RoleBinding
// (templates/rbac/role_binding.yaml and config/rbac/role_binding.yaml) and
// a word in docs/security.md.
var fixedNamespaces = map[string]string{
	// pods/exec, to run etcdctl in kubeadm's etcd pods: the etcd quorum
	// check of spec.controlPlane.
	"kube-system": "controlPlaneChecks.enabled",
}

// managerRoleTemplate turns controller-gen's RBAC output (src, read from the
// file from: a ClusterRole and, for the namespaced markers, a Role per
// namespace) into a chart template. The rules are copied as they are; the
// names get the release's prefix. The Role of namespace "system" goes to
// the namespace of the upgrade Jobs, which is where the chart's RoleBinding
// grants it; a Role of one of fixedNamespaces stays in its namespace,
// behind its value.
func managerRoleTemplate(src []byte, from string) ([]byte, error) {
	docs, err := splitDocuments(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no ClusterRole or Role found", from)
	}
	var b strings.Builder
	b.WriteString(generatedHeader(from))
	seen := map[string]bool{}
	for i, doc := range docs {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", from, i+1, err)
		}
		if head.APIVersion != rbacv1.SchemeGroupVersion.String() {
			return nil, fmt.Errorf("%s: document %d: want apiVersion %s, found %q", from, i+1, rbacv1.SchemeGroupVersion, head.APIVersion)
		}
		var (
			name, namespace string
			rules           []rbacv1.PolicyRule
		)
		switch head.Kind {
		case "ClusterRole":
			var role rbacv1.ClusterRole
			if err := yaml.UnmarshalStrict(doc, &role); err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", from, i+1, err)
			}
			if role.AggregationRule != nil {
				return nil, fmt.Errorf("%s: ClusterRole %s: aggregationRule is not supported", from, role.Name)
			}
			name, rules = role.Name, role.Rules
		case "Role":
			var role rbacv1.Role
			if err := yaml.UnmarshalStrict(doc, &role); err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", from, i+1, err)
			}
			if _, fixed := fixedNamespaces[role.Namespace]; role.Namespace != kustomizeNamespace && !fixed {
				return nil, fmt.Errorf("%s: Role %s: metadata.namespace is %q; the chart only knows namespace %q "+
					"(the manager's, where the upgrade Jobs run) and %s (hack/chartsync's fixedNamespaces)",
					from, role.Name, role.Namespace, kustomizeNamespace, strings.Join(sortedKeys(fixedNamespaces), ", "))
			}
			name, namespace, rules = role.Name, role.Namespace, role.Rules
		default:
			return nil, fmt.Errorf("%s: document %d: want kind ClusterRole or Role, found %q", from, i+1, head.Kind)
		}
		if name == "" {
			return nil, fmt.Errorf("%s: %s in document %d: metadata.name is empty", from, head.Kind, i+1)
		}
		key := head.Kind + "/" + name
		if namespace != "" {
			key = head.Kind + "/" + namespace + "/" + name
		}
		if seen[key] {
			return nil, fmt.Errorf("%s: %s appears twice", from, key)
		}
		seen[key] = true
		text, err := marshal(map[string]any{"rules": rules})
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", from, head.Kind, name, err)
		}
		value, fixed := fixedNamespaces[namespace]
		if fixed {
			fmt.Fprintf(&b, "{{- if .Values.%s }}\n", value)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "apiVersion: %s\n", head.APIVersion)
		fmt.Fprintf(&b, "kind: %s\n", head.Kind)
		b.WriteString("metadata:\n")
		fmt.Fprintf(&b, "  name: {{ include \"nodewave.resourceName\" (dict \"suffix\" %q \"context\" $) }}\n", name)
		switch {
		case fixed:
			fmt.Fprintf(&b, "  namespace: %s\n", namespace)
		case namespace != "":
			b.WriteString("  namespace: {{ include \"nodewave.jobNamespace\" . }}\n")
		}
		b.WriteString("  labels:\n")
		b.WriteString(`    {{- include "nodewave.labels" . | nindent 4 }}` + "\n")
		b.WriteString(text)
		if fixed {
			b.WriteString("{{- end }}\n")
		}
	}
	return []byte(b.String()), nil
}

// sortedKeys returns m's keys in order, for messages.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
