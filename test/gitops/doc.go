// Package gitops tests what nodewave ships for GitOps tools: the Argo CD
// health check (config/argocd), the Flux example (config/flux), and how
// kstatus reads the ClusterUpgrade statuses that the reconciler wrote
// (testdata, recorded by internal/controller's GitOps spec). It has no code
// of its own; docs/gitops.md is the page for users.
package gitops
