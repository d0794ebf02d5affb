// Package version parses and orders kubelet versions.
//
// Kubelets report their version in status.nodeInfo.kubeletVersion as a
// semantic version with a leading "v": v1.37.2, v1.36.3+k3s1,
// v1.30.4-eks-a737599. This package parses exactly the Semantic Versioning
// 2.0.0 grammar (https://semver.org), with an optional leading "v", and
// orders versions by semver precedence.
//
// Precedence ignores build metadata (the +build part), as the spec says.
// AtTarget is the one place where build metadata counts: a target that
// names a build (v1.36.3+k3s1) is only reached by a kubelet reporting that
// exact build.
//
// Note that a distribution suffix written as a pre-release, such as the
// "-eks-a737599" of v1.30.4-eks-a737599, makes the version lower than the
// plain release: v1.30.4-eks-a737599 < v1.30.4. A target for such nodes must
// name the suffix too.
//
// Why not k8s.io/apimachinery/pkg/util/version, which the rest of the
// project would rather use: it accepts leading whitespace (" v1.2.3"), which
// the CRD's targetVersion rule refuses, and it orders pre-release
// identifiers wrongly where semver is exact: a numeric identifier beyond 64
// bits, or one compared with an alphanumeric identifier that sorts before
// the digits in ASCII, falls back to string order (it has 1.0.0-9 after
// 1.0.0--, and 1.0.0-99999999999999999999 after 1.0.0-100000000000000000000,
// both checked against v0.37.2). FuzzParse holds this package to the semver
// grammar, the CRD's rule and a total order; the library would fail it.
//
// The package is pure: no I/O, no global state.
package version
