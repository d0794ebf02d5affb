// Command bench measures nodewave on the simulated cluster (hack/sim.sh):
// it starts a cluster of -nodes workers and about -pods pods, runs the
// manager as a process and the node agent in process (each upgrade takes a
// seeded uniform -min-delay..-max-delay), upgrades every worker with the
// given strategy, and reports makespan against its lower bound, handoff
// latency, the manager's memory, CPU and API requests, and a plot.
//
//	make bench-harness
//	bin/bench -nodes 1000 -pods 20000 -max-unavailable 10%
//
// It is a module of its own (gonum/plot stays out of the manager's go.mod),
// built into bin/bench and run from the repository's root. `make bench`
// runs the set published in docs/benchmarks.md.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/testenv"
)

type options struct {
	name               string
	nodes, pods, zones int
	maxUnavailable     string // "" is Sequential
	minDelay, maxDelay time.Duration
	drainTimeout       time.Duration
	seed               uint64
	out                string
	keep, reuse        bool
	metricsPort        int
	managerQPS         int
	// managerMemoryLimit is the memory limit of the cgroup the manager
	// runs in: its Deployment's; empty runs it without one.
	managerMemoryLimit string
	timeout            time.Duration
	simName            string
	scrapeEvery        time.Duration
	metricsPlot        string
	// noPendingTaint runs the manager with --no-pending-taint (the
	// evictions per pod without the taint, on the same commit).
	noPendingTaint bool
	// zoneMaxUnavailable and oneZone set spec.strategy.zones.
	zoneMaxUnavailable string
	oneZone            bool
	// replacementsReady sets spec.health.replacementsReady: what waiting
	// for the evicted workloads costs in makespan.
	replacementsReady bool
}

// result is one run's figures, written as JSON next to the plot.
type result struct {
	Name                   string
	Nodes, Pods            int
	Strategy               string
	MaxUnavailable         int
	Makespan, LowerBound   time.Duration
	Ratio                  float64
	Barrier                time.Duration
	BarrierRatio           float64
	HandoffP50, HandoffP99 time.Duration
	// InFlight splits the nodes' time in flight into the drains, the
	// upgrades and the rest (see shares).
	InFlight   shares
	PeakRSSMiB float64
	// MemoryLimit is the memory limit the manager ran under (its
	// Deployment's), empty if none.
	MemoryLimit string
	CPU         time.Duration
	// CPUPerNode is the manager's CPU time over the upgraded nodes.
	CPUPerNode time.Duration
	// ClusterStart is how long the simulated cluster took to start, its
	// nodes and workloads ready.
	ClusterStart time.Duration
	// RequestsPerNode counts the manager's API requests per node by verb
	// and resource (nodewave_api_requests_total), evictions apart.
	RequestsPerNode      map[string]float64
	RequestsPerNodeTotal float64
	// EvictionsPerNode counts the eviction requests (create pods/eviction).
	EvictionsPerNode float64
	// RequestsCheck is client-go's count of the same requests, all of
	// them (rest_client_requests_total), against nodewave's.
	RequestsCheck struct{ ClientGo, Nodewave float64 }
	// EvictedPerPod is the accepted evictions (nodewave_evictions_total
	// with result evicted) over the workloads' pods.
	EvictedPerPod float64
	// Disruptions counts, from a watch of the pods, how often each
	// workload's pods were ended during the upgrade.
	Disruptions  disruptionStats
	Reconciles   float64
	ReconcileP99 time.Duration
	// Reentered counts the nodes that entered the lifecycle more than
	// once; Last are the nodes that finished last (the makespan's tail).
	Reentered int
	Last      []lastNode
	Plot      string
}

