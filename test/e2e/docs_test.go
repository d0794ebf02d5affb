package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// docsCommand is a command shown in README.md or docs/*.md, run on the
// simulated cluster as the docs show it. test/docs fails when a document
// shows a command that neither this table, the demo nor the chart's tests
// run (or its allow-list excuses), and when this table runs one that no
// document shows: `line` must be the document's text, character for
// character.
type docsCommand struct {
	// line is the command as the docs show it; <name>, <cluster_upgrade>
	// and <node> are filled in from docsPlaceholders.
	line string
	// dryRun runs it with --dry-run=server: for real it would start or
	// change an upgrade under the other scenarios' feet.
	dryRun bool
	// exit lists the exit statuses that are right; nil means 0.
	exit []int
	// want is a piece of the output (stdout and stderr) that shows the
	// command did what the docs say.
	want string
	// before sets up what the command needs.
	before func(ctx context.Context)
}

// docsPlaceholders are the docs' placeholders and what the suite puts in.
var docsPlaceholders = strings.NewReplacer(
	"<name>", docsCU, "<cluster_upgrade>", docsCU, "<node>", "worker-000")

// docsCU is the ClusterUpgrade the docs' commands look at. It selects every
// worker and is paused, so the spec touches no node; the other
// ClusterUpgrades the docs name are newer and select the same nodes, so
// they wait with reason Conflict and touch nothing either.
const docsCU = "workers-v1.37.2"

// docsFiles are the files the docs' commands read, written into the
// directory they run in (which also links config/ from the repository).
var docsFiles = map[string]string{
	// The docs' clusterupgrade.yaml, paused here.
	"clusterupgrade.yaml": `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata:
  name: workers-v1.37.2
spec:
  targetVersion: v1.37.2
  paused: true
  strategy:
    type: Concurrent
    maxUnavailable: 25%
  upgrade:
    type: External
`,
	// docs/kubectl-plugin.md's workers.yaml, as shown there.
	"workers.yaml": `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata:
  name: workers-v1.37.2
spec:
  targetVersion: v1.37.2
  strategy:
    type: Concurrent
    maxUnavailable: 25%
  upgrade:
    type: External
`,
	// README.md's bad.yaml: maxUnavailable with Sequential.
	"bad.yaml": `apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata:
  name: workers
spec:
  targetVersion: v1.37.2
  strategy:
    type: Sequential
    maxUnavailable: 1
  upgrade:
    type: External
`,
}

