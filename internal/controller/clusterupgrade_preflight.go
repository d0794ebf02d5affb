package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/version"
)

// blocker is why a ClusterUpgrade cannot proceed until a human acts: it
// becomes Stalled=True with reason and message, and no node is touched.
type blocker struct {
	reason, message string
	// requeueAfter re-checks a blocker that the world may lift by itself
	// without an event we watch (the API server being upgraded).
	requeueAfter time.Duration
}

// ServerVersionFunc reports the API server's version (its /version
// gitVersion).
type ServerVersionFunc func() (string, error)

// serverVersionRecheck is how often a VersionSkew blocker is re-checked:
// the API server's upgrade produces no event nodewave watches.
const serverVersionRecheck = time.Minute

// preflight runs the checks that admission cannot make, in order; the
// first that fails blocks the pass.
func (r *ClusterUpgradeReconciler) preflight(ctx context.Context, s *scope) *blocker {
	if b := checkTarget(s); b != nil {
		return b
	}
	if b := checkSelector(s); b != nil {
		return b
	}
	if b := checkNodesSelected(s); b != nil {
		return b
	}
	if b := r.checkVersionSkew(ctx, s); b != nil {
		return b
	}
	return r.checkConflict(ctx, s)
}

// checkTarget refuses a target that does not parse. Admission refuses such
// a target; this guards against a CRD installed without its validation.
func checkTarget(s *scope) *blocker {
	if s.targetErr == nil {
		return nil
	}
	return &blocker{reason: upgradev1alpha1.ReasonInvalidSpec, message: fmt.Sprintf("spec.targetVersion: %v", s.targetErr)}
}

// checkSelector refuses a node selector that does not parse.
func checkSelector(s *scope) *blocker {
	if s.selectorErr == nil {
		return nil
	}
	return &blocker{reason: upgradev1alpha1.ReasonInvalidSpec,
		message: fmt.Sprintf("spec.nodeSelector is not a valid label selector: %v", s.selectorErr)}
}

// checkNodesSelected refuses a selector that matches no node.
func checkNodesSelected(s *scope) *blocker {
	if len(s.nodes) > 0 {
		return nil
	}
	return &blocker{reason: upgradev1alpha1.ReasonNoNodes,
		message: fmt.Sprintf("spec.nodeSelector matches no node (selector %q)", s.selector.String())}
}

// checkVersionSkew refuses a target newer than the API server: a kubelet
// must never be newer than its API server. It compares MAJOR.MINOR.PATCH
// only, so even a newer patch release waits for the control plane, while
// the distribution suffixes of managed clusters (v1.29.8-gke.1211000, which
// semver ranks below v1.29.8) do not block a v1.29.8 target.
func (r *ClusterUpgradeReconciler) checkVersionSkew(ctx context.Context, s *scope) *blocker {
	raw, err := r.ServerVersion()
	if err != nil {
		// Fail closed: without the server's version nothing is touched.
		logf.FromContext(ctx).Error(err, "reading the API server version")
		return &blocker{reason: upgradev1alpha1.ReasonVersionSkew, requeueAfter: serverVersionRecheck,
			message: fmt.Sprintf("cannot read the API server version to check the skew: %v", err)}
	}
	server, err := version.Parse(raw)
	if err != nil {
		return &blocker{reason: upgradev1alpha1.ReasonVersionSkew, requeueAfter: serverVersionRecheck,
			message: fmt.Sprintf("the API server reports version %q, which is not a semantic version", raw)}
	}
	if !version.NewerRelease(s.target, server) {
		return nil
	}
	return &blocker{reason: upgradev1alpha1.ReasonVersionSkew, requeueAfter: serverVersionRecheck,
		message: fmt.Sprintf("targetVersion %s is newer than the API server (%s); upgrade the control plane first: a kubelet must never be newer than its API server",
			s.cu.Spec.TargetVersion, raw)}
}

// checkConflict makes the newer of two unfinished ClusterUpgrades that
// select a common node wait for the older one.
func (r *ClusterUpgradeReconciler) checkConflict(ctx context.Context, s *scope) *blocker {
	all := &upgradev1alpha1.ClusterUpgradeList{}
	if err := r.List(ctx, all); err != nil {
		return &blocker{reason: upgradev1alpha1.ReasonConflict, requeueAfter: r.DrainPollInterval,
			message: fmt.Sprintf("cannot list ClusterUpgrades to check for conflicts: %v", err)}
	}
	var conflicts []string
	for i := range all.Items {
		other := &all.Items[i]
		if !nodeview.WaitsFor(s.cu, other) {
			continue
		}
		sel, err := nodeview.Selector(other)
		if err != nil {
			continue
		}
		if shared := sharedNode(s, sel); shared != "" {
			conflicts = append(conflicts, fmt.Sprintf("%s (both select node %s)", other.Name, shared))
		}
	}
	if len(conflicts) == 0 {
		return nil
	}
	slices.Sort(conflicts)
	return &blocker{reason: upgradev1alpha1.ReasonConflict,
		message: "waiting for the older unfinished ClusterUpgrade " + strings.Join(conflicts, ", ") +
			"; delete it or let it finish"}
}

// sharedNode returns the first node, in plan order, of s that sel selects.
func sharedNode(s *scope, sel labels.Selector) string {
	for _, name := range s.order {
		if sel.Matches(labels.Set(s.nodes[name].Labels)) {
			return name
		}
	}
	return ""
}