func main() {
	var o options
	flag.StringVar(&o.name, "name", "", "run name (default from the settings)")
	flag.IntVar(&o.nodes, "nodes", 100, "worker nodes")
	flag.IntVar(&o.pods, "pods", 0, "pods in all (default: 20 per node)")
	flag.IntVar(&o.zones, "zones", 3, "zones")
	flag.StringVar(&o.maxUnavailable, "max-unavailable", "10%", "Concurrent maxUnavailable; empty for Sequential")
	flag.DurationVar(&o.minDelay, "min-delay", 3*time.Second, "shortest simulated kubelet upgrade")
	flag.DurationVar(&o.maxDelay, "max-delay", 9*time.Second, "longest simulated kubelet upgrade")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the upgrade times")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Minute,
		"the ClusterUpgrade's drain.timeout: at 1,000 nodes and 20,000 pods the simulated kubelets fall minutes behind deleting evicted pods")
	flag.StringVar(&o.out, "out", "bench-results", "directory for results and plots")
	flag.BoolVar(&o.keep, "keep", false, "keep the simulated cluster afterwards")
	flag.BoolVar(&o.reuse, "reuse", false, "reuse a running cluster of the same size (skip sim.sh up)")
	flag.IntVar(&o.metricsPort, "metrics-port", 18080, "port of the manager's metrics endpoint (plain HTTP, loopback)")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Hour,
		"give up after this long, the cluster's start included (1,000 nodes and 20,000 pods took 63 minutes on 2 cores)")
	flag.IntVar(&o.managerQPS, "manager-qps", 500, "the manager's --kube-api-qps (its burst is twice that)")
	flag.StringVar(&o.managerMemoryLimit, "manager-memory-limit", deploymentMemoryLimit,
		"the memory limit of the cgroup the manager runs in, as its Deployment's container (config/manager); empty: none")
	flag.StringVar(&o.simName, "sim-name", "", "name of the simulated cluster (default nodewave-bench-NODES)")
	flag.DurationVar(&o.scrapeEvery, "scrape-every", 0,
		"also scrape the manager's /metrics this often during the upgrade and plot nodes by state, step durations and evictions over time (0: off)")
	flag.BoolVar(&o.noPendingTaint, "no-pending-taint", false, "run the manager with --no-pending-taint")
	flag.StringVar(&o.zoneMaxUnavailable, "zone-max-unavailable", "", "spec.strategy.zones.maxUnavailable (empty: none)")
	flag.BoolVar(&o.oneZone, "one-zone-at-a-time", false, "spec.strategy.zones.oneAtATime")
	flag.BoolVar(&o.replacementsReady, "replacements-ready", false, "spec.health.replacementsReady (the gate on the evicted workloads)")
	flag.StringVar(&o.metricsPlot, "metrics-plot", "", "where -scrape-every writes its plot (default OUT/NAME-metrics.png)")
	growthOf := flag.String("growth", "", "instead of a run: the results (JSON) of runs at several sizes, comma-separated; "+
		"print how each cost grows with the nodes as a Markdown table and plot it to OUT/growth.png")
	flag.Parse()
	if *growthOf != "" {
		if err := growth(strings.Split(*growthOf, ","), filepath.Join(o.out, "growth.png")); err != nil {
			log.Fatal(err)
		}
		return
	}
	if o.pods == 0 {
		o.pods = 20 * o.nodes
	}
	if o.name == "" {
		strategy := "sequential"
		if o.maxUnavailable != "" {
			strategy = "concurrent-" + strings.TrimSuffix(o.maxUnavailable, "%") + "pc"
		}
		o.name = fmt.Sprintf("%dnodes-%dpods-%s", o.nodes, o.pods, strategy)
		if o.zoneMaxUnavailable != "" {
			o.name += "-zone" + strings.TrimSuffix(o.zoneMaxUnavailable, "%") + "pc"
		}
		if o.oneZone {
			o.name += "-one-zone"
		}
		if o.noPendingTaint {
			o.name += "-no-pending-taint"
		}
		if o.replacementsReady {
			o.name += "-replacements-ready"
		}
	}
	// Interrupted or stopped, the run ends as it would on its timeout: the
	// manager it started is killed and the cluster stopped (unless -keep).
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := run(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(o.out, o.name+".json"), b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(summary(res))
}

// targetVersion is the version every node is upgraded to.
const targetVersion = "v1.37.2"

// evictionRequest is how nodewave_api_requests_total names an eviction.
const evictionRequest = "create pods/eviction"

// simTuning fits the simulated control plane of 5,000 nodes on two cores
// (docs/benchmarks.md), the same at every size so that the sizes compare:
// node leases renewed every 200 s rather than 50 s (at 5,000 nodes, 100
// lease writes a second were the API server's largest load at rest);
// sixteen kwok workers for pod stages rather than four (evicted pods
// waited for kwok to delete them); and the scheduler scoring 5% of the
// nodes, at least 100, rather than 10% of 5,000.
var simTuning = []string{"SIM_HEARTBEAT_FACTOR=20", "SIM_POD_PARALLELISM=16", "SIM_NODES_TO_SCORE=5"}

