package cli

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/forecast"
)

// podListConcurrency bounds how many nodes' pods the gatherer lists at
// once.
const podListConcurrency = 8

// gatherer does every read the commands need, and nothing else: the one
// place the plugin talks to the API server.
type gatherer struct {
	c         client.Client
	discovery discovery.ServerVersionInterface
	podLists  PodLists
}

// newGatherer reaches the cluster the kubeconfig flags name.
func newGatherer(flags *genericclioptions.ConfigFlags, podLists PodLists) (*gatherer, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: newScheme()})
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if podLists.PerNodeUpTo <= 0 {
		podLists.PerNodeUpTo = 50
	}
	if podLists.PageSize <= 0 {
		podLists.PageSize = 500
	}
	return &gatherer{c: c, discovery: dc, podLists: podLists}, nil
}

// clusterUpgrade reads the ClusterUpgrade name.
func (g *gatherer) clusterUpgrade(ctx context.Context, name string) (*upgradev1alpha1.ClusterUpgrade, error) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	if err := g.c.Get(ctx, client.ObjectKey{Name: name}, cu); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("ClusterUpgrade %q not found (for one not applied yet, use plan -f FILE)", name)
		}
		return nil, err
	}
	return cu, nil
}

// selectedNodes lists the nodes cu selects.
func (g *gatherer) selectedNodes(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) ([]corev1.Node, error) {
	sel, err := cu.Selector()
	if err != nil {
		return nil, fmt.Errorf("spec.nodeSelector: %w", err)
	}
	nodes := &corev1.NodeList{}
	if err := g.c.List(ctx, nodes, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	return nodes.Items, nil
}

// forecastNodes lists the nodes a forecast of cu needs: the nodes cu
// selects, and, with spec.controlPlane, its control-plane nodes; each
// once, whichever selectors select it.
func (g *gatherer) forecastNodes(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) ([]corev1.Node, error) {
	nodes, err := g.selectedNodes(ctx, cu)
	if err != nil {
		return nil, err
	}
	sel, err := cu.ControlPlaneSelector()
	switch {
	case err != nil:
		return nil, fmt.Errorf("spec.controlPlane.nodeSelector: %w", err)
	case sel == nil:
		return nodes, nil
	}
	controlPlane := &corev1.NodeList{}
	if err := g.c.List(ctx, controlPlane, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("listing the control-plane nodes: %w", err)
	}
	seen := make(map[string]bool, len(nodes))
	for i := range nodes {
		seen[nodes[i].Name] = true
	}
	for _, n := range controlPlane.Items {
		if !seen[n.Name] {
			nodes = append(nodes, n)
		}
	}
	return nodes, nil
}

// forecastInput reads the world a forecast of cu needs: the selected
// nodes (the control-plane nodes included), their pods (see PodLists), the
// PodDisruptionBudgets, the DaemonSets (their names only), the
// ClusterUpgrades and the API server's version.
func (g *gatherer) forecastInput(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) (forecast.Input, error) {
	in := forecast.Input{ClusterUpgrade: cu}
	var err error
	if in.Nodes, err = g.forecastNodes(ctx, cu); err != nil {
		return in, err
	}
	if in.Pods, err = g.podsOn(ctx, in.Nodes); err != nil {
		return in, err
	}
	pdbs := &policyv1.PodDisruptionBudgetList{}
	if err := g.c.List(ctx, pdbs); err != nil {
		return in, fmt.Errorf("listing PodDisruptionBudgets: %w", err)
	}
	in.PodDisruptionBudgets = pdbs.Items
	daemonSets := &metav1.PartialObjectMetadataList{}
	daemonSets.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("DaemonSetList"))
	if err := g.c.List(ctx, daemonSets); err != nil {
		return in, fmt.Errorf("listing DaemonSets: %w", err)
	}
	for _, ds := range daemonSets.Items {
		in.DaemonSets = append(in.DaemonSets, appsv1.DaemonSet{ObjectMeta: ds.ObjectMeta})
	}
	cus := &upgradev1alpha1.ClusterUpgradeList{}
	if err := g.c.List(ctx, cus); err != nil {
		return in, fmt.Errorf("listing ClusterUpgrades: %w", err)
	}
	in.ClusterUpgrades = cus.Items
	v, err := g.discovery.ServerVersion()
	if err != nil {
		return in, fmt.Errorf("reading the API server version: %w", err)
	}
	in.ServerVersion = v.GitVersion
	return in, nil
}

