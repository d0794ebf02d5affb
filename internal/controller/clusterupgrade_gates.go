package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/healthcheck"
	"github.com/nodewave/nodewave/internal/nodeview"
	"github.com/nodewave/nodewave/internal/plan"
)

// evictedRecord is the value of EvictedOwnersAnnotation.
type evictedRecord struct {
	Drained time.Time `json:"drained"`
	Owners  []string  `json:"owners"`
}

// maxRecordedOwners bounds the workloads one node's record names, so the
// annotation stays small (about 100 bytes each); a drain that evicted
// pods of more workloads is gated on the first ones, by name.
const maxRecordedOwners = 100

// evictedOwnersValue is EvictedOwnersAnnotation's value for a drain that
// ended at drained and evicted pods of owners (drain.OwnerOf's names).
func evictedOwnersValue(owners []string, drained time.Time) string {
	rec := evictedRecord{Drained: drained.UTC().Truncate(time.Second), Owners: owners[:min(len(owners), maxRecordedOwners)]}
	if rec.Owners == nil {
		rec.Owners = []string{}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err) // a time and strings: cannot fail
	}
	return string(b)
}

// ownerKinds are the workloads drain.OwnerOf names, by kind.
var ownerKinds = map[string]schema.GroupVersionKind{
	"ReplicaSet":            {Group: "apps", Version: "v1", Kind: "ReplicaSet"},
	"StatefulSet":           {Group: "apps", Version: "v1", Kind: "StatefulSet"},
	"ReplicationController": {Version: "v1", Kind: "ReplicationController"},
}

// gateReadConcurrency bounds the workload reads of one judgement.
const gateReadConcurrency = 16

// gateRecheck is how soon a pass held by a gate looks again: the
// workloads' readiness produces no event nodewave watches.
const gateRecheck = 2 * time.Second

// stalledGateRecheck is how soon a pass stalled by a gate looks again: a
// person, or a workload that comes back, opens it.
const stalledGateRecheck = 15 * time.Second

// replacementsGate judges spec.health.replacementsReady: the workloads
// recorded on the nodes this ClusterUpgrade drained that are in upgrading
// or verifying, or upgraded (those drained less than the gate's timeout
// ago; every one while this gate is closed, so that a workload short
// past its timeout keeps the upgrade stalled until it is back, not only
// until its node's turn is over), each read from the API server at most
// once a second (see workloadReads; no informer: a cache of every
// ReplicaSet would cost memory in proportion to the cluster). nil when
// the gate is off or open.
func (r *ClusterUpgradeReconciler) replacementsGate(ctx context.Context, s *scope) *plan.Gate {
	timeout := s.cu.Spec.ReplacementsTimeout()
	if timeout == 0 {
		return nil
	}
	c := meta.FindStatusCondition(s.cu.Status.Conditions, upgradev1alpha1.ConditionGated)
	closed := c != nil && c.Status == metav1.ConditionTrue && c.Reason == upgradev1alpha1.ReasonReplacementsNotReady
	drained := map[string]time.Time{}
	for _, name := range s.order {
		n := s.nodes[name]
		if nodeview.HeldBy(n) != s.cu.Name {
			continue
		}
		switch upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel]) {
		case upgradev1alpha1.NodeUpgrading, upgradev1alpha1.NodeVerifying, upgradev1alpha1.NodeUpgraded:
		default:
			continue
		}
		var rec evictedRecord
		if err := json.Unmarshal([]byte(n.Annotations[upgradev1alpha1.EvictedOwnersAnnotation]), &rec); err != nil {
			continue // none, or edited by hand: nothing recorded to wait for
		}
		if !closed && s.now.Sub(rec.Drained) >= timeout {
			continue // its workloads were judged through their whole timeout
		}
		for _, o := range rec.Owners {
			if t, seen := drained[o]; !seen || rec.Drained.Before(t) {
				drained[o] = rec.Drained
			}
		}
	}
	workloads := make([]plan.Workload, 0, len(drained))
	for name, at := range drained {
		workloads = append(workloads, plan.Workload{Name: name, Drained: at})
	}
	// Each workload's read: a recent one reused, or one made now.
	reads := make([]workloadRead, len(workloads))
	var wg sync.WaitGroup
	sem := make(chan struct{}, gateReadConcurrency)
	for i, w := range workloads {
		if read, ok := r.workloads.recent(s.cu.UID, w, s.now); ok {
			reads[i] = read
			continue
		}
		reads[i] = workloadRead{at: s.now, w: w}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.readWorkload(ctx, &reads[i].w)
		}()
	}
	wg.Wait()
	r.workloads.keep(s.cu.UID, reads)
	for i := range reads {
		workloads[i] = reads[i].w
	}
	return plan.ReplacementsGate(workloads, timeout, s.now)
}

// workloadReadInterval is how long a read of a workload serves the passes
// after it: a large upgrade makes several passes a second, and each read
// every recorded workload (110 GETs per node at 100 nodes without it).
const workloadReadInterval = time.Second

// workloadReads remembers each ClusterUpgrade's last reads of its
// workloads.
type workloadReads struct {
	mu   sync.Mutex
	byCU map[types.UID]map[string]workloadRead
}