// docsCommands run in this order.
var docsCommands = []docsCommand{
	{line: "kubectl explain clusterupgrade.spec", want: "targetVersion"},
	{line: "kubectl apply --server-side -k config/default", dryRun: true, want: "(server dry run)"},
	{line: "kubectl nodewave plan -f clusterupgrade.yaml", want: "WAVE"},
	{line: "kubectl apply -f clusterupgrade.yaml", want: "clusterupgrade.upgrade.nodewave.io/workers-v1.37.2 created",
		before: func(ctx context.Context) {
			DeferCleanup(func(ctx SpecContext) { deleteAndWait(ctx, docsObject(docsCU)) })
		}},
	{line: "kubectl get cu <name> -o jsonpath='{.metadata.generation} {.status.observedGeneration}'", want: "1 1",
		before: func(ctx context.Context) {
			waitDocsCU(ctx, docsCU, func(g Gomega, cu *upgradev1alpha1.ClusterUpgrade) {
				g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhasePaused))
			})
		}},
	{line: "kubectl get cu -o wide", want: "MAX-UNAVAILABLE"},
	{line: "kubectl get nodes -L upgrade.nodewave.io/state", want: "STATE"},
	{line: "kubectl nodewave status <name>", want: "worker-000"},
	{line: "kubectl nodewave status workers-v1.37.2", want: "ClusterUpgrade workers-v1.37.2: Paused"},
	{line: "kubectl nodewave status workers-v1.37.2 -o wide", want: "CORDONED"},
	{line: "cat workers.yaml", want: "kind: ClusterUpgrade"},
	{line: "kubectl nodewave plan -f workers.yaml", want: "admitted by a server-side dry run"},
	// 2 when the plan finds a blocker in the simulated cluster's workloads.
	{line: "kubectl nodewave plan -f workers.yaml --fail-on-blockers", exit: []int{0, 2}, want: "WAVE"},
	{line: "kubectl nodewave plan workers-v1.37.2", want: "Order: zone by zone"},
	{line: "kubectl describe cu <name>", want: "Paused"},
	{line: "kubectl get events -A --field-selector involvedObject.name=<name>"},
	{line: `kubectl get cu <name> -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'`, want: "paused: "},
	{line: `kubectl get cu <name> -o jsonpath='{.status.conditions[?(@.type=="Stalled")].message}'`},
	{line: "kubectl get cu <name> -o jsonpath='{.status.nextWindowOpens}'"},
	{line: "kubectl get clusterupgrade <name> -o yaml", want: "targetVersion: v1.37.2"},
	{line: "kubectl get clusterupgrade <cluster_upgrade> -o yaml", want: "observedGeneration: 1"},

	// The sample of the user guide, newer than docsCU: it waits.
	{line: "kubectl apply -f config/samples/upgrade_v1alpha1_clusterupgrade_concurrent_percent.yaml",
		want: "general-pool-25-percent created",
		before: func(ctx context.Context) {
			DeferCleanup(func(ctx SpecContext) { deleteAndWait(ctx, docsObject("general-pool-25-percent")) })
			olderByASecond(ctx)
		}},
	{line: "kubectl describe cu general-pool-25-percent",
		want: "waiting for the older unfinished ClusterUpgrade workers-v1.37.2 (both select node worker-000); delete it or let it finish",
		before: func(ctx context.Context) {
			waitDocsCU(ctx, "general-pool-25-percent", expectConflict)
		}},
	{line: "kubectl get cu workers-nightly -o jsonpath='{.status.nextWindowOpens}'",
		before: func(ctx context.Context) {
			DeferCleanup(func(ctx SpecContext) { deleteAndWait(ctx, docsObject("workers-nightly")) })
			run([]string{"KUBECONFIG=" + kubeconfig}, kubectl, "apply", "-f",
				filepath.Join(root, "config", "samples", "upgrade_v1alpha1_clusterupgrade_window.yaml"))
			waitDocsCU(ctx, "workers-nightly", expectConflict)
		}},
	{line: `kubectl get cu workers-nightly -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'`,
		// It waits for both older ones, docsCU and the sample.
		want: "workers-v1.37.2 (both select node worker-000); delete it or let it finish"},
	{line: "kubectl get cu general-workers", want: "general-workers",
		before: func(ctx context.Context) {
			DeferCleanup(func(ctx SpecContext) { deleteAndWait(ctx, docsObject("general-workers")) })
			cu := clusterUpgrade("general-workers", "v1.37.2", nil, upgradev1alpha1.ExternalUpgrade)
			cu.Spec.Paused = true
			Expect(admin.Create(ctx, cu)).To(Succeed())
			waitDocsCU(ctx, "general-workers", expectConflict)
		}},
	{line: "kubectl delete cu general-workers", want: `"general-workers" deleted`},
	{line: "kubectl apply -f bad.yaml", exit: []int{1},
		want: `The ClusterUpgrade "workers" is invalid: spec.strategy.maxUnavailable: Forbidden`},

	// Looking at nodes, pods, Jobs and the manager's rights.
	{line: "kubectl describe node <node>", want: "worker-000"},
	{line: "kubectl get pods -A --field-selector spec.nodeName=<node>"},
	{line: "kubectl get pdb -A", want: "ALLOWED DISRUPTIONS"},
	{line: "kubectl -n nodewave-system get deploy,pods"},
	{line: "kubectl -n nodewave-system get jobs,pods -l upgrade.nodewave.io/node=<node>"},
	{line: "kubectl -n nodewave-system logs -l upgrade.nodewave.io/node=<node> --tail=100"},
	{line: "kubectl -n nodewave-system describe jobs -l upgrade.nodewave.io/node=<node>"},
	{line: "kubectl auth can-i patch nodes --as=system:serviceaccount:nodewave-system:nodewave-controller-manager", want: "yes"},
	{line: "kubectl auth can-i create pods --subresource=eviction --as=system:serviceaccount:nodewave-system:nodewave-controller-manager", want: "yes"},

	// Installing what the GitOps and observability pages ship.
	{line: "kubectl apply --server-side --field-manager=nodewave -f config/argocd/argocd-cm.yaml", want: "serverside-applied",
		before: func(ctx context.Context) { docsNamespace(ctx, "argocd") }},
	{line: "kubectl create clusterrolebinding nodewave-metrics-reader-prometheus --clusterrole=nodewave-metrics-reader --serviceaccount=monitoring:prometheus-kube-prometheus-prometheus",
		dryRun: true, want: "created (server dry run)"},
	{line: "kubectl -n monitoring create configmap nodewave-dashboard --from-file=config/grafana/nodewave-dashboard.json",
		want: "configmap/nodewave-dashboard created", before: func(ctx context.Context) { docsNamespace(ctx, "monitoring") }},
	{line: "kubectl -n monitoring label configmap nodewave-dashboard grafana_dashboard=1", want: "labeled"},

	// Pausing, resuming, retargeting: on the paused docsCU, so resuming
	// and retargeting are dry runs.
	{line: `kubectl patch cu <name> --type merge -p '{"spec":{"paused":true}}'`, want: "patched"},
	{line: `kubectl patch cu <name> --type merge -p '{"spec":{"paused":false}}'`, dryRun: true, want: "patched"},
	{line: `kubectl patch cu <name> --type merge -p '{"spec":{"targetVersion":"v1.37.3"}}'`, dryRun: true, want: "patched"},
	{line: `kubectl patch cu <name> --type merge -p '{"metadata":{"finalizers":null}}'`, dryRun: true, want: "patched"},

	// Releasing a node by hand (it holds none of nodewave's marks here).
	{line: "kubectl label node <node> upgrade.nodewave.io/state-"},
	{line: "kubectl annotate node <node> upgrade.nodewave.io/cluster-upgrade- upgrade.nodewave.io/target-version- upgrade.nodewave.io/was-unschedulable- upgrade.nodewave.io/state-since- upgrade.nodewave.io/failure-"},
	{line: "kubectl uncordon <node>", want: "worker-000"},
	{line: "kubectl taint node <node> upgrade.nodewave.io/pending:PreferNoSchedule-", want: "untainted",
		before: func(ctx context.Context) { // as a ClusterUpgrade would have left it
			run([]string{"KUBECONFIG=" + kubeconfig}, kubectl, "taint", "node", "worker-000",
				upgradev1alpha1.PendingTaintKey+"=workers-v1.37.2:PreferNoSchedule")
		}},
	{line: "kubectl -n nodewave-system delete jobs -l upgrade.nodewave.io/cluster-upgrade=<name>"},

	// Aborting: the newer ClusterUpgrades go first, or they would start.
	{line: "kubectl delete cu <name>", want: `"workers-v1.37.2" deleted`,
		before: func(ctx context.Context) {
			deleteAndWait(ctx, docsObject("general-pool-25-percent"))
			deleteAndWait(ctx, docsObject("workers-nightly"))
		}},
}

