package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunWritesTemplatesAndPrunesStaleCRDs: run writes one template per
// CRD, named as its source, and the role template; it removes the template
// of a CRD that is gone; a second run changes nothing.
func TestRunWritesTemplatesAndPrunesStaleCRDs(t *testing.T) {
	dir := t.TempDir()
	crdDir, chart := filepath.Join(dir, "crd"), filepath.Join(dir, "chart")
	role := filepath.Join(dir, "role.yaml")
	stale := filepath.Join(chart, "templates", "crd", "example.io_gadgets.yaml")
	for path, data := range map[string]string{
		filepath.Join(crdDir, "example.io_widgets.yaml"): testCRD,
		role:  testRole,
		stale: "{{- if .Values.crd.enable }}\n{{- end }}\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(crdDir, role, chart); err != nil {
		t.Fatal(err)
	}
	crdOut := filepath.Join(chart, "templates", "crd", "example.io_widgets.yaml")
	roleOut := filepath.Join(chart, "templates", "rbac", "role.yaml")
	for _, path := range []string{crdOut, roleOut} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s not written: %v", path, err)
		}
		if !strings.Contains(string(data), "DO NOT EDIT") {
			t.Errorf("%s has no generated header", path)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the template of a CRD that is gone is still there (%v)", err)
	}
	before, _ := os.Stat(crdOut)
	if err := run(crdDir, role, chart); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(crdOut); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a second run rewrote an unchanged template")
	}
}

func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	if err := run(filepath.Join(dir, "none"), filepath.Join(dir, "role.yaml"), dir); err == nil ||
		!strings.Contains(err.Error(), "no CRD in") {
		t.Errorf("error %v, want one saying there is no CRD", err)
	}
	crdDir := filepath.Join(dir, "crd")
	if err := os.MkdirAll(crdDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(crdDir, name), []byte(testCRD), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(crdDir, filepath.Join(dir, "role.yaml"), filepath.Join(dir, "chart")); err == nil ||
		!strings.Contains(err.Error(), "CRD widgets.example.io is defined twice") {
		t.Errorf("error %v, want one naming the CRD defined twice", err)
	}
}

// TestCopyFilesCopiesBytes: copyFiles writes each source unchanged under
// the chart, template actions and all, and overwrites a stale copy.
func TestCopyFilesCopiesBytes(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "rules.yaml")
	data := "summary: {{ $labels.node }} is stuck\n"
	if err := os.WriteFile(src, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(dir, "chart")
	dst := filepath.Join("files", "prometheus", "rules.yaml")
	for range 2 {
		if err := copyFiles(chart, map[string]string{src: dst}); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chart, dst))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != data {
			t.Errorf("copied %q, want %q", got, data)
		}
		if err := os.WriteFile(filepath.Join(chart, dst), []byte("stale\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