type workloadRead struct {
	at time.Time
	w  plan.Workload
}

// recent returns the read of w made less than workloadReadInterval ago,
// and after the drain that evicted its pods ended (an older read cannot
// know of that drain's evictions), with w's drain.
func (m *workloadReads) recent(uid types.UID, w plan.Workload, now time.Time) (workloadRead, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.byCU[uid][w.Name]
	if !ok || now.Sub(r.at) >= workloadReadInterval || r.at.Before(w.Drained) {
		return workloadRead{}, false
	}
	r.w.Drained = w.Drained
	return r, true
}

// keep remembers the reads of one judgement, the reused ones with the time
// they were made, and forgets the workloads no longer judged.
func (m *workloadReads) keep(uid types.UID, reads []workloadRead) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byCU == nil {
		m.byCU = map[types.UID]map[string]workloadRead{}
	}
	next := make(map[string]workloadRead, len(reads))
	for _, r := range reads {
		next[r.w.Name] = r
	}
	m.byCU[uid] = next
}

func (m *workloadReads) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byCU, uid)
}

// readWorkload fills in w's desired and ready replicas from the API server.
func (r *ClusterUpgradeReconciler) readWorkload(ctx context.Context, w *plan.Workload) {
	kind, rest, _ := strings.Cut(w.Name, "/")
	namespace, name, _ := strings.Cut(rest, "/")
	gvk, ok := ownerKinds[kind]
	if !ok {
		w.Gone = true // not one nodewave records: edited by hand
		return
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	switch err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); {
	case apierrors.IsNotFound(err):
		w.Gone = true
		return
	case err != nil:
		w.Err = err
		return
	}
	desired, found, err := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if err != nil {
		w.Err = fmt.Errorf("spec.replicas: %w", err)
		return
	}
	if !found {
		desired = 1 // the API server's default
	}
	ready, _, err := unstructured.NestedInt64(u.Object, "status", "readyReplicas")
	if err != nil {
		w.Err = fmt.Errorf("status.readyReplicas: %w", err)
		return
	}
	w.Desired, w.Ready = int32(desired), int32(ready)
}

// gates judges the gates of spec.health in order (the replacements, each
// check, the alerts): the first that is closed, or nil when every one is
// open.
func (r *ClusterUpgradeReconciler) gates(ctx context.Context, s *scope) *plan.Gate {
	if g := r.replacementsGate(ctx, s); g != nil {
		return g
	}
	if g := r.checksGate(ctx, s); g != nil {
		return g
	}
	return r.alertsGate(ctx, s)
}

// checksGate judges spec.health.checks: closed (HealthCheckFailing) at the
// first object a check's expression is not true of, stalled
// (InvalidHealthCheck) at the first check that cannot be judged. The
// objects are read from the API server, uncached, like the workloads.
func (r *ClusterUpgradeReconciler) checksGate(ctx context.Context, s *scope) *plan.Gate {
	for i, c := range s.cu.Spec.Health.Checks {
		field := fmt.Sprintf("spec.health.checks[%d] (%s)", i, c.Name)
		invalid := func(format string, args ...any) *plan.Gate {
			return &plan.Gate{Reason: upgradev1alpha1.ReasonInvalidHealthCheck, Since: s.now, Stalled: true,
				Message: field + ": " + fmt.Sprintf(format, args...)}
		}
		prg, err := healthcheck.Compile(c.Expression)
		if err != nil {
			return invalid("its expression does not compile: %v", err)
		}
		objects, err := r.checkedObjects(ctx, c)
		switch {
		case apierrors.IsNotFound(err):
			return invalid("%s %s does not exist", c.Kind, objectPath(c.Namespace, c.ObjectName))
		case err != nil:
			return invalid("cannot read its %s objects: %v", c.Kind, err)
		case len(objects) == 0:
			return invalid("its labelSelector matches no %s", c.Kind)
		}
		for _, o := range objects {
			ok, err := prg.Eval(ctx, o.Object)
			if ok {
				continue
			}
			why := "is false"
			if err != nil {
				why = fmt.Sprintf("could not be evaluated (%v)", err)
			}
			return &plan.Gate{Reason: upgradev1alpha1.ReasonHealthCheckFailing, Since: s.now,
				Message: fmt.Sprintf("check %s: %s of %s %s: %s", c.Name, why, c.Kind, objectPath(o.GetNamespace(), o.GetName()), c.Expression)}
		}
	}
	return nil
}

// checkedObjects reads the objects a check names.
func (r *ClusterUpgradeReconciler) checkedObjects(ctx context.Context, c upgradev1alpha1.HealthCheck) ([]unstructured.Unstructured, error) {
	gvk := schema.FromAPIVersionAndKind(c.APIVersion, c.Kind)
	if c.ObjectName != "" {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.ObjectName}, u); err != nil {
			return nil, err
		}
		return []unstructured.Unstructured{*u}, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
	if err != nil {
		return nil, fmt.Errorf("labelSelector: %w", err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(c.Kind + "List"))
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: sel}}
	if c.Namespace != "" {
		opts = append(opts, client.InNamespace(c.Namespace))
	}
	if err := r.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// objectPath is namespace/name, or name for a cluster-scoped object.
func objectPath(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
