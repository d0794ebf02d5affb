package main

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

// startAgent runs the simulated node agent until ctx ends: each node in
// upgrading reports its target after a seeded delay.
func (o options) startAgent(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) error {
	c, err := upgradingNodes(ctx, cfg, scheme)
	if err != nil {
		return err
	}
	agent := &nodeagent.Agent{Client: c, MinDelay: o.minDelay, MaxDelay: o.maxDelay, Seed: o.seed, Interval: 100 * time.Millisecond}
	go agent.Run(ctx)
	return nil
}

// upgradingNodes returns the simulated node agent's client: it reads the
// nodes in upgrading from a watch of those nodes alone, and writes
// directly. The agent looks every 100 ms; listing the nodes from the API
// server each time (the label selector filters them there, over all 5,000)
// was load that no real cluster's agents put on it, and slowed the
// control plane that nodewave's own writes are measured against.
func upgradingNodes(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) (client.Client, error) {
	upgrading := labels.SelectorFromSet(labels.Set{upgradev1alpha1.NodeStateLabel: string(upgradev1alpha1.NodeUpgrading)})
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, ByObject: map[client.Object]cache.ByObject{
		&corev1.Node{}: {Label: upgrading},
	}})
	if err != nil {
		return nil, err
	}
	if _, err := c.GetInformer(ctx, &corev1.Node{}); err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, errors.New("the node agent's cache did not sync")
	}
	return client.New(cfg, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: c}})
}
