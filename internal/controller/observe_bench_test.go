package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/testenv"
)

// benchNodes is how many selected Nodes BenchmarkObserve's cache holds.
const benchNodes = 1000

// BenchmarkObserve measures one pass's observe() over 1,000 selected Nodes
// read from the manager's own kind of cache (an informer over envtest's
// API server, with CacheOptions), which is what every reconcile pays:
//
//	KUBEBUILDER_ASSETS=$(hack/toolchain.sh envtest) \
//	  go test ./internal/controller -run '^$' -bench BenchmarkObserve -benchmem
func BenchmarkObserve(b *testing.B) {
	logf.SetLogger(logr.Discard())
	te, err := testenv.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = te.Stop() })
	ctx := b.Context()
	cfg := rest.CopyConfig(te.Config)
	cfg.QPS = -1 // no client-side throttling while filling the cluster

	direct, err := client.New(cfg, client.Options{Scheme: te.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	var g errgroup.Group
	g.SetLimit(8)
	for i := range benchNodes {
		g.Go(func() error { return createBenchNode(ctx, direct, i) })
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}

	opts := CacheOptions(jobNamespace)
	opts.Scheme = te.Scheme
	c, err := cache.New(cfg, opts)
	if err != nil {
		b.Fatal(err)
	}
	index, err := newNodeIndex(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	cacheCtx, stop := context.WithCancel(ctx)
	b.Cleanup(stop)
	go func() { _ = c.Start(cacheCtx) }()
	if !c.WaitForCacheSync(ctx) {
		b.Fatal("cache did not sync")
	}
	cached, err := client.New(cfg, client.Options{Scheme: te.Scheme, Cache: &client.CacheOptions{Reader: c}})
	if err != nil {
		b.Fatal(err)
	}
	r := &ClusterUpgradeReconciler{Client: cached, JobNamespace: jobNamespace, Clock: clock.RealClock{}, nodeIndex: index}
	cu := concurrent(newCU("bench", "bench"), "10%")

	// The first pass starts the Job informer and shows the cache is full.
	s, err := r.observe(ctx, cu)
	if err != nil {
		b.Fatal(err)
	}
	if len(s.nodes) != benchNodes {
		b.Fatalf("observe saw %d nodes, want %d", len(s.nodes), benchNodes)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.observe(ctx, cu); err != nil {
			b.Fatal(err)
		}
	}
}

// createBenchNode creates the i-th node of the benchmark's pool, about the
// size of a real one once the cache has stripped it (no managedFields, no
// images): the usual labels, annotations, conditions, addresses and
// resources.
func createBenchNode(ctx context.Context, c client.Client, i int) error {
	name := fmt.Sprintf("bench-%04d", i)
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{
				poolLabel: "bench", upgradev1alpha1.ZoneLabel: fmt.Sprintf("zone-%c", 'a'+i%3),
				corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
				corev1.LabelInstanceTypeStable: "m5.xlarge", corev1.LabelTopologyRegion: "region-1",
				"node-role.kubernetes.io/worker": "",
			},
			Annotations: map[string]string{
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
				"kubeadm.alpha.kubernetes.io/cri-socket":                 "unix:///run/containerd/containerd.sock",
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), ProviderID: "aws:///region-1a/i-" + name},
	}
	if err := c.Create(ctx, n); err != nil {
		return err
	}
	resources := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	var conditions []corev1.NodeCondition
	for _, t := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		conditions = append(conditions, corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficient" + string(t),
			Message: "kubelet has sufficient resources", LastHeartbeatTime: now, LastTransitionTime: now})
	}
	n.Status = corev1.NodeStatus{
		Capacity: resources, Allocatable: resources,
		Conditions: append(conditions, corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}),
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.0.%d.%d", i/256, i%256)},
			{Type: corev1.NodeHostName, Address: name}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{KubeletVersion: oldVersion, OperatingSystem: "linux",
			Architecture: "amd64", ContainerRuntimeVersion: "containerd://2.1.0", KernelVersion: "6.8.0", OSImage: "Ubuntu 24.04 LTS",
			MachineID: name, SystemUUID: name, BootID: name},
	}
	return c.Status().Update(ctx, n)
}
