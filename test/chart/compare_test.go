package chart

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// naming maps the chart's release-based names to config/default's.
type naming struct {
	// fullname is the chart's prefix, e.g. "staging-nodewave".
	fullname string
	// namespace is the release namespace.
	namespace string
}

// name maps "<fullname>-x" to "nodewave-x"; other names (the CRD's) are
// the same in both.
func (n naming) name(name string) string {
	if rest, ok := strings.CutPrefix(name, n.fullname+"-"); ok {
		return kustomizePrefix + rest
	}
	return name
}

// ns maps the release namespace to config/default's.
func (n naming) ns(namespace string) string {
	if namespace == n.namespace {
		return kustomizeNamespace
	}
	return namespace
}

// toKustomize returns a copy of a rendered object with every name that
// refers to one of the release's objects renamed as config/default names
// it: its own name and namespace, a binding's roleRef and subjects, the
// Deployment's serviceAccountName.
func (n naming) toKustomize(o *unstructured.Unstructured) *unstructured.Unstructured {
	c := o.DeepCopy()
	if c.GetKind() == "Namespace" {
		c.SetName(n.ns(c.GetName()))
	} else {
		c.SetName(n.name(c.GetName()))
	}
	c.SetNamespace(n.ns(c.GetNamespace()))
	if ref, ok := c.Object["roleRef"].(map[string]any); ok {
		if name, ok := ref["name"].(string); ok {
			ref["name"] = n.name(name)
		}
	}
	if subjects, ok := c.Object["subjects"].([]any); ok {
		for _, s := range subjects {
			subject, ok := s.(map[string]any)
			if !ok {
				continue
			}
			if name, ok := subject["name"].(string); ok {
				subject["name"] = n.name(name)
			}
			if namespace, ok := subject["namespace"].(string); ok {
				subject["namespace"] = n.ns(namespace)
			}
		}
	}
	if sa, ok := c.GetAnnotations()[serviceAccountNameAnnotation]; ok {
		annotations := c.GetAnnotations()
		annotations[serviceAccountNameAnnotation] = n.name(sa)
		c.SetAnnotations(annotations)
	}
	// A ServiceMonitor's credentials Secret.
	if endpoints, ok, _ := unstructured.NestedSlice(c.Object, "spec", "endpoints"); ok {
		for _, e := range endpoints {
			endpoint, _ := e.(map[string]any)
			if name, ok, _ := unstructured.NestedString(endpoint, "authorization", "credentials", "name"); ok {
				_ = unstructured.SetNestedField(endpoint, n.name(name), "authorization", "credentials", "name")
			}
		}
		_ = unstructured.SetNestedSlice(c.Object, endpoints, "spec", "endpoints")
	}
	if c.GetKind() == "PrometheusRule" {
		// NodewaveManagerDown's job is the metrics Service's name.
		if spec, ok := c.Object["spec"]; ok {
			c.Object["spec"] = replaceStrings(spec, n.fullname+"-controller-manager-metrics-service", n.name(n.fullname+"-controller-manager-metrics-service"))
		}
	}
	if sa, ok, _ := unstructured.NestedString(c.Object, "spec", "template", "spec", "serviceAccountName"); ok {
		_ = unstructured.SetNestedField(c.Object, n.name(sa), "spec", "template", "spec", "serviceAccountName")
	}
	return c
}

// serviceAccountNameAnnotation names the ServiceAccount of a token Secret.
const serviceAccountNameAnnotation = "kubernetes.io/service-account.name"

// replaceStrings replaces old with new in every string of an unstructured
// value.
func replaceStrings(v any, old, new string) any {
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, old, new)
	case map[string]any:
		for k, e := range v {
			v[k] = replaceStrings(e, old, new)
		}
	case []any:
		for i, e := range v {
			v[i] = replaceStrings(e, old, new)
		}
	}
	return v
}

// labelSets are the label maps that the chart may extend but must keep:
// its selectors add app.kubernetes.io/instance, its labels Helm's own.
var labelSets = map[string][][]string{
	"":           {{"metadata", "labels"}},
	"Deployment": {{"spec", "selector", "matchLabels"}, {"spec", "template", "metadata", "labels"}},
	"Service":    {{"spec", "selector"}},
	// The optional pieces' selectors of the manager's pods and Service.
	"NetworkPolicy":  {{"spec", "podSelector", "matchLabels"}},
	"ServiceMonitor": {{"spec", "selector", "matchLabels"}},
}

// ignoredLabels may differ: config/ says managed-by kustomize, the chart Helm.
var ignoredLabels = map[string]bool{"app.kubernetes.io/managed-by": true}

// missingEntries lists the entries of want that got lacks or changes, at
// each label set of the object's kind and in metadata.annotations.
func missingEntries(want, got *unstructured.Unstructured) []string {
	paths := append([][]string{{"metadata", "annotations"}}, labelSets[""]...)
	paths = append(paths, labelSets[want.GetKind()]...)
	var problems []string
	for _, path := range paths {
		w, _, _ := unstructured.NestedStringMap(want.Object, path...)
		g, _, _ := unstructured.NestedStringMap(got.Object, path...)
		for k, v := range w {
			if ignoredLabels[k] && path[len(path)-1] == "labels" {
				continue
			}
			if gv, ok := g[k]; !ok || gv != v {
				problems = append(problems, fmt.Sprintf("%s: %s=%q, want %q", strings.Join(path, "."), k, gv, v))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// comparable is the part of an object that must be equal in the chart and
// in config/default: everything but the label sets and annotations
// (checked by missingEntries), with RBAC rules as the set of permissions
// they grant, so equal grants in another order or grouping compare equal.
func comparable(o *unstructured.Unstructured) map[string]any {
	c := o.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
	for _, path := range append(labelSets[""], labelSets[o.GetKind()]...) {
		unstructured.RemoveNestedField(c.Object, path...)
	}
	if rules, ok := c.Object["rules"].([]any); ok {
		c.Object["rules"] = permissions(rules)
	}
	return c.Object
}

// permissions expands RBAC rules into one string per permission granted,
// sorted and without duplicates: "group/resource[/name] verb" or
// "url verb".
func permissions(rules []any) []any {
	set := map[string]bool{}
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		verbs := strs(rule["verbs"])
		for _, url := range strs(rule["nonResourceURLs"]) {
			for _, verb := range verbs {
				set[url+" "+verb] = true
			}
		}
		names := strs(rule["resourceNames"])
		if len(names) == 0 {
			names = []string{""}
		}
		for _, group := range strs(rule["apiGroups"]) {
			for _, resource := range strs(rule["resources"]) {
				for _, name := range names {
					for _, verb := range verbs {
						p := group + "/" + resource
						if name != "" {
							p += "/" + name
						}
						set[p+" "+verb] = true
					}
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	anys := make([]any, len(out))
	for i, p := range out {
		anys[i] = p
	}
	return anys
}

// strs reads a list of strings from an unstructured value.
func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
