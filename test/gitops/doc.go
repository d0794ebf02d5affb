// Package gitops tests what nodewave ships for GitOps tools: the Argo CD
// health check (config/argocd/resource_customizations, in Argo CD's own
// layout: every case of its health_test.yaml is run, as Argo CD's test
// runs them, and config/argocd/argocd-cm.yaml is checked against it), the
// Flux example (config/flux), and how kstatus reads the ClusterUpgrade
// statuses that the reconciler wrote (the health check's testdata,
// recorded by internal/controller's GitOps spec). It has no code of its
// own and is a module of its own, so that gopher-lua, the Flux API types
// and kustomize stay out of the manager's go.mod; docs/gitops.md is the
// page for users.
package gitops
