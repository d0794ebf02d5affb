package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	crdDir := flag.String("crd-dir", "config/crd/bases", "Directory of the CRDs controller-gen generates.")
	role := flag.String("role", "config/rbac/role.yaml", "The manager's RBAC as controller-gen generates it.")
	chart := flag.String("chart", "charts/nodewave", "The Helm chart to write into.")
	rules := flag.String("prometheus-rules", "config/prometheus/rules.yaml", "nodewave's PrometheusRule, copied to the chart's files/prometheus.")
	dashboard := flag.String("grafana-dashboard", "config/grafana/nodewave-dashboard.json", "nodewave's Grafana dashboard, copied to the chart's files/grafana.")
	flag.Parse()
	err := run(*crdDir, *role, *chart)
	if err == nil {
		err = copyFiles(*chart, map[string]string{
			*rules:     filepath.Join("files", "prometheus", filepath.Base(*rules)),
			*dashboard: filepath.Join("files", "grafana", filepath.Base(*dashboard)),
		})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chartsync:", err)
		os.Exit(1)
	}
}

// copyFiles copies each source file, byte for byte, to its path under the
// chart (files/...), where templates read it with .Files: the PrometheusRule
// and the Grafana dashboard have one source, under config/.
func copyFiles(chart string, files map[string]string) error {
	for src, dst := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		target := filepath.Join(chart, dst)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := writeIfChanged(target, data); err != nil {
			return err
		}
	}
	return nil
}

// run writes the chart's generated templates, each named as its source: one
// per CRD under templates/crd (removing those of CRDs that no longer exist)
// and templates/rbac/role.yaml.
func run(crdDir, role, chart string) error {
	crdFiles, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(crdFiles) == 0 {
		return fmt.Errorf("no CRD in %s: run controller-gen first", crdDir)
	}
	sort.Strings(crdFiles)
	outDir := filepath.Join(chart, "templates", "crd")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	written := map[string]bool{}
	names := map[string]string{}
	for _, file := range crdFiles {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		name, out, err := crdTemplate(src, filepath.ToSlash(file))
		if err != nil {
			return err
		}
		if other, ok := names[name]; ok {
			return fmt.Errorf("CRD %s is defined twice: in %s and %s", name, other, file)
		}
		names[name] = file
		// Each template is named as its source, so config/ and the chart
		// read side by side.
		target := filepath.Join(outDir, filepath.Base(file))
		written[target] = true
		if err := writeIfChanged(target, out); err != nil {
			return err
		}
	}
	// templates/crd holds generated files only: drop the templates of CRDs
	// that controller-gen no longer generates.
	existing, err := filepath.Glob(filepath.Join(outDir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, file := range existing {
		if !written[file] {
			if err := os.Remove(file); err != nil {
				return err
			}
		}
	}

	src, err := os.ReadFile(role)
	if err != nil {
		return err
	}
	out, err := managerRoleTemplate(src, filepath.ToSlash(role))
	if err != nil {
		return err
	}
	rbacDir := filepath.Join(chart, "templates", "rbac")
	if err := os.MkdirAll(rbacDir, 0o755); err != nil {
		return err
	}
	return writeIfChanged(filepath.Join(rbacDir, filepath.Base(role)), out)
}

// writeIfChanged writes data to path unless the file already holds it, so
// an up-to-date chart keeps its files' times.
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if !strings.HasSuffix(string(data), "\n") {
		data = append(data, '\n')
	}
	return os.WriteFile(path, data, 0o644)
}