// serviceReplicas is the size of each service Deployment of the workload.
const serviceReplicas = 100

func run(ctx context.Context, o options) (*result, error) {
	ctrllog.SetLogger(logr.Discard())
	root := testenv.RepoRoot()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	simName := o.simCluster()
	// The main Deployment takes what the other workloads leave: one
	// DaemonSet pod and the api Deployment's half a pod per node, 6 more.
	// Beyond its first hundred pods, that share goes to Deployments of a
	// hundred pods, each with its own PodDisruptionBudget: a real cluster
	// has many budgets, and one budget over every pod would serialise all
	// evictions on its optimistic lock.
	web := max(o.pods-o.nodes-(o.nodes/2+1)-6, 0)
	services := max(web/serviceReplicas-1, 0)
	web -= services * serviceReplicas
	env := append(os.Environ(), "SIM_NAME="+simName, fmt.Sprintf("SIM_WORKERS=%d", o.nodes),
		fmt.Sprintf("SIM_SERVICES=%d", services), fmt.Sprintf("SIM_SERVICE_REPLICAS=%d", serviceReplicas),
		fmt.Sprintf("SIM_ZONES=%d", o.zones), "SIM_CONTROL_PLANES=3", fmt.Sprintf("SIM_REPLICAS=%d", web),
		"SIM_DISABLE_QPS_LIMITS=1", "SIM_ROLLOUT_TIMEOUT=30m")
	env = append(env, simTuning...)
	sim := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "sim.sh"), args...)
		cmd.Env, cmd.Dir, cmd.Stderr = env, root, os.Stderr
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	if !o.reuse {
		if _, err := sim("down"); err != nil {
			return nil, err
		}
	}
	log.Printf("starting the simulated cluster: %d workers, %d web replicas, %d services of %d", o.nodes, web, services, serviceReplicas)
	began := time.Now()
	kubeconfig, err := sim("up")
	if err != nil {
		return nil, err
	}
	clusterStart := time.Since(began)
	log.Printf("cluster ready in %s", clusterStart.Round(time.Second))
	if !o.keep {
		defer func() { _, _ = sim("down") }()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 200, 400
	scheme := clientgoscheme.Scheme
	if err := upgradev1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if err := install(ctx, root, kubeconfig, c); err != nil {
		return nil, err
	}

	bin := filepath.Join(o.out, "manager")
	// Built as the Dockerfile builds the image's manager. With cgo, a
	// dependency's import of "plugin" (kustomize, through kubectl's drain)
	// links it dynamically with every symbol exported, 16 MB more of the
	// binary to map.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd")
	build.Dir, build.Stderr, build.Env = root, os.Stderr, append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(o.out, o.name+"-manager.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }()
	pprofAddr := fmt.Sprintf("127.0.0.1:%d", o.metricsPort+1)
	manager := exec.CommandContext(ctx, bin, "--kubeconfig", kubeconfig, "--job-namespace", "nodewave-system",
		"--leader-elect=false", "--health-probe-bind-address=0", "--metrics-secure=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", o.metricsPort), "--pprof-bind-address="+pprofAddr,
		fmt.Sprintf("--kube-api-qps=%d", o.managerQPS), fmt.Sprintf("--kube-api-burst=%d", 2*o.managerQPS))
	if o.noPendingTaint {
		manager.Args = append(manager.Args, "--no-pending-taint")
	}
	manager.Stdout, manager.Stderr = logFile, logFile
	removeCgroup, err := o.limitMemory(manager)
	if err != nil {
		return nil, err
	}
	defer removeCgroup()
	if err := manager.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = manager.Process.Kill(); _ = manager.Wait() }()

	rec := record(ctx, cs, targetVersion)
	pods := watchDisruptions(ctx, cs)
	if err := o.startAgent(ctx, cfg, scheme); err != nil {
		return nil, err
	}

	cu, strategy := o.clusterUpgrade()
	log.Printf("upgrading %d nodes, %s", o.nodes, strategy)
	tl := o.startTimeline(ctx)
	pods.start()
	// On a cluster that started in seconds, the CRD applied just before
	// may not be established yet: the client does not know the kind.
	if err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.Create(ctx, cu)
		return err == nil, client.IgnoreAlreadyExists(ignoreNoMatch(err))
	}); err != nil {
		return nil, err
	}
	// The manager's CPU profile over the first minute of the upgrade.
	cpuProfile := make(chan error, 1)
	go func() {
		cpuProfile <- saveProfile(ctx, pprofAddr, "profile?seconds=60", filepath.Join(o.out, o.name+"-cpu.pprof"))
	}()
	if err := waitSucceeded(ctx, c, cu); err != nil {
		return nil, err
	}
	o.finishTimeline(tl, strategy)
	metrics, err := scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", o.metricsPort))
	if err != nil {
		return nil, err
	}
	rss, cpu, err := processStats(manager.Process.Pid)
	if err != nil {
		return nil, err
	}
	if err := saveProfile(ctx, pprofAddr, "heap", filepath.Join(o.out, o.name+"-heap.pprof")); err != nil {
		log.Printf("heap profile: %v", err)
	}
	if err := <-cpuProfile; err != nil {
		log.Printf("CPU profile: %v", err)
	}

	spans := rec.spans()
	if len(spans) != o.nodes {
		return nil, fmt.Errorf("recorded %d nodes through the lifecycle, want %d", len(spans), o.nodes)
	}
	budget, err := intstr.GetScaledValueFromIntOrPercent(ptrTo(intstr.Parse(or(o.maxUnavailable, "1"))), o.nodes, false)
	if err != nil {
		return nil, err
	}
	budget = max(budget, 1)
	sched := analyse(spans, budget)
	hand := handoffs(spans)
	res := &result{Name: o.name, Nodes: o.nodes, Pods: o.pods, Strategy: strategy, MaxUnavailable: budget,
		Makespan: sched.Makespan, LowerBound: sched.LowerBound, Ratio: sched.Ratio,
		Barrier: sched.Barrier, BarrierRatio: sched.BarrierRatio,
		HandoffP50: percentile(hand, 50), HandoffP99: percentile(hand, 99),
		InFlight:   splitInFlight(spans),
		PeakRSSMiB: float64(rss) / (1 << 20), MemoryLimit: o.managerMemoryLimit, CPU: cpu, CPUPerNode: cpu / time.Duration(o.nodes), ClusterStart: clusterStart,
		RequestsPerNode: map[string]float64{}, EvictionsPerNode: metrics.Requests[evictionRequest] / float64(o.nodes),
		Reconciles: metrics.Reconciles, ReconcileP99: metrics.ReconcileP99,
		Reentered: reentered(spans), Last: lastToFinish(spans, 5),
		Disruptions: pods.stats(), Plot: o.name + ".png"}
	if res.Disruptions.Pods > 0 {
		res.EvictedPerPod = metrics.Evicted / float64(res.Disruptions.Pods)
	}
	for kind, n := range metrics.Requests {
		res.RequestsCheck.Nodewave += n
		if kind == evictionRequest {
			continue
		}
		res.RequestsPerNode[kind] = n / float64(o.nodes)
		res.RequestsPerNodeTotal += n / float64(o.nodes)
	}
	for _, n := range metrics.RequestsByMethod {
		res.RequestsCheck.ClientGo += n
	}
	title := fmt.Sprintf("nodewave: %d nodes, %s (budget %d)", o.nodes, strategy, budget)
	if err := plotRun(filepath.Join(o.out, res.Plot), title, spans, budget); err != nil {
		return nil, err
	}
	return res, nil
}

