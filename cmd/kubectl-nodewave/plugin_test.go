package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/cmd/kubectl-nodewave/internal/cli"
)

// now is the plugin's clock in the suite; the nodes' state-since
// annotations are set relative to it.
var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// result is what one run of the plugin printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// plugin runs kubectl-nodewave in-process with the suite's kubeconfig.
func plugin(args ...string) result { return pluginListing(cli.PodLists{}, args...) }

// pluginListing runs it with podLists to say how pods are listed.
func pluginListing(podLists cli.PodLists, args ...string) result {
	var out, errOut bytes.Buffer
	code := cli.Main(append([]string{"--kubeconfig", kubeconfig}, args...), cli.Options{
		Streams:  genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Now:      func() time.Time { return now },
		PodLists: podLists,
	})
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// expectGolden compares got with testdata/name, or rewrites it with -update.
func expectGolden(name, got string) {
	GinkgoHelper()
	path := filepath.Join("testdata", name)
	if *update {
		Expect(os.WriteFile(path, []byte(got), 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "run with -update to create %s", path)
	Expect(got).To(Equal(string(want)), "%s differs; run go test ./cmd/kubectl-nodewave -update and review the diff", path)
}

// worker creates a Ready worker at kubelet in zone with 4 CPU and 8Gi,
// then lets opts change it (labels, cordon, conditions).
func worker(ctx context.Context, name, zone, kubelet string, opts ...func(*corev1.Node)) {
	GinkgoHelper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{upgradev1alpha1.ZoneLabel: zone}, Annotations: map[string]string{}}}
	n.Status = corev1.NodeStatus{
		NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: kubelet},
		Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))}},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
		Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
	}
	for _, o := range opts {
		o(n)
	}
	status := n.Status
	Expect(env.Client.Create(ctx, n)).To(Succeed())
	n.Status = status
	Expect(env.Client.Status().Update(ctx, n)).To(Succeed())
}

// held puts the node in state for the ClusterUpgrade "workers", entered
// `ago` before now.
func held(state upgradev1alpha1.NodeState, ago time.Duration) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Labels[upgradev1alpha1.NodeStateLabel] = string(state)
		n.Annotations[upgradev1alpha1.ClusterUpgradeAnnotation] = "workers"
		n.Annotations[upgradev1alpha1.StateSinceAnnotation] = now.Add(-ago).Format(time.RFC3339)
		n.Spec.Unschedulable = state != upgradev1alpha1.NodeUpgraded
	}
}

// workload creates a Running pod in shop on node, owned by a controller
// of kind (none when kind is ""), requesting cpu and memory.
func workload(ctx context.Context, name, node, kind, app, cpu, mem string, opts ...func(*corev1.Pod)) {
	GinkgoHelper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "example.com/" + app + ":v1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}},
	}
	if kind != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: app,
			UID: "00000000-0000-0000-0000-000000000001", Controller: ptr.To(true)}}
	}
	for _, o := range opts {
		o(p)
	}
	Expect(env.Client.Create(ctx, p)).To(Succeed())
	p.Status.Phase = corev1.PodRunning
	Expect(env.Client.Status().Update(ctx, p)).To(Succeed())
}

