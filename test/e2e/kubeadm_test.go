package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/wavewatch"
)

// The kubeadm tier (make test-kubeadm) runs on a cluster kubeadm made
// (hack/kubeadm.sh, docs/kubeadm.md): 3 control-plane machines with
// stacked etcd and kubeadmWorkers workers, at kubeadmFrom, the packages of
// both versions in the rig's apt repositories.
const (
	kubeadmWorkers          = 4
	kubeadmFrom, kubeadmTo  = "v1.36.3", "v1.37.2"
	kubeadmControlPlanes    = 3
	kubeadmPackageVersionTo = "1.37.2-1.1"
)

// kubeadmEnv makes the rig the size the tier's specs count on, whatever
// the environment says.
var kubeadmEnv = []string{fmt.Sprintf("KUBEADM_CONTROL_PLANES=%d", kubeadmControlPlanes),
	fmt.Sprintf("KUBEADM_WORKERS=%d", kubeadmWorkers)}

// kubeadmSample is config/samples' whole-cluster kubeadm ClusterUpgrade
// as shipped but for its image: docker.io/library/busybox:1.37 cannot be
// pulled here, and the Job needs of its image only chroot and a shell; the
// rig's busybox (Debian's 1.35) is known on the machines as
// docker.io/library/busybox:1.35. The repository host the sample must
// reach is the machines' own apt source, which the rig sets, so nothing
// else changes. Its Job is the workers sample's (a test holds them equal).
func kubeadmSample(name string) *upgradev1alpha1.ClusterUpgrade {
	data, err := os.ReadFile(filepath.Join(root, "config", "samples", "upgrade_v1alpha1_clusterupgrade_cluster.yaml"))
	Expect(err).NotTo(HaveOccurred())
	cu := &upgradev1alpha1.ClusterUpgrade{}
	Expect(yaml.UnmarshalStrict(data, cu)).To(Succeed())
	Expect(cu.Spec.ControlPlane).NotTo(BeNil(), "the sample upgrades the control plane")
	cu.Name = name
	containers := cu.Spec.Upgrade.Job.Template.Spec.Containers
	Expect(containers).To(HaveLen(1))
	Expect(containers[0].Image).To(Equal("docker.io/library/busybox:1.37"), "the sample's image")
	containers[0].Image = "docker.io/library/busybox:1.35"
	return cu
}

// controlPlaneNames are the kubeadm rig's control-plane machines.
func controlPlaneNames() []string { return numbered("cp-%d", kubeadmControlPlanes) }

// kubeletPID is the main process of the kubelet's systemd unit on node.
func kubeletPID(node string) string {
	return inNode(node, "systemctl", "show", "-p", "MainPID", "--value", "kubelet")
}

// packages is what dpkg says of the Kubernetes packages on node: each
// package's version and selection state ("hold" or "install").
func packages(node string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(inNode(node, "dpkg-query", "-W", "-f", `${Package} ${Version} ${Status}\n`,
		"kubeadm", "kubelet", "kubectl"), "\n") {
		if f := strings.Fields(line); len(f) >= 3 {
			out[f[0]] = f[1] + " " + f[2]
		}
	}
	return out
}

