package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// validation lists what admission checks about one field, in the order a
// reader looks for it: required, the allowed values, bounds, list and map
// semantics, then the field's own CEL rules.
func validation(s *apiextensionsv1.JSONSchemaProps, required bool) []string {
	var out []string
	if required {
		out = append(out, "required")
	}
	if len(s.Enum) > 0 {
		values := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			values = append(values, jsonValue(e.Raw))
		}
		out = append(out, "one of "+codeList(values))
	}
	if s.Pattern != "" {
		out = append(out, "pattern `"+escapeCell(s.Pattern)+"`")
	}
	if s.Minimum != nil {
		out = append(out, bound(">", s.ExclusiveMinimum)+" "+number(*s.Minimum))
	}
	if s.Maximum != nil {
		out = append(out, bound("<", s.ExclusiveMaximum)+" "+number(*s.Maximum))
	}
	if s.MultipleOf != nil {
		out = append(out, "multiple of "+number(*s.MultipleOf))
	}
	out = appendCount(out, s.MinLength, s.MaxLength, "character", "characters")
	out = appendCount(out, s.MinItems, s.MaxItems, "item", "items")
	out = appendCount(out, s.MinProperties, s.MaxProperties, "entry", "entries")
	if s.UniqueItems {
		out = append(out, "items unique")
	}
	switch {
	case s.XListType != nil && *s.XListType == "map":
		out = append(out, "one entry per "+codeList(s.XListMapKeys))
	case s.XListType != nil && *s.XListType == "set":
		out = append(out, "items unique")
	}
	for _, rule := range s.XValidations {
		if !namesField(s, rule) {
			out = append(out, escapeCell(escapeText(ruleText(rule))))
		}
	}
	return out
}

// appendCount adds "at least N <unit>" and "at most M <unit>", with the
// unit's singular form (one) for 1 and its plural (many) otherwise.
func appendCount(out []string, minimum, maximum *int64, one, many string) []string {
	unit := func(n int64) string {
		if n == 1 {
			return one
		}
		return many
	}
	if minimum != nil && *minimum > 0 {
		out = append(out, fmt.Sprintf("at least %d %s", *minimum, unit(*minimum)))
	}
	if maximum != nil {
		out = append(out, fmt.Sprintf("at most %d %s", *maximum, unit(*maximum)))
	}
	return out
}

func bound(op string, exclusive bool) string {
	if exclusive {
		return op
	}
	return op + "="
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// ruleText is how a CEL rule reads in the reference: its message, or the
// rule itself when it has none.
func ruleText(r apiextensionsv1.ValidationRule) string {
	if r.Message != "" {
		return r.Message
	}
	return "`" + r.Rule + "`"
}

// defaultOf is the field's default as it would be written in YAML.
func defaultOf(s *apiextensionsv1.JSONSchemaProps) string {
	if s.Default == nil {
		return ""
	}
	return "`" + escapeCell(jsonValue(s.Default.Raw)) + "`"
}

// jsonValue writes a JSON value as YAML would show it: strings unquoted.
func jsonValue(raw []byte) string {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	return string(raw)
}

func codeList(values []string) string {
	quoted := make([]string, 0, len(values))
	for _, v := range values {
		quoted = append(quoted, "`"+escapeCell(v)+"`")
	}
	return strings.Join(quoted, ", ")
}

// cell makes a description fit one table cell: wrapped lines joined,
// paragraphs kept apart with line breaks.
func cell(desc string) string {
	return escapeCell(strings.ReplaceAll(paragraphs(desc), "\n\n", "<br><br>"))
}

// paragraphs joins the wrapped lines of each paragraph of a Go doc comment,
// and escapes what Markdown would take for markup.
func paragraphs(desc string) string {
	split := strings.Split(strings.TrimSpace(desc), "\n\n")
	paras := make([]string, 0, len(split))
	for _, p := range split {
		paras = append(paras, escapeText(strings.Join(strings.Fields(p), " ")))
	}
	return strings.Join(paras, "\n\n")
}

// escapeText escapes <, > and * outside code spans, so that text such as
// "<node>" or "example.com/*" reads as written.
func escapeText(s string) string {
	parts := strings.Split(s, "`")
	for i := 0; i < len(parts); i += 2 {
		parts[i] = strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", `\*`).Replace(parts[i])
	}
	return strings.Join(parts, "`")
}

// escapeCell escapes the pipes that would end a table cell (also inside
// code spans, as GitHub's tables require).
func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