// theCluster is the world of the suite: seven workers in three zones and
// a control-plane node; a ClusterUpgrade "workers" (Concurrent, 3 at a
// time) with one node upgraded and one draining; a web Deployment whose
// PodDisruptionBudget allows no disruption; a database, a cache with
// emptyDir, a pod without a controller, a DaemonSet's pod.
func theCluster(ctx context.Context) {
	worker(ctx, "worker-a-1", "zone-a", "v1.37.2", held(upgradev1alpha1.NodeUpgraded, 10*time.Minute))
	worker(ctx, "worker-a-2", "zone-a", "v1.36.3", held(upgradev1alpha1.NodeDraining, 2*time.Minute))
	worker(ctx, "worker-a-3", "zone-a", "v1.36.3")
	worker(ctx, "worker-b-1", "zone-b", "v1.36.3")
	worker(ctx, "worker-b-2", "zone-b", "v1.36.3", func(n *corev1.Node) {
		n.Status.Conditions[0].Status = corev1.ConditionUnknown
	})
	worker(ctx, "worker-c-1", "zone-c", "v1.36.3")
	worker(ctx, "worker-c-2", "zone-c", "v1.38.0")
	worker(ctx, "control-plane-1", "zone-a", "v1.37.2", func(n *corev1.Node) {
		n.Labels[upgradev1alpha1.ControlPlaneLabel] = ""
	})

	Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})).To(Succeed())
	workload(ctx, "web-1", "worker-a-2", "ReplicaSet", "web", "1", "1Gi")
	workload(ctx, "web-2", "worker-b-1", "ReplicaSet", "web", "1", "1Gi")
	workload(ctx, "web-3", "worker-c-1", "ReplicaSet", "web", "1", "1Gi")
	workload(ctx, "db-0", "worker-a-3", "StatefulSet", "db", "3", "6Gi")
	workload(ctx, "cache", "worker-b-1", "ReplicaSet", "cache", "500m", "2Gi", func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	})
	workload(ctx, "debug", "worker-c-1", "", "debug", "100m", "64Mi")
	workload(ctx, "agent-b1", "worker-b-1", "DaemonSet", "agent", "100m", "128Mi")
	labels := map[string]string{"app": "agent"}
	Expect(env.Client.Create(ctx, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/agent:v1"}}}}}})).To(Succeed())

	web := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	Expect(env.Client.Create(ctx, web)).To(Succeed())
	web.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: web.Generation, DisruptionsAllowed: 0,
		CurrentHealthy: 3, DesiredHealthy: 3, ExpectedPods: 3}
	Expect(env.Client.Status().Update(ctx, web)).To(Succeed())

	cu := &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: "workers"},
		Spec: upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: "v1.37.2",
			Strategy: upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: ptr.To(intstr.FromInt32(3))},
			Upgrade:  upgradev1alpha1.NodeUpgradeSpec{Type: upgradev1alpha1.ExternalUpgrade}},
	}
	Expect(env.Client.Create(ctx, cu)).To(Succeed())
	cu.Status = upgradev1alpha1.ClusterUpgradeStatus{ObservedGeneration: cu.Generation, Phase: upgradev1alpha1.PhaseProgressing,
		TotalNodes: 7, UpgradedNodes: 1, UpgradingNodes: 1, PendingNodes: 4, SkippedNodes: 1,
		InProgress: []upgradev1alpha1.NodeProgress{{Name: "worker-a-2", State: upgradev1alpha1.NodeDraining,
			Since: ptr.To(metav1.NewTime(now.Add(-2 * time.Minute))), Message: "1 pod blocked by PodDisruptionBudget shop/web"}}}
	Expect(env.Client.Status().Update(ctx, cu)).To(Succeed())
}

