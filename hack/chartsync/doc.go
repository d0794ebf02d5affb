// Command chartsync copies what controller-gen generates under config/ into
// the Helm chart at charts/nodewave, so the chart can never drift from it:
//
//   - every CRD of config/crd/bases becomes the template of the same name
//     under templates/crd, behind the chart's crd.enable value, with the
//     chart's labels and, when crd.keep is set,
//     helm.sh/resource-policy: keep;
//   - the manager's ClusterRole and its namespaced Roles of
//     config/rbac/role.yaml (the +kubebuilder:rbac markers) become
//     templates/rbac/role.yaml, named after the release: the Role of
//     namespace "system" in the namespace of the upgrade Jobs, the Role of
//     kube-system (the control-plane checks' pods/exec) in kube-system,
//     behind the controlPlaneChecks.enabled value. A marker naming another
//     namespace fails chartsync (fixedNamespaces in role.go).
//   - config/prometheus/rules.yaml and config/grafana/nodewave-dashboard.json
//     are copied byte for byte to files/prometheus and files/grafana, which
//     the chart's PrometheusRule and dashboard ConfigMap read with .Files.
//
// `make manifests` runs it right after controller-gen, and `make verify`
// fails when its output is not committed. Everything else in the chart is
// written by hand and held equal to config/default by the test module in
// test/chart.
//
// Templates are text: any "{{" in the copied YAML is escaped so that Helm
// renders it back verbatim.
package main