// podsOn lists the pods bound to nodes: node by node, a few at a time,
// for up to PodLists.PerNodeUpTo nodes; every pod, page by page, for more.
func (g *gatherer) podsOn(ctx context.Context, nodes []corev1.Node) ([]corev1.Pod, error) {
	if len(nodes) > g.podLists.PerNodeUpTo {
		return g.podsOfAllOn(ctx, nodes)
	}
	perNode := make([][]corev1.Pod, len(nodes))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(podListConcurrency)
	for i := range nodes {
		eg.Go(func() error {
			pods := &corev1.PodList{}
			if err := g.c.List(ctx, pods, client.MatchingFields{"spec.nodeName": nodes[i].Name}); err != nil {
				return fmt.Errorf("listing the pods of node %s: %w", nodes[i].Name, err)
			}
			perNode[i] = pods.Items
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(perNode...), nil
}

// podsOfAllOn lists every pod of the cluster a page at a time and keeps
// those bound to nodes, in the order podsOn's node-by-node lists give.
func (g *gatherer) podsOfAllOn(ctx context.Context, nodes []corev1.Node) ([]corev1.Pod, error) {
	index := make(map[string]int, len(nodes))
	for i := range nodes {
		index[nodes[i].Name] = i
	}
	perNode := make([][]corev1.Pod, len(nodes))
	next := ""
	for {
		page := &corev1.PodList{}
		if err := g.c.List(ctx, page, client.Limit(g.podLists.PageSize), client.Continue(next)); err != nil {
			return nil, fmt.Errorf("listing pods: %w", err)
		}
		for _, p := range page.Items {
			if i, ok := index[p.Spec.NodeName]; ok {
				perNode[i] = append(perNode[i], p)
			}
		}
		if next = page.Continue; next == "" {
			break
		}
	}
	return slices.Concat(perNode...), nil
}

// dryRun has the API server admit cu without storing it, as `kubectl
// apply --dry-run=server` would: a create, or an update of the spec when
// a ClusterUpgrade of that name exists. It returns the object as admitted,
// defaults applied. An error from admission (apierrors.IsInvalid) names
// the field.
func (g *gatherer) dryRun(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade) (*upgradev1alpha1.ClusterUpgrade, error) {
	obj := cu.DeepCopy()
	err := g.c.Create(ctx, obj, client.DryRunAll)
	if err == nil {
		obj.CreationTimestamp = metav1.Time{} // not applied: the newest of all
		return obj, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	existing := &upgradev1alpha1.ClusterUpgrade{}
	if err := g.c.Get(ctx, client.ObjectKey{Name: cu.Name}, existing); err != nil {
		return nil, err
	}
	existing.Spec = cu.Spec
	if err := g.c.Update(ctx, existing, client.DryRunAll); err != nil {
		return nil, err
	}
	return existing, nil
}

// clusterUpgradeNames lists the names of the ClusterUpgrades.
func (g *gatherer) clusterUpgradeNames(ctx context.Context) ([]string, error) {
	cus := &metav1.PartialObjectMetadataList{}
	cus.SetGroupVersionKind(upgradev1alpha1.GroupVersion.WithKind("ClusterUpgradeList"))
	if err := g.c.List(ctx, cus); err != nil {
		return nil, fmt.Errorf("listing ClusterUpgrades: %w", err)
	}
	names := make([]string, 0, len(cus.Items))
	for _, cu := range cus.Items {
		names = append(names, cu.Name)
	}
	return names, nil
}