var _ = Describe("kubectl nodewave", Ordered, func() {
	BeforeAll(func(ctx SpecContext) { theCluster(ctx) })

	Describe("status", func() {
		It("shows each selected node in plan order with its state, kubelet, age and message, and a summary", func() {
			r := plugin("status", "workers")
			Expect(r.code).To(Equal(0), r.stderr)
			expectGolden("status.golden", r.stdout)
		})

		It("adds READY, CORDONED and TARGET with -o wide", func() {
			r := plugin("status", "workers", "-o", "wide")
			Expect(r.code).To(Equal(0), r.stderr)
			expectGolden("status-wide.golden", r.stdout)
		})

		It("leaves out the header and the summary with --no-headers", func() {
			r := plugin("status", "workers", "--no-headers")
			Expect(r.code).To(Equal(0), r.stderr)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			Expect(lines).To(HaveLen(7), "one row per selected node, nothing else")
			Expect(lines[0]).To(MatchRegexp(`^worker-a-1\s+zone-a\s+upgraded\s+v1\.37\.2\s+10m`))
			Expect(r.stdout).NotTo(ContainSubstring("NODE"))
			Expect(r.stdout).NotTo(ContainSubstring("ClusterUpgrade workers:"))
		})

		It("prints the ClusterUpgrade itself with -o yaml and -o json, as kubectl get does", func() {
			for _, format := range []string{"yaml", "json"} {
				r := plugin("status", "workers", "-o", format)
				Expect(r.code).To(Equal(0), r.stderr)
				cu := &upgradev1alpha1.ClusterUpgrade{}
				Expect(yaml.UnmarshalStrict([]byte(r.stdout), cu)).To(Succeed(), format)
				Expect(cu.APIVersion).To(Equal("upgrade.nodewave.io/v1alpha1"), format)
				Expect(cu.Kind).To(Equal("ClusterUpgrade"), format)
				Expect(cu.Name).To(Equal("workers"), format)
				Expect(cu.Spec.TargetVersion).To(Equal("v1.37.2"), format)
				Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseProgressing), format)
				Expect(cu.Status.UpgradedNodes).To(Equal(int32(1)), format)
				Expect(cu.Status.InProgress).To(HaveLen(1), format)
				Expect(cu.Status.InProgress[0].Message).To(Equal("1 pod blocked by PodDisruptionBudget shop/web"), format)
				Expect(cu.ManagedFields).To(BeEmpty(), "as kubectl get, without --show-managed-fields")
			}
			Expect(plugin("status", "workers", "-o", "yaml", "--show-managed-fields").stdout).To(ContainSubstring("managedFields:"))
		})

		It("picks status fields with -o jsonpath and go-template", func() {
			r := plugin("status", "workers", "-o", "jsonpath={.status.phase} {.status.inProgress[0].name}")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).To(Equal("Progressing worker-a-2"))
			r = plugin("status", "workers", "-o", "go-template={{.status.pendingNodes}}")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).To(Equal("4"))
		})

		It("prints kind.group/name with -o name", func() {
			r := plugin("status", "workers", "-o", "name")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).To(Equal("clusterupgrade.upgrade.nodewave.io/workers\n"))
		})

		It("fails, naming it, for a ClusterUpgrade that does not exist", func() {
			r := plugin("status", "nope")
			Expect(r.code).To(Equal(cli.ExitError))
			Expect(r.stderr).To(Equal("error: ClusterUpgrade \"nope\" not found (for one not applied yet, use plan -f FILE)\n"))
			Expect(r.stdout).To(BeEmpty())
		})

		It("refuses an unknown output format with cli-runtime's message, before reading the cluster", func() {
			r := plugin("status", "nope", "-o", "xml")
			Expect(r.code).To(Equal(cli.ExitError))
			Expect(r.stderr).To(HavePrefix(`error: unable to match a printer suitable for the output format "xml", allowed formats are: `))
			Expect(r.stderr).To(ContainSubstring("json,jsonpath,"))
			Expect(r.stderr).To(ContainSubstring(",name,"))
			Expect(r.stderr).To(ContainSubstring(",wide,"))
			Expect(r.stdout).To(BeEmpty())
		})
	})

	Describe("completion", Ordered, completionSpecs)

	Describe("the built plugin", Ordered, builtPluginSpecs)

	Describe("plan", func() {
		It("foresees the waves and blockers of an applied ClusterUpgrade", func() {
			r := plugin("plan", "workers")
			Expect(r.code).To(Equal(0), "blockers are warnings: %s", r.stderr)
			expectGolden("plan.golden", r.stdout)
		})

		It("foresees one from a file, admitted by a server-side dry run, and sees it would wait for the applied one", func() {
			r := plugin("plan", "-f", filepath.Join("testdata", "clusterupgrade.yaml"))
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stderr).To(BeEmpty())
			expectGolden("plan-file.golden", r.stdout)
		})

		It("lists the waves as JSON, as the planner starts them", func() {
			r := plugin("plan", "workers", "-o", "json")
			Expect(r.code).To(Equal(0), r.stderr)
			var got struct {
				InFlightNodes []string `json:"inFlightNodes"`
				Waves         []struct {
					Nodes []string `json:"nodes"`
				} `json:"waves"`
				NeverStarted []string `json:"neverStarted"`
				Findings     []struct{ Severity, Kind, Subject string }
			}
			Expect(json.Unmarshal([]byte(r.stdout), &got)).To(Succeed())
			Expect(got.InFlightNodes).To(Equal([]string{"worker-a-2"}))
			// worker-a-2 in flight and worker-b-2 NotReady hold two of the
			// three slots: one node starts now; then two at a time.
			Expect(got.Waves).To(HaveLen(2))
			Expect(got.Waves[0].Nodes).To(Equal([]string{"worker-a-3"}))
			Expect(got.Waves[1].Nodes).To(Equal([]string{"worker-b-1", "worker-c-1"}))
			Expect(got.NeverStarted).To(Equal([]string{"worker-b-2"}))
			var blockers []string
			for _, f := range got.Findings {
				if f.Severity == "Blocker" {
					blockers = append(blockers, f.Kind+" "+f.Subject)
				}
			}
			Expect(blockers).To(Equal([]string{
				"PodDisruptionBudget PodDisruptionBudget shop/web",
				"Pod pod shop/debug on node worker-c-1",
				"NotReady node worker-b-2",
			}))
		})

		It("prints the forecast as an object with -o yaml, and picks its fields with -o jsonpath", func() {
			r := plugin("plan", "workers", "-o", "yaml")
			Expect(r.code).To(Equal(0), r.stderr)
			var got struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Name       string `json:"name"`
				TotalWaves int    `json:"totalWaves"`
				Waves      []struct {
					Nodes []string `json:"nodes"`
				} `json:"waves"`
			}
			Expect(yaml.Unmarshal([]byte(r.stdout), &got)).To(Succeed())
			Expect(got.APIVersion).To(Equal("kubectl.nodewave.io/v1alpha1"))
			Expect(got.Kind).To(Equal("Forecast"))
			Expect(got.Name).To(Equal("workers"))
			Expect(got.TotalWaves).To(Equal(2))
			Expect(got.Waves[1].Nodes).To(Equal([]string{"worker-b-1", "worker-c-1"}))

			r = plugin("plan", "workers", "-o", "jsonpath={.totalWaves} {.waves[0].nodes[0]}")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).To(Equal("2 worker-a-3"))
		})

		It("refuses -o name: a forecast is not an object of the cluster", func() {
			r := plugin("plan", "workers", "-o", "name")
			Expect(r.code).To(Equal(cli.ExitError))
			Expect(r.stderr).To(HavePrefix(`error: unable to match a printer suitable for the output format "name", allowed formats are: `))
			Expect(r.stderr).NotTo(ContainSubstring(",name,"))
			Expect(r.stdout).To(BeEmpty())
		})

		It("foresees the same from every pod listed page by page as from the nodes' pods listed one by one", func(ctx SpecContext) {
			pods := &corev1.PodList{}
			Expect(env.Client.List(ctx, pods)).To(Succeed())
			Expect(len(pods.Items)).To(BeNumerically(">=", 5), "pods on several pages")
			byNode := plugin("plan", "workers", "-o", "json")
			Expect(byNode.code).To(Equal(0), byNode.stderr)
			// Every node more than PerNodeUpTo, one pod a page.
			paged := pluginListing(cli.PodLists{PerNodeUpTo: 1, PageSize: 1}, "plan", "workers", "-o", "json")
			Expect(paged.code).To(Equal(0), paged.stderr)
			Expect(paged.stdout).To(Equal(byNode.stdout))
			Expect(paged.stdout).To(ContainSubstring("pod shop/debug on node worker-c-1"), "a pod found on a later page")
			table := pluginListing(cli.PodLists{PerNodeUpTo: 1, PageSize: 1}, "plan", "workers")
			expectGolden("plan.golden", table.stdout)
		})

		It("exits 2 with --fail-on-blockers when there are blockers, after printing the plan", func() {
			r := plugin("plan", "workers", "--fail-on-blockers")
			Expect(r.code).To(Equal(cli.ExitBlockers))
			Expect(r.stderr).To(Equal("error: the plan has blockers (3)\n"))
			Expect(r.stdout).To(ContainSubstring("Blockers (3):"))
		})

		It("exits 0 with --fail-on-blockers when there are none", func() {
			r := plugin("plan", "-f", writeFile("control-plane.yaml", `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata: {name: control-plane}
spec:
  targetVersion: v1.37.2
  nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}
  upgrade: {type: External}
`), "--fail-on-blockers")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).To(ContainSubstring("Blockers: none foreseen"))
			Expect(r.stdout).To(ContainSubstring("nodes already at v1.37.2 (1): counted upgraded, never touched: control-plane-1"))
		})

		It("foresees the controller's own stops: no node selected, a target newer than the API server", func() {
			r := plugin("plan", "-f", writeFile("none.yaml", `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata: {name: none}
spec:
  targetVersion: v1.37.2
  nodeSelector: {matchLabels: {pool: none}}
  upgrade: {type: External}
`), "--fail-on-blockers")
			Expect(r.code).To(Equal(cli.ExitBlockers))
			Expect(r.stdout).To(ContainSubstring(`ClusterUpgrade none: spec.nodeSelector matches no node (selector "pool=none")`))

			r = plugin("plan", "-f", writeFile("skew.yaml", `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata: {name: skew}
spec:
  targetVersion: v1.38.0
  nodeSelector: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}
  upgrade: {type: External}
`), "--fail-on-blockers")
			Expect(r.code).To(Equal(cli.ExitBlockers))
			Expect(r.stdout).To(ContainSubstring("ClusterUpgrade skew: targetVersion v1.38.0 is newer than the API server (v1.37.2)"))
		})

		It("fails on a ClusterUpgrade the API server refuses, naming the field", func() {
			file := writeFile("bad.yaml", `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata: {name: bad}
spec:
  targetVersion: v1.37.2
  strategy: {type: Concurrent, maxUnavailable: "0%"}
  upgrade: {type: External}
`)
			r := plugin("plan", "-f", file)
			Expect(r.code).To(Equal(cli.ExitError))
			Expect(r.stderr).To(ContainSubstring("the API server refuses it"))
			Expect(r.stderr).To(ContainSubstring("spec.strategy.maxUnavailable"))
			Expect(r.stdout).To(BeEmpty())
		})

		It("forecasts a change to an applied ClusterUpgrade as an update: no conflict with itself", func() {
			file := writeFile("change.yaml", `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata: {name: workers}
spec:
  targetVersion: v1.37.2
  strategy: {type: Concurrent, maxUnavailable: 1}
  drain: {force: true}
  upgrade: {type: External}
`)
			r := plugin("plan", "-f", file, "-o", "json")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).NotTo(ContainSubstring(`"Conflict"`))
			Expect(r.stdout).NotTo(ContainSubstring("shop/debug"), "drain.force lets the pod without a controller go")
			Expect(r.stdout).To(ContainSubstring(`"maxUnavailable": 1,`))

			cu := &upgradev1alpha1.ClusterUpgrade{}
			Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: "workers"}, cu)).To(Succeed())
			Expect(cu.Spec.Strategy.MaxUnavailable.IntValue()).To(Equal(3), "a dry run changes nothing")
		})

		It("refuses a NAME and -f together, and neither", func() {
			Expect(plugin("plan").stderr).To(ContainSubstring("plan takes one ClusterUpgrade: a NAME, or -f FILE"))
			Expect(plugin("plan", "workers", "-f", "x.yaml").stderr).To(ContainSubstring("plan takes a NAME or -f FILE, not both"))
		})

		// Last, as it adds nodes that the specs above do not expect: a pool
		// "edge" of three control-plane nodes and four workers, at the API
		// server's version (v1.37.2), upgraded to v1.38.0 with
		// spec.controlPlane. Its nodes are removed after it.
		Describe("with spec.controlPlane", Ordered, func() {
			BeforeAll(func(ctx SpecContext) {
				edge := func(n *corev1.Node) { n.Labels["pool"] = "edge" }
				controlPlane := func(n *corev1.Node) { n.Labels[upgradev1alpha1.ControlPlaneLabel] = "" }
				names := make([]string, 0, 7)
				for i, zone := range []string{"zone-e", "zone-d", "zone-f"} {
					names = append(names, []string{"edge-cp-2", "edge-cp-1", "edge-cp-3"}[i])
					worker(ctx, names[i], zone, "v1.37.2", edge, controlPlane)
				}
				for i, zone := range []string{"zone-d", "zone-e", "zone-d", "zone-e"} {
					names = append(names, fmt.Sprintf("edge-%d", i+1))
					worker(ctx, names[len(names)-1], zone, "v1.37.2", edge)
				}
				deleteNodesAfter(names)
			})

			It("foresees the control plane first, one node a wave, then the workers by the strategy over the workers alone", func() {
				r := plugin("plan", "-f", filepath.Join("testdata", "clusterupgrade-control-plane.yaml"))
				Expect(r.code).To(Equal(0), r.stderr)
				Expect(r.stderr).To(BeEmpty())
				expectGolden("plan-control-plane.golden", r.stdout)
			})

			It("lists each control-plane node once, in a control-plane wave, though both selectors select it", func() {
				r := plugin("plan", "-f", filepath.Join("testdata", "clusterupgrade-control-plane.yaml"), "-o", "json")
				Expect(r.code).To(Equal(0), r.stderr)
				var got struct {
					MaxUnavailable int `json:"maxUnavailable"`
					Selected       int `json:"selected"`
					ControlPlane   struct {
						Selected int `json:"selected"`
						Waves    int `json:"waves"`
					} `json:"controlPlane"`
					Waves []struct {
						ControlPlane bool     `json:"controlPlane"`
						Nodes        []string `json:"nodes"`
					} `json:"waves"`
					Findings []struct{ Severity, Kind string }
				}
				Expect(json.Unmarshal([]byte(r.stdout), &got)).To(Succeed())
				Expect(got.Selected).To(Equal(4), "the workers")
				Expect(got.MaxUnavailable).To(Equal(2), "50% of the four workers")
				Expect(got.ControlPlane.Selected).To(Equal(3))
				Expect(got.ControlPlane.Waves).To(Equal(3))
				waves := make([]string, 0, len(got.Waves))
				for _, w := range got.Waves {
					waves = append(waves, fmt.Sprintf("%v %s", w.ControlPlane, strings.Join(w.Nodes, ",")))
				}
				Expect(waves).To(Equal([]string{
					"true edge-cp-1", "true edge-cp-2", "true edge-cp-3",
					"false edge-1,edge-3", "false edge-2,edge-4",
				}))
				// The target is newer than the API server (v1.37.2): a note, as
				// the control plane goes first. The one blocker is the applied
				// ClusterUpgrade "workers", which selects the edge workers too.
				findings := make([]string, 0, len(got.Findings))
				for _, f := range got.Findings {
					findings = append(findings, f.Severity+" "+f.Kind)
				}
				Expect(findings).To(Equal([]string{"Blocker Conflict", "Note VersionSkew", "Note Capacity", "Note Capacity"}))
			})

			It("blocks when spec.controlPlane.nodeSelector matches no node", func() {
				r := plugin("plan", "-f", writeFile("no-control-plane.yaml", `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata: {name: no-control-plane}
spec:
  targetVersion: v1.38.0
  nodeSelector: {matchLabels: {pool: edge}}
  controlPlane:
    nodeSelector: {matchLabels: {pool: none}}
  upgrade: {type: External}
`), "--fail-on-blockers")
				Expect(r.code).To(Equal(cli.ExitBlockers))
				Expect(r.stdout).To(ContainSubstring(`ClusterUpgrade no-control-plane: spec.controlPlane.nodeSelector matches no node (selector "pool=none")`))
			})
		})

		// Last too, as it adds nodes: a pool "blue" of six workers in three
		// zones at v1.36.3, upgraded to v1.37.2 half at a time after a
		// canary (spec.strategy.canary). Its nodes are removed after it.
		Describe("with spec.strategy.canary", Ordered, func() {
			BeforeAll(func(ctx SpecContext) {
				blue := func(n *corev1.Node) { n.Labels["pool"] = "blue" }
				names := make([]string, 0, 6)
				for i, zone := range []string{"zone-d", "zone-e", "zone-f", "zone-d", "zone-e", "zone-f"} {
					names = append(names, fmt.Sprintf("blue-%d", i+1))
					worker(ctx, names[i], zone, "v1.36.3", blue)
				}
				deleteNodesAfter(names)
			})

			It("foresees the canary's wave alone, then a row for its soak and one for its pause before the rest", func() {
				r := plugin("plan", "-f", filepath.Join("testdata", "clusterupgrade-canary.yaml"))
				Expect(r.code).To(Equal(0), r.stderr)
				Expect(r.stderr).To(BeEmpty())
				expectGolden("plan-canary.golden", r.stdout)
			})

			It("marks the canary's waves and the holds the next one waits for in JSON", func() {
				r := plugin("plan", "-f", filepath.Join("testdata", "clusterupgrade-canary.yaml"), "-o", "json")
				Expect(r.code).To(Equal(0), r.stderr)
				var got struct {
					MaxUnavailable int `json:"maxUnavailable"`
					Canary         struct {
						Size         int    `json:"size"`
						SoakDuration string `json:"soakDuration"`
						Pause        bool   `json:"pause"`
						Waves        int    `json:"waves"`
					} `json:"canary"`
					Waves []struct {
						Canary   bool     `json:"canary"`
						WaitsFor []string `json:"waitsFor"`
						Nodes    []string `json:"nodes"`
					} `json:"waves"`
					Findings []struct{ Severity, Kind string }
				}
				Expect(json.Unmarshal([]byte(r.stdout), &got)).To(Succeed())
				Expect(got.MaxUnavailable).To(Equal(3), "50% of six")
				Expect(got.Canary.Size).To(Equal(2), "25% of six, rounded up")
				Expect(got.Canary.SoakDuration).To(Equal("30m0s"))
				Expect(got.Canary.Pause).To(BeTrue())
				Expect(got.Canary.Waves).To(Equal(1))
				waves := make([]string, 0, len(got.Waves))
				for _, w := range got.Waves {
					waves = append(waves, fmt.Sprintf("%v %v %s", w.Canary, w.WaitsFor, strings.Join(w.Nodes, ",")))
				}
				Expect(waves).To(Equal([]string{
					"true [] blue-1,blue-4",
					"false [CanarySoaking CanaryPaused] blue-2,blue-5,blue-3",
					"false [] blue-6",
				}))
				findings := make([]string, 0, len(got.Findings))
				for _, f := range got.Findings {
					findings = append(findings, f.Severity+" "+f.Kind)
				}
				// The one blocker is the applied ClusterUpgrade "workers",
				// which selects the blue workers too.
				Expect(findings).To(Equal([]string{"Blocker Conflict", "Note CanaryPaused", "Note Capacity", "Note Capacity"}))
			})

			It("forecasts as the planner what the API's default soak is for a canary without one", func() {
				r := plugin("plan", "-f", writeFile("canary-default.yaml", `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata: {name: blue-default}
spec:
  targetVersion: v1.37.2
  nodeSelector: {matchLabels: {pool: blue}}
  strategy:
    type: Sequential
    canary: {nodes: 1}
  upgrade: {type: External}
`))
				Expect(r.code).To(Equal(0), r.stderr)
				Expect(r.stdout).To(ContainSubstring("Canary (spec.strategy.canary): the first 1 of the 6 selected nodes goes alone; " +
					"the rest start once every canary node is upgraded and has soaked 10m0s\n"))
				Expect(r.stdout).To(ContainSubstring("1      canary   1       zone-d   blue-1\n" +
					"-      soak     -       -        the rest wait 10m0s once every canary node is upgraded (CanarySoaking)\n" +
					"2      worker   1       zone-d   blue-4\n"))
			})
		})

		// Last of the plan's specs, so that its pods are gone before
		// anything else could list them.
		Describe("with spec.drain.rules", Ordered, func() {
			BeforeAll(func(ctx SpecContext) {
				green := func(n *corev1.Node) { n.Labels["pool"] = "green" }
				worker(ctx, "green-1", "zone-d", "v1.36.3", green)
				worker(ctx, "green-2", "zone-e", "v1.36.3", green)
				deleteNodesAfter([]string{"green-1", "green-2"})
				annotate := func(key, value string) func(*corev1.Pod) {
					return func(p *corev1.Pod) { p.Annotations = map[string]string{key: value} }
				}
				workload(ctx, "green-web", "green-1", "ReplicaSet", "green-web", "500m", "1Gi")
				workload(ctx, "green-db", "green-1", "StatefulSet", "green-db", "1", "2Gi")
				workload(ctx, "green-logs", "green-2", "ReplicaSet", "green-logs", "100m", "128Mi")
				workload(ctx, "green-report", "green-2", "Job", "green-report", "1", "1Gi", func(p *corev1.Pod) {
					p.OwnerReferences[0].APIVersion = "batch/v1"
					p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
				}, annotate(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted"))
				workload(ctx, "green-maybe", "green-2", "ReplicaSet", "green-maybe", "100m", "128Mi",
					annotate(upgradev1alpha1.DrainBehaviorKey, "Maybe"))
				DeferCleanup(func(ctx SpecContext) {
					for _, name := range []string{"green-web", "green-db", "green-logs", "green-report", "green-maybe"} {
						Expect(env.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}})).To(Succeed())
					}
				})
			})

			It("says which pods the rules skip, which it waits for, the drain orders, and which marker blocks", func() {
				r := plugin("plan", "-f", filepath.Join("testdata", "clusterupgrade-drain-rules.yaml"))
				Expect(r.code).To(Equal(0), r.stderr)
				Expect(r.stderr).To(BeEmpty())
				expectGolden("plan-drain-rules.golden", r.stdout)
			})

			It("lists the same as findings in JSON", func() {
				r := plugin("plan", "-f", filepath.Join("testdata", "clusterupgrade-drain-rules.yaml"), "-o", "json")
				Expect(r.code).To(Equal(0), r.stderr)
				var got struct {
					Findings []struct{ Severity, Kind, Subject, Message string }
				}
				Expect(json.Unmarshal([]byte(r.stdout), &got)).To(Succeed())
				Expect(got.Findings).To(ContainElement(And(HaveField("Severity", "Note"), HaveField("Kind", "DrainRules"),
					HaveField("Message", HavePrefix("1 pod skipped by drain rules or their own markers, left on their nodes: shop/green-logs on green-2; "+
						"1 pod waited for until it completes, never evicted: shop/green-report on green-2")))))
				Expect(got.Findings).To(ContainElement(And(HaveField("Severity", "Blocker"), HaveField("Kind", "Pod"),
					HaveField("Subject", "pod shop/green-maybe on node green-2"))))
			})
		})
	})
})

// writeFile writes data to a fresh temporary file and returns its path.
func writeFile(name, data string) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), name)
	Expect(os.WriteFile(path, []byte(data), 0o600)).To(Succeed())
	return path
}

// deleteNodesAfter deletes the named nodes once the container that made
// them is done.
func deleteNodesAfter(names []string) {
	DeferCleanup(func(ctx SpecContext) {
		for _, name := range names {
			Expect(env.Client.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
		}
	})
}