var _ = Describe("nodewave on a cluster kubeadm made", Ordered, Label("kubeadm"), func() {
	BeforeAll(func(ctx SpecContext) {
		if !kubeadmTier {
			Skip("the kubeadm tier runs with make test-kubeadm (E2E_TIER=kubeadm)")
		}
		for _, n := range append(controlPlaneNames(), rigNodeNames()...) {
			Expect(kubeletVersion(n)).To(Equal("Kubernetes " + kubeadmFrom))
			Expect(packages(n)).To(HaveKeyWithValue("kubeadm", strings.TrimPrefix(kubeadmFrom, "v")+"-1.1 hold"))
		}
		realWorkloads(ctx)
	})
	AfterEach(func(ctx SpecContext) {
		violations, _, _ := monitor.report()
		Expect(violations).To(BeEmpty())
	})

	It("upgrades the whole cluster with the shipped kubeadm sample: the control plane one node at a time, then the workers 50% at once", func(ctx SpecContext) {
		before := realWorkloadPods(ctx, Default)
		Expect(before).NotTo(BeEmpty())
		all := append(controlPlaneNames(), rigNodeNames()...)
		pids := map[string]string{}
		for _, n := range all {
			pids[n] = kubeletPID(n)
		}
		api := startAPIProbe(ctx)
		etcd := startEtcdProbe(ctx, kubeadmControlPlanes)
		waves, err := wavewatch.Start(ctx, clientset, labels.Everything(),
			labels.SelectorFromSet(labels.Set{upgradev1alpha1.ControlPlaneLabel: ""}))
		Expect(err).NotTo(HaveOccurred())
		defer waves.Stop()

		started := time.Now()
		cu := kubeadmSample("kubeadm-cluster")
		startUpgrade(ctx, cu, kubeadmWorkers/2)
		By("waiting for the control plane, then the workers")
		Eventually(func(g Gomega) {
			c := getCU(ctx, g, cu.Name)
			g.Expect(c.Status.ControlPlane).NotTo(BeNil())
			g.Expect(c.Status.ControlPlane.UpgradedNodes).To(BeEquivalentTo(kubeadmControlPlanes), "status %+v", c.Status)
		}).WithTimeout(30 * time.Minute).WithPolling(time.Second).Should(Succeed())
		cpDone := time.Now()
		Eventually(func(g Gomega) {
			g.Expect(getCU(ctx, g, cu.Name).Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded))
		}).WithTimeout(realUpgradeTimeout).WithPolling(time.Second).Should(Succeed())
		took := time.Since(started)
		api.finish()
		etcd.finish()

		By("reporting what the probes measured, before judging it")
		probes, failed, longest := api.gaps(started, cpDone)
		allProbes, allFailed, allLongest := api.gaps(started, time.Now())
		AddReportEntry("API /readyz through the load balancer", fmt.Sprintf(
			"control-plane wave: %d probes, %d failed, longest gap %s; whole upgrade: %d probes, %d failed, longest gap %s",
			probes, failed, longest, allProbes, allFailed, allLongest))
		etcd.mu.Lock()
		etcdSamples, etcdLost, etcdProblems := etcd.samples, etcd.lost, slices.Clone(etcd.problems)
		etcdSummary := fmt.Sprintf("%d etcd samples, %d with every member healthy and one leader, %d without quorum, %d unreadable, "+
			"fewest healthy %d of %d, %d leader changes", etcd.samples, etcd.full, etcd.lost, etcd.unreadable, etcd.minHealthy,
			kubeadmControlPlanes, etcd.leaders)
		etcd.mu.Unlock()
		AddReportEntry("etcd", etcdSummary+"; "+strings.Join(etcdProblems, "; "))
		seen := waves.Report()
		nodeStarted, upgraded, maxCPOut, early := seen.Started, seen.Upgraded, seen.MaxControlPlaneOut, seen.Early
		cpTimes := make([]string, 0, kubeadmControlPlanes)
		for _, n := range controlPlaneNames() {
			cpTimes = append(cpTimes, fmt.Sprintf("%s %s", n, upgraded[n].Sub(nodeStarted[n]).Round(time.Second)))
		}
		AddReportEntry("times", fmt.Sprintf("control-plane nodes (first state to upgraded): %s; control-plane wave %s; makespan %s",
			strings.Join(cpTimes, ", "), cpDone.Sub(started).Round(time.Second), took.Round(time.Second)))

		By("checking the API server answered through the control plane's wave")
		Expect(probes).To(BeNumerically(">", 60), "the probe ran")
		Expect(longest).To(BeNumerically("<", 30*time.Second), "the API server was unavailable for %s", longest)

		By("checking etcd kept its quorum throughout")
		Expect(etcdSamples).To(BeNumerically(">", 20), "the etcd probe ran")
		Expect(etcdLost).To(BeZero(), "etcd lost its quorum: %v", etcdProblems)

		By("checking the waves: one control-plane node at a time, in order, before any worker")
		Expect(early).To(BeEmpty(), "workers started before the control plane was done")
		Expect(maxCPOut).To(Equal(1), "control-plane nodes out of service at once")
		for i, n := range controlPlaneNames() {
			Expect(nodeStarted).To(HaveKey(n))
			Expect(upgraded).To(HaveKey(n))
			if i > 0 {
				Expect(nodeStarted[n]).To(BeTemporally(">=", upgraded[controlPlaneNames()[i-1]]), "%s started before the one before it was upgraded", n)
			}
		}
		expectRealUpgrade(ctx, cu.Name, kubeadmTo, before)

		By("checking on every machine what the sample's steps leave behind")
		for _, n := range all {
			Expect(packages(n)).To(Equal(map[string]string{
				"kubeadm": kubeadmPackageVersionTo + " hold", "kubelet": kubeadmPackageVersionTo + " hold",
				"kubectl": kubeadmPackageVersionTo + " hold"}), "dpkg on %s", n)
			Expect(inNode(n, "cat", "/etc/apt/sources.list.d/kubernetes.list")).To(ContainSubstring("/core:/stable:/v1.37/deb/ /"), n)
			Expect(kubeletVersion(n)).To(Equal("Kubernetes "+kubeadmTo), "the kubelet running on %s", n)
			Expect(kubeletPID(n)).NotTo(Equal(pids[n]), "the kubelet on %s was not restarted", n)
			Expect(inNode(n, "systemctl", "is-active", "kubelet")).To(Equal("active"), n)
			// kubeadm upgrade apply and node back up the kubelet's
			// configuration before writing the cluster's.
			Expect(inNode(n, "sh", "-c", "ls -d /etc/kubernetes/tmp/kubeadm-kubelet-config-*")).NotTo(BeEmpty(), "kubeadm upgraded %s", n)
		}
		for _, n := range controlPlaneNames() {
			for _, c := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
				Expect(inNode(n, "grep", "-o", "image: .*"+c+":.*", "/etc/kubernetes/manifests/"+c+".yaml")).To(HaveSuffix(":"+kubeadmTo), "%s on %s", c, n)
			}
		}
		v, err := clientset.Discovery().ServerVersion()
		Expect(err).NotTo(HaveOccurred())
		Expect(v.GitVersion).To(Equal(kubeadmTo))
		final := getCU(ctx, Default, cu.Name)
		Expect(final.Status.ControlPlane).To(Equal(&upgradev1alpha1.ControlPlaneStatus{
			TotalNodes: kubeadmControlPlanes, UpgradedNodes: kubeadmControlPlanes}))
		Expect(final.Status.TotalNodes).To(BeEquivalentTo(kubeadmWorkers))

		_, peak, _ := monitor.report()
		finishScenario(ctx, final)
		record(faultRecord{
			Fault: "the whole kubeadm cluster: control plane, then workers",
			Injected: fmt.Sprintf("config/samples' whole-cluster ClusterUpgrade (spec.controlPlane, Concurrent 50%%, the image aside) on %d control-plane "+
				"machines with stacked etcd and %d workers made by kubeadm %s, packages from the rig's apt repositories",
				kubeadmControlPlanes, kubeadmWorkers, kubeadmFrom),
			Expected: "the control plane one node at a time (kubeadm upgrade apply on the first, node on the others), each checked before the next; " +
				"then the workers 2 at once; the API server answering and etcd keeping quorum throughout",
			Observed: fmt.Sprintf("%d/%d nodes at %s (dpkg %s, held; the running kubelet's binary); control plane %s (wave %s); API /readyz: "+
				"%d of %d probes failed in the control-plane wave, longest gap %s; %s; %d workload pods evicted and replaced; at most %d workers out; makespan %s",
				len(all), len(all), kubeadmTo, kubeadmPackageVersionTo, strings.Join(cpTimes, ", "), cpDone.Sub(started).Round(time.Second),
				failed, probes, longest.Round(time.Second), etcdSummary, len(before), peak, took.Round(time.Second)),
			// The control plane is this scenario's to touch: the monitor
			// allows it for a ClusterUpgrade whose spec.controlPlane selects it.
			Invariants: strings.Replace(standardInvariants, "control plane untouched", "control plane touched by its own wave only", 1) +
				"; one control-plane node out at a time, none before the one before it is upgraded; no worker before the control plane; " +
				"one start and one Job per worker; running kubelet's version read from its binary",
		})
	})
})
