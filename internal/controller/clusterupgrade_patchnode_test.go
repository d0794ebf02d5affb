package controller

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// cachedNode is a Node as the informer cache holds it, with labels,
// annotations and a condition: the maps and slices that a list without a
// deep copy shares with the cache.
func cachedNode(state upgradev1alpha1.NodeState, annotations map[string]string, unschedulable bool) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{poolLabel: "a"}, Annotations: annotations},
		Spec:       corev1.NodeSpec{Unschedulable: unschedulable},
		Status: corev1.NodeStatus{
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: targetVersion},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
		},
	}
	if state != "" {
		n.Labels[upgradev1alpha1.NodeStateLabel] = string(state)
	}
	return n
}

// viewOf puts cached in s as observe does (the cache's own object) and
// returns what a step is given to write: the pass's own copy of it (own),
// a struct of its own whose maps and slices are the cache's.
func viewOf(s *scope, cached *corev1.Node) *corev1.Node {
	if s.nodes == nil {
		s.nodes = map[string]*corev1.Node{}
	}
	s.nodes[cached.Name] = cached
	return s.own(cached.Name)
}

// TestPatchNodeNeverWritesTheView: patchNode changes a copy, patches it
// and only then replaces the caller's struct; the maps and slices the
// view shares with the cache stay as they were, also on an error.
func TestPatchNodeNeverWritesTheView(t *testing.T) {
	ctx := context.Background()
	cached := cachedNode(upgradev1alpha1.NodeDraining, map[string]string{"keep": "me", "drop": "me"}, true)
	before := cached.DeepCopy()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(cached.DeepCopy()).Build()
	r := &ClusterUpgradeReconciler{Client: c}
	mutate := func(n *corev1.Node) {
		setLabel(n, upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgrading))
		delete(n.Annotations, "drop")
		n.Spec.Unschedulable = false
		n.Status.Conditions[0].Reason = "Changed"
	}

	s := &scope{now: time.Now()}
	if err := r.patchNode(ctx, s, cached, mutate); err == nil {
		t.Fatal("patchNode wrote the cache's own object, not a copy the pass owns")
	}
	if !equality.Semantic.DeepEqual(cached, before) {
		t.Fatalf("a refused patchNode changed the cached Node:\nwas %+v\nnow %+v", before, cached)
	}
	view := viewOf(s, cached)
	if err := r.patchNode(ctx, s, view, mutate); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(cached, before) {
		t.Fatalf("patchNode wrote into the cached Node:\nwas %+v\nnow %+v", before, cached)
	}
	if view.Labels[upgradev1alpha1.NodeStateLabel] != string(upgradev1alpha1.NodeUpgrading) ||
		view.Annotations["drop"] != "" || view.Annotations["keep"] != "me" || view.Spec.Unschedulable {
		t.Fatalf("the view does not show the patch: %+v", view)
	}
	server := &corev1.Node{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cached), server); err != nil {
		t.Fatal(err)
	}
	if server.Labels[upgradev1alpha1.NodeStateLabel] != string(upgradev1alpha1.NodeUpgrading) || server.Annotations["drop"] != "" || server.Spec.Unschedulable {
		t.Fatalf("the API server did not get the patch: %+v", server)
	}

	// A failed patch leaves the view as it was.
	gone := cachedNode(upgradev1alpha1.NodeDraining, map[string]string{"drop": "me"}, true)
	gone.Name = "gone"
	goneBefore := gone.DeepCopy()
	view = viewOf(s, gone)
	if err := r.patchNode(ctx, s, view, mutate); !apierrors.IsNotFound(err) {
		t.Fatalf("patching a node the API server does not have: %v, want NotFound", err)
	}
	if !equality.Semantic.DeepEqual(gone, goneBefore) || !equality.Semantic.DeepEqual(view, goneBefore) {
		t.Fatalf("a failed patchNode changed the node:\nwas  %+v\nview %+v", goneBefore, view)
	}
}