var _ = Describe("the docs' commands", func() {
	It("run on the simulated cluster (docs)", func(ctx SpecContext) {
		By("touching no node: every worker is watched with a budget of 0")
		workers, err := labels.Parse("!" + upgradev1alpha1.ControlPlaneLabel)
		Expect(err).NotTo(HaveOccurred())
		monitor.expect(workers, 0)

		dir, path := docsWorkdir()
		for _, c := range docsCommands {
			if c.before != nil {
				c.before(ctx)
			}
			line := docsPlaceholders.Replace(c.line)
			if c.dryRun {
				line += " --dry-run=server"
			}
			By("$ " + line)
			out, code := runDocs(dir, path, line)
			exits := c.exit
			if exits == nil {
				exits = []int{0}
			}
			Expect(slices.Contains(exits, code)).To(BeTrue(), "%s: exit status %d, want one of %v; output:\n%s", line, code, exits, out)
			Expect(out).To(ContainSubstring(c.want), line)
			if c.dryRun {
				expectDocsCUUnchanged(ctx)
			}
		}

		violations, _, starts := monitor.report()
		Expect(violations).To(BeEmpty())
		Expect(starts).To(BeEmpty(), "the docs' commands started nodes")
	})
})

// docsWorkdir makes the directory the docs' commands run in (their files,
// and config/ linked from the repository) and a PATH directory that holds
// kubectl and the plugin, built from ./cmd/kubectl-nodewave, so that
// `kubectl nodewave` works as the docs say.
func docsWorkdir() (dir, path string) {
	dir, path = GinkgoT().TempDir(), GinkgoT().TempDir()
	for name, content := range docsFiles {
		Expect(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)).To(Succeed())
	}
	Expect(os.Symlink(filepath.Join(root, "config"), filepath.Join(dir, "config"))).To(Succeed())
	Expect(os.Symlink(kubectl, filepath.Join(path, "kubectl"))).To(Succeed())
	run(nil, "go", "build", "-o", filepath.Join(path, "kubectl-nodewave"), "./cmd/kubectl-nodewave")
	return dir, path
}