// limitMemory makes the manager run in a cgroup limited to
// -manager-memory-limit, and returns what removes it once the manager has
// ended.
func (o options) limitMemory(manager *exec.Cmd) (func(), error) {
	if o.managerMemoryLimit == "" {
		return func() {}, nil
	}
	limit, err := resource.ParseQuantity(o.managerMemoryLimit)
	if err != nil {
		return nil, fmt.Errorf("-manager-memory-limit: %w", err)
	}
	cg, err := newMemoryCgroup(fmt.Sprintf("nodewave-bench-%d", os.Getpid()), limit.Value())
	if err != nil {
		return nil, fmt.Errorf("running the manager under its memory limit %s (-manager-memory-limit= runs it without): %w",
			o.managerMemoryLimit, err)
	}
	cg.wrap(manager)
	return func() { _ = cg.remove() }, nil
}

// clusterUpgrade is the ClusterUpgrade the run applies, and its strategy
// in words.
func (o options) clusterUpgrade() (*upgradev1alpha1.ClusterUpgrade, string) {
	cu := &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: upgradev1alpha1.ClusterUpgradeSpec{
			TargetVersion: targetVersion,
			NodeSelector:  &metav1.LabelSelector{MatchLabels: map[string]string{"pool": "general"}},
			Upgrade:       upgradev1alpha1.NodeUpgradeSpec{Type: upgradev1alpha1.ExternalUpgrade},
			Health:        upgradev1alpha1.HealthSpec{SoakDuration: &metav1.Duration{}},
			Drain:         upgradev1alpha1.DrainSpec{Timeout: &metav1.Duration{Duration: o.drainTimeout}},
		},
	}
	strategy := "Sequential"
	if o.maxUnavailable != "" {
		v := intstr.Parse(o.maxUnavailable)
		cu.Spec.Strategy = upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: &v}
		strategy = "Concurrent " + o.maxUnavailable
	}
	if o.zoneMaxUnavailable != "" || o.oneZone {
		cu.Spec.Strategy.Zones = &upgradev1alpha1.ZoneStrategy{OneAtATime: o.oneZone}
		strategy += ", zones"
		if o.zoneMaxUnavailable != "" {
			v := intstr.Parse(o.zoneMaxUnavailable)
			cu.Spec.Strategy.Zones.MaxUnavailable = &v
			strategy += " at most " + o.zoneMaxUnavailable + " each"
		}
		if o.oneZone {
			strategy += " one at a time"
		}
	}
	if o.noPendingTaint {
		strategy += ", no pending taint"
	}
	if o.replacementsReady {
		cu.Spec.Health.ReplacementsReady = &upgradev1alpha1.ReplacementsReadySpec{Timeout: &metav1.Duration{Duration: o.drainTimeout}}
		strategy += ", replacements ready"
	}
	return cu, strategy
}