// TestNodeWritesLeaveTheCacheAlone runs every step that writes a Node on a
// view of a cached one, as a pass does, and checks the step's change
// reached the API server and the view while the cached Node stayed as it
// was.
func TestNodeWritesLeaveTheCacheAlone(t *testing.T) {
	const cuName = "cu-a"
	held := func(more ...string) map[string]string {
		a := map[string]string{upgradev1alpha1.ClusterUpgradeAnnotation: cuName,
			upgradev1alpha1.StateSinceAnnotation: "2026-11-27T03:00:00Z"}
		for i := 0; i+1 < len(more); i += 2 {
			a[more[i]] = more[i+1]
		}
		return a
	}
	for _, tc := range []struct {
		name              string
		node              *corev1.Node
		step              func(context.Context, *ClusterUpgradeReconciler, *scope, *corev1.Node) error
		wantState         upgradev1alpha1.NodeState // "" when the step removes the label
		wantUnschedulable bool
	}{
		{
			name: "startNode", node: cachedNode("", map[string]string{}, false),
			step: func(ctx context.Context, r *ClusterUpgradeReconciler, s *scope, n *corev1.Node) error {
				_, err := r.startNode(ctx, s, n)
				return err
			},
			wantState: upgradev1alpha1.NodeDraining, wantUnschedulable: true, // no pre-drain hook: cordoned and draining at once
		},
		{
			name: "startNode without annotations", node: cachedNode("", nil, true),
			step: func(ctx context.Context, r *ClusterUpgradeReconciler, s *scope, n *corev1.Node) error {
				_, err := r.startNode(ctx, s, n)
				return err
			},
			wantState: upgradev1alpha1.NodeDraining, wantUnschedulable: true,
		},
		{
			name: "setState", node: cachedNode(upgradev1alpha1.NodeCordoned, held(), true),
			step: func(ctx context.Context, r *ClusterUpgradeReconciler, s *scope, n *corev1.Node) error {
				return r.setState(ctx, s, n, upgradev1alpha1.NodeDraining, nil)
			},
			wantState: upgradev1alpha1.NodeDraining, wantUnschedulable: true,
		},
		{
			name: "failNode", node: cachedNode(upgradev1alpha1.NodeUpgrading, held(upgradev1alpha1.TargetVersionAnnotation, targetVersion), true),
			step: func(ctx context.Context, r *ClusterUpgradeReconciler, s *scope, n *corev1.Node) error {
				return r.failNode(ctx, s, n, "UpgradeTimeout", "not Ready")
			},
			wantState: upgradev1alpha1.NodeFailed, wantUnschedulable: true,
		},
		{
			name: "finishNode", node: cachedNode(upgradev1alpha1.NodeVerifying, held(upgradev1alpha1.TargetVersionAnnotation, targetVersion), true),
			step: func(ctx context.Context, r *ClusterUpgradeReconciler, s *scope, n *corev1.Node) error {
				return r.finishNode(ctx, s, n)
			},
			wantState: upgradev1alpha1.NodeUpgraded, wantUnschedulable: false,
		},
		{
			name: "retryFailedNodes", node: cachedNode(upgradev1alpha1.NodeFailed, held(upgradev1alpha1.FailureAnnotation, "DrainTimeout: pods left"), true),
			step: func(ctx context.Context, r *ClusterUpgradeReconciler, s *scope, _ *corev1.Node) error {
				return r.retryFailedNodes(ctx, s)
			},
			wantState: "", wantUnschedulable: true,
		},
		{
			name: "releaseNode", node: cachedNode(upgradev1alpha1.NodeDraining, held(), true),
			step: func(ctx context.Context, r *ClusterUpgradeReconciler, s *scope, n *corev1.Node) error {
				return r.releaseNode(ctx, s, n)
			},
			wantState: "", wantUnschedulable: false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cached, before := tc.node, tc.node.DeepCopy()
			c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(cached.DeepCopy()).Build()
			r := &ClusterUpgradeReconciler{Client: c}
			cu := newCU(cuName, "a")
			s := &scope{cu: cu, now: time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC), order: []string{cached.Name}, selector: labels.Everything(),
				jobs: map[string]*batchv1.Job{}, messages: map[string]string{}}
			view := viewOf(s, cached)

			if err := tc.step(ctx, r, s, view); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(cached, before) {
				t.Fatalf("%s wrote into the cached Node:\nwas %+v\nnow %+v", tc.name, before, cached)
			}
			server := &corev1.Node{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(cached), server); err != nil {
				t.Fatal(err)
			}
			for what, n := range map[string]*corev1.Node{"the API server's node": server, "the scope's node": s.nodes[view.Name]} {
				if got := upgradev1alpha1.NodeState(n.Labels[upgradev1alpha1.NodeStateLabel]); got != tc.wantState || n.Spec.Unschedulable != tc.wantUnschedulable {
					t.Errorf("%s: state %q, unschedulable %t; want %q, %t", what, got, n.Spec.Unschedulable, tc.wantState, tc.wantUnschedulable)
				}
			}
		})
	}
}
