// Package chart tests the Helm chart in charts/nodewave against what it
// must equal: config/default as kustomize builds it. It renders the chart
// with Helm's own library (what `helm template` and `helm install` run),
// builds config/default with kustomize's (what `kubectl apply -k` runs), and
// compares the CRD, every RBAC object and the manager's Deployment object by
// object. It also lints the chart, checks what each value changes, and
// installs, upgrades and uninstalls the chart on a real kube-apiserver.
//
// It is a module of its own so that Helm and kustomize, and all they pull
// in, stay out of the manager's go.mod. `make test-chart` runs it.
package chart