// runDocs runs one command line with bash, as a reader would paste it, and
// returns its output and exit status.
func runDocs(dir, path, line string) (string, int) {
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	GinkgoWriter.Printf("%s\n", out)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exitErr):
		return string(out), exitErr.ExitCode()
	}
	Fail(err.Error())
	return "", -1
}

// expectDocsCUUnchanged checks that a dry run stored nothing (kubectl
// patch does not say "(server dry run)"): docsCU, if it exists yet, is
// still paused, at its target, with its finalizer.
func expectDocsCUUnchanged(ctx context.Context) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	err := admin.Get(ctx, client.ObjectKey{Name: docsCU}, cu)
	if apierrors.IsNotFound(err) {
		return
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(cu.Spec.Paused).To(BeTrue())
	Expect(cu.Spec.TargetVersion).To(Equal("v1.37.2"))
	Expect(cu.Finalizers).To(ContainElement(upgradev1alpha1.Finalizer))
}

// docsObject names a ClusterUpgrade, for deleting it.
func docsObject(name string) *upgradev1alpha1.ClusterUpgrade {
	return &upgradev1alpha1.ClusterUpgrade{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// waitDocsCU waits until the ClusterUpgrade's status is of its current
// generation and check holds.
func waitDocsCU(ctx context.Context, name string, check func(Gomega, *upgradev1alpha1.ClusterUpgrade)) {
	Eventually(func(g Gomega) {
		cu := getCU(ctx, g, name)
		g.Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation))
		check(g, cu)
	}).Should(Succeed())
}

// expectConflict: the ClusterUpgrade waits for docsCU, touching nothing.
func expectConflict(g Gomega, cu *upgradev1alpha1.ClusterUpgrade) {
	c := meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled)
	g.Expect(c).NotTo(BeNil(), "status %+v", cu.Status)
	g.Expect(c.Reason).To(Equal(upgradev1alpha1.ReasonConflict), c.Message)
}

// olderByASecond makes sure docsCU is older than what comes next by the
// API server's one-second creation timestamps, so the next one is the
// newer, and waits.
func olderByASecond(ctx context.Context) {
	cu := getCU(ctx, Default, docsCU)
	if wait := time.Until(cu.CreationTimestamp.Add(1100 * time.Millisecond)); wait > 0 {
		time.Sleep(wait)
	}
}

// docsNamespace creates a namespace for a command, deleted at the end.
func docsNamespace(ctx context.Context, name string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(client.IgnoreAlreadyExists(admin.Create(ctx, ns))).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(admin.Delete(ctx, ns))).To(Succeed()) })
}
