package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Trim returns the CRD of src (one YAML document, as controller-gen writes
// it) with the descriptions under each trim path removed and each drop
// path's field removed, in every version's schema. It is written back as
// controller-gen writes it: a leading "---", keys sorted.
func Trim(src []byte, trim, drop []string) ([]byte, error) {
	var crd map[string]any
	if err := yaml.Unmarshal(src, &crd); err != nil {
		return nil, err
	}
	if crd["kind"] != "CustomResourceDefinition" {
		return nil, fmt.Errorf("want a CustomResourceDefinition, found kind %v", crd["kind"])
	}
	spec, _ := crd["spec"].(map[string]any)
	versions, _ := spec["versions"].([]any)
	if len(versions) == 0 {
		return nil, errors.New("spec.versions is empty")
	}
	for _, v := range versions {
		version, _ := v.(map[string]any)
		name := version["name"]
		schema, ok := nested(version, "schema", "openAPIV3Schema")
		if !ok {
			return nil, fmt.Errorf("version %v has no schema.openAPIV3Schema", name)
		}
		for _, path := range drop {
			if err := dropField(schema, path); err != nil {
				return nil, fmt.Errorf("version %v: -drop %s: %w", name, path, err)
			}
		}
		for _, path := range trim {
			field, err := lookup(schema, strings.Split(path, "."))
			if err != nil {
				return nil, fmt.Errorf("version %v: -trim %s: %w", name, path, err)
			}
			for _, child := range subschemas(field) {
				stripDescriptions(child)
			}
		}
	}
	out, err := yaml.Marshal(crd)
	if err != nil {
		return nil, err
	}
	return append([]byte("---\n"), out...), nil
}

// lookup walks a schema down a field path: each name is a property, and a
// list is gone through by its items.
func lookup(schema map[string]any, path []string) (map[string]any, error) {
	node := schema
	for i, name := range path {
		if items, ok := node["items"].(map[string]any); ok {
			node = items
		}
		props, _ := node["properties"].(map[string]any)
		child, ok := props[name].(map[string]any)
		if !ok {
			where := "the root"
			if i > 0 {
				where = strings.Join(path[:i], ".")
			}
			return nil, fmt.Errorf("no field %q under %s", name, where)
		}
		node = child
	}
	return node, nil
}

// dropField removes the field at path from its parent's properties and
// required list.
func dropField(schema map[string]any, path string) error {
	names := strings.Split(path, ".")
	parent, err := lookup(schema, names[:len(names)-1])
	if err != nil {
		return err
	}
	if items, ok := parent["items"].(map[string]any); ok {
		parent = items
	}
	last := names[len(names)-1]
	props, _ := parent["properties"].(map[string]any)
	if _, ok := props[last]; !ok {
		return fmt.Errorf("no field %q there", last)
	}
	delete(props, last)
	if required, ok := parent["required"].([]any); ok {
		parent["required"] = slices.DeleteFunc(required, func(r any) bool { return r == last })
		if len(parent["required"].([]any)) == 0 {
			delete(parent, "required")
		}
	}
	return nil
}

// stripDescriptions removes the description of a schema and of every
// schema nested in it.
func stripDescriptions(schema map[string]any) {
	delete(schema, "description")
	for _, child := range subschemas(schema) {
		stripDescriptions(child)
	}
}

// subschemas are the schemas directly nested in one: its properties, its
// items, its additionalProperties and its allOf, anyOf, oneOf and not. A
// property called "description" is a field, not a description, which is
// why the walk follows the schema's structure rather than every map.
func subschemas(schema map[string]any) []map[string]any {
	var out []map[string]any
	add := func(v any) {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	if props, ok := schema["properties"].(map[string]any); ok {
		for _, name := range slices.Sorted(maps.Keys(props)) {
			add(props[name])
		}
	}
	add(schema["items"])
	add(schema["additionalProperties"])
	add(schema["not"])
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := schema[key].([]any)
		for _, v := range list {
			add(v)
		}
	}
	return out
}

// nested returns the map at the given keys under m.
func nested(m map[string]any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}
