package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/version"
)

// blocker is why a ClusterUpgrade holds: Stalled=True with reason and
// message until a human acts, or, when transient, a wait that is retried
// and says so in Reconciling without Stalled.
type blocker struct {
	reason, message string
	// requeueAfter re-checks a blocker that the world may lift by itself
	// without an event we watch (the API server being upgraded).
	requeueAfter time.Duration
	// transient: an error reading the world, retried; not Stalled.
	transient bool
}

// holds are what the pre-flight checks found. They never stop the nodes in
// flight: a held ClusterUpgrade still carries every node it holds through
// its drain, its Job if it has one, its verification and its uncordon.
type holds struct {
	// start holds every new start.
	start *blocker
	// job holds every new upgrade Job (or, in External mode, new target):
	// a node in flight that needs one waits where it is, within its
	// upgrade.timeout.
	job *blocker
	// workers holds the new starts and new upgrade Jobs of the nodes that
	// are not control-plane nodes (a target newer than the API server
	// while this ClusterUpgrade upgrades the control plane itself).
	workers *blocker
}

// holdWorkers holds the workers' new starts and new upgrade Jobs for b.
func (h *holds) holdWorkers(b *blocker) {
	if h.workers == nil {
		h.workers = b
	}
}

// jobHold is what holds node's new upgrade Job, nil when nothing does.
func (s *scope) jobHold(node string) *blocker {
	if s.holds.job == nil && !s.controlPlane[node] {
		return s.holds.workers
	}
	return s.holds.job
}

// holdStart holds new starts for b, unless an earlier check already does.
func (h *holds) holdStart(b *blocker) {
	if h.start == nil {
		h.start = b
	}
}

// holdJobs holds new starts and new upgrade Jobs for b.
func (h *holds) holdJobs(b *blocker) {
	h.holdStart(b)
	if h.job == nil {
		h.job = b
	}
}

// ServerVersionFunc reports the API server's version (its /version
// gitVersion).
type ServerVersionFunc func() (string, error)

// serverVersionRecheck is how often the API server's version is read
// again: its upgrade produces no event nodewave watches.
const serverVersionRecheck = time.Minute

// controlPlaneVersionRecheck is how often it is read while a
// ClusterUpgrade that upgrades the control plane waits for it.
const controlPlaneVersionRecheck = 10 * time.Second

// transientRecheck is how soon a pass held by a transient error tries again.
const transientRecheck = 5 * time.Second

// preflight runs the checks that admission cannot make, in order, into
// s.holds. It returns a blocker only when there is nothing to do at all:
// a target that does not parse, or no node selected nor held.
func (r *ClusterUpgradeReconciler) preflight(ctx context.Context, s *scope) *blocker {
	if s.targetErr != nil {
		// Admission refuses such a target; this guards against a CRD
		// installed without its validation. No step can be judged.
		return &blocker{reason: upgradev1alpha1.ReasonInvalidSpec, message: fmt.Sprintf("spec.targetVersion: %v", s.targetErr)}
	}
	if s.selectorErr != nil {
		b := &blocker{reason: upgradev1alpha1.ReasonInvalidSpec,
			message: fmt.Sprintf("spec.nodeSelector is not a valid label selector: %v", s.selectorErr)}
		if len(s.nodes) == 0 {
			return b
		}
		s.holds.holdStart(b)
	}
	if s.selectorErr == nil && s.selected == 0 && len(s.controlPlane) == 0 {
		b := &blocker{reason: upgradev1alpha1.ReasonNoNodes,
			message: fmt.Sprintf("spec.nodeSelector matches no node (selector %q)", s.selector.String())}
		if len(s.nodes) == 0 {
			return b
		}
		s.holds.holdStart(b)
	}
	if b := checkControlPlaneSelector(s); b != nil {
		if len(s.nodes) == 0 {
			return b
		}
		s.holds.holdStart(b)
	}
	if b := r.checkVersionSkew(ctx, s); b != nil {
		if s.cu.Spec.ControlPlane != nil {
			// The control plane is upgraded first, by this very object:
			// only the workers wait for the API server.
			s.holds.holdWorkers(b)
		} else {
			s.holds.holdJobs(b)
		}
	}
	if b := checkWindow(s); b != nil {
		s.holds.holdStart(b)
	}
	if b := checkPriorities(s); b != nil {
		s.holds.holdStart(b)
	}
	if b := r.checkConflict(ctx, s); b != nil {
		s.holds.holdStart(b)
	}
	if b := r.checkImages(s); b != nil {
		s.holds.holdJobs(b)
	}
	return nil
}