// simCluster is the simulated cluster's name.
func (o options) simCluster() string {
	if o.simName != "" {
		return o.simName
	}
	return fmt.Sprintf("nodewave-bench-%d", o.nodes)
}

// startTimeline starts the periodic scrapes of -scrape-every; nil when off.
func (o options) startTimeline(ctx context.Context) *timeline {
	if o.scrapeEvery <= 0 {
		return nil
	}
	return startTimeline(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", o.metricsPort), o.scrapeEvery)
}

// finishTimeline stops the periodic scrapes, if on, and plots them. The
// plot is a by-product: failing to draw it is logged, and the run goes on.
func (o options) finishTimeline(tl *timeline, strategy string) {
	if tl == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			log.Printf("plotting the metrics over time: %v", r)
		}
	}()
	time.Sleep(2 * o.scrapeEvery) // the last transitions' scrapes
	out := o.metricsPlot
	if out == "" {
		out = filepath.Join(o.out, o.name+"-metrics.png")
	}
	if err := plotTimeline(out, fmt.Sprintf("nodewave: %d nodes, %s", o.nodes, strategy), tl.stop()); err != nil {
		log.Printf("plotting the metrics over time: %v", err)
		return
	}
	log.Printf("metrics over time: %s", out)
}

// waitSucceeded polls the ClusterUpgrade until it succeeds; it fails if
// the upgrade fails or ctx ends.
func waitSucceeded(ctx context.Context, c client.Client, cu *upgradev1alpha1.ClusterUpgrade) error {
	for {
		if err := c.Get(ctx, client.ObjectKeyFromObject(cu), cu); err != nil {
			return err
		}
		switch cu.Status.Phase {
		case upgradev1alpha1.PhaseSucceeded:
			return nil
		case upgradev1alpha1.PhaseFailed:
			return fmt.Errorf("the upgrade failed: %+v", cu.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %d of %d upgraded", ctx.Err(), cu.Status.UpgradedNodes, cu.Status.TotalNodes)
		case <-time.After(time.Second):
		}
	}
}

func summary(r *result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d nodes, %d pods, %s (budget %d); the simulated cluster started in %s\n",
		r.Name, r.Nodes, r.Pods, r.Strategy, r.MaxUnavailable, r.ClusterStart.Round(time.Second))
	fmt.Fprintf(&b, "  makespan %s, lower bound %s, ratio %.3f; barrier batches %s (%.3f x the bound)\n",
		r.Makespan.Round(time.Millisecond), r.LowerBound.Round(time.Millisecond), r.Ratio, r.Barrier.Round(time.Millisecond), r.BarrierRatio)
	fmt.Fprintf(&b, "  handoff p50 %s, p99 %s\n", r.HandoffP50.Round(time.Millisecond), r.HandoffP99.Round(time.Millisecond))
	fmt.Fprintf(&b, "  time in flight: drains %.1f%%, upgrades %.1f%%, the rest %.1f%%\n", 100*r.InFlight.Drain, 100*r.InFlight.Upgrade, 100*r.InFlight.Rest)
	limit := "no memory limit"
	if r.MemoryLimit != "" {
		limit = "under a memory limit of " + r.MemoryLimit
	}
	fmt.Fprintf(&b, "  manager peak RSS %.1f MiB (%s), CPU %s (%s per node)\n",
		r.PeakRSSMiB, limit, r.CPU.Round(10*time.Millisecond), r.CPUPerNode.Round(100*time.Microsecond))
	fmt.Fprintf(&b, "  API requests per node %.1f, evictions apart (%.1f eviction requests per node; %.0f requests in all, client-go counted %.0f):\n",
		r.RequestsPerNodeTotal, r.EvictionsPerNode, r.RequestsCheck.Nodewave, r.RequestsCheck.ClientGo)
	for _, kind := range slices.SortedFunc(maps.Keys(r.RequestsPerNode), func(a, b string) int {
		return cmp.Or(cmp.Compare(r.RequestsPerNode[b], r.RequestsPerNode[a]), cmp.Compare(a, b))
	}) {
		if n := r.RequestsPerNode[kind]; n >= 0.05 {
			fmt.Fprintf(&b, "    %6.1f %s\n", n, kind)
		}
	}
	d := r.Disruptions
	fmt.Fprintf(&b, "  evictions per pod %.3f accepted (%d of %d workload pods ended, %.3f per pod);"+
		" per workload mean %.3f, worst %.3f (%s), %d of %d over one per pod\n", r.EvictedPerPod,
		d.Ended, d.Pods, d.PerPod, d.PerWorkloadMean, d.PerWorkloadMax, d.Worst, d.WorkloadsOverOnePerPod, d.Workloads)
	fmt.Fprintf(&b, "  reconciles %.0f, p99 %s; plot %s\n", r.Reconciles, r.ReconcileP99, r.Plot)
	fmt.Fprintf(&b, "  %d nodes entered the lifecycle more than once; the last to finish"+
		" (since the first cordon: taken, drained, at the target, upgraded):\n", r.Reentered)
	for _, l := range r.Last {
		fmt.Fprintf(&b, "    %s (%d entries): %s, %s, %s, %s\n", l.Node, l.Entries, l.Start.Round(time.Second),
			l.Drained.Round(time.Second), l.Reached.Round(time.Second), l.End.Round(time.Second))
	}
	return b.String()
}

func ptrTo[T any](v T) *T { return &v }

// ignoreNoMatch is err, or nil when it says the API server does not serve
// the kind yet.
func ignoreNoMatch(err error) error {
	if meta.IsNoMatchError(err) {
		return nil
	}
	return err
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// install applies nodewave's CRDs and creates its Job namespace.
func install(ctx context.Context, root, kubeconfig string, c client.Client) error {
	apply := exec.CommandContext(ctx, kubectlPath(root), "--kubeconfig", kubeconfig, "apply", "--server-side", "-f",
		filepath.Join(root, "config", "crd", "bases"))
	apply.Stdout, apply.Stderr = os.Stderr, os.Stderr
	if err := apply.Run(); err != nil {
		return err
	}
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nodewave-system"}})
	return client.IgnoreAlreadyExists(err)
}

// kubectlPath asks the toolchain where the simulated cluster's binaries are.
func kubectlPath(root string) string {
	out, err := exec.Command(filepath.Join(root, "hack", "toolchain.sh"), "sim").Output()
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "kubectl")
}