// checkVersionSkew holds a target newer than the API server: a kubelet
// must never be newer than its API server. It compares MAJOR.MINOR.PATCH
// only, so even a newer patch release waits for the control plane, while
// the distribution suffixes of managed clusters (v1.29.8-gke.1211000, which
// semver ranks below v1.29.8) do not block a v1.29.8 target. It judges by
// the version last read (see serverVersions): an error reading it is
// transient, and holds only until the first read succeeds.
func (r *ClusterUpgradeReconciler) checkVersionSkew(ctx context.Context, s *scope) *blocker {
	recheck := serverVersionRecheck
	if s.cu.Spec.ControlPlane != nil {
		// This object upgrades the control plane: the workers follow the
		// moment the API server reports the target.
		recheck = controlPlaneVersionRecheck
	}
	raw, err := r.serverVersions.get(r.ServerVersion, s.now, recheck)
	if err != nil {
		logf.FromContext(ctx).Error(err, "reading the API server version")
		return &blocker{reason: upgradev1alpha1.ReasonVersionSkew, transient: true, requeueAfter: transientRecheck,
			message: fmt.Sprintf("waiting to read the API server version to check the skew: %v", err)}
	}
	server, err := version.Parse(raw)
	if err != nil {
		return &blocker{reason: upgradev1alpha1.ReasonVersionSkew, requeueAfter: serverVersionRecheck,
			message: fmt.Sprintf("the API server reports version %q, which is not a semantic version", raw)}
	}
	if !version.NewerRelease(s.target, server) {
		return nil
	}
	if s.cu.Spec.ControlPlane != nil {
		return &blocker{reason: upgradev1alpha1.ReasonVersionSkew, requeueAfter: recheck, transient: true,
			message: fmt.Sprintf("the workers wait for the API server to report %s (it reports %s): a kubelet must never be newer than its API server",
				s.cu.Spec.TargetVersion, raw)}
	}
	return &blocker{reason: upgradev1alpha1.ReasonVersionSkew, requeueAfter: recheck,
		message: fmt.Sprintf("targetVersion %s is newer than the API server (%s); upgrade the control plane first "+
			"(or set spec.controlPlane): a kubelet must never be newer than its API server", s.cu.Spec.TargetVersion, raw)}
}

// serverVersions remembers the API server's version between passes: it is
// read at most once per serverVersionRecheck (controlPlaneVersionRecheck), and a failed read keeps the
// last one read, so a transient error neither costs a request per pass nor
// holds anything once a version is known.
type serverVersions struct {
	mu     sync.Mutex
	raw    string
	readAt time.Time
}

// get returns the API server's version, reading it when none is known or
// the last read is older than recheck.
func (v *serverVersions) get(read ServerVersionFunc, now time.Time, recheck time.Duration) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.raw != "" && now.Sub(v.readAt) < recheck && !now.Before(v.readAt) {
		return v.raw, nil
	}
	raw, err := read()
	if err != nil {
		if v.raw != "" {
			return v.raw, nil
		}
		return "", err
	}
	v.raw, v.readAt = raw, now
	return raw, nil
}

// checkConflict makes the newer of two unfinished ClusterUpgrades that
// select a common node wait for the older one before it starts any node.
// It never stops the newer one's nodes in flight: they go on to the end,
// and the older one never starts a node the newer one holds (see
// plan.Node.HeldElsewhere), so neither waits on the other for ever.
func (r *ClusterUpgradeReconciler) checkConflict(ctx context.Context, s *scope) *blocker {
	// Read only, so without a deep copy: each one's status lists up to
	// a budget of nodes in flight, copied on every pass before.
	all := &upgradev1alpha1.ClusterUpgradeList{}
	if err := r.List(ctx, all, client.UnsafeDisableDeepCopy); err != nil {
		return &blocker{reason: upgradev1alpha1.ReasonConflict, transient: true, requeueAfter: transientRecheck,
			message: fmt.Sprintf("cannot list ClusterUpgrades to check for conflicts: %v", err)}
	}
	var conflicts []string
	for i := range all.Items {
		other := &all.Items[i]
		if !s.cu.WaitsFor(other) {
			continue
		}
		if shared := sharedNode(s, other); shared != "" {
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

// sharedNode returns the first node, in plan order, of s that other
// selects, as a worker or as a control-plane node.
func sharedNode(s *scope, other *upgradev1alpha1.ClusterUpgrade) string {
	for _, name := range s.order {
		if other.Selects(labels.Set(s.nodes[name].Labels)) {
			return name
		}
	}
	return ""
}
