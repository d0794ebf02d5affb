package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeview"
)

// The kubeadm tier (make test-kubeadm) runs on a cluster kubeadm made
// (hack/kubeadm.sh, docs/kubeadm.md): 3 control-plane machines with
// stacked etcd and kubeadmWorkers workers, at kubeadmFrom, the packages of
// both versions in the rig's apt repositories.
const (
	kubeadmWorkers          = 3
	kubeadmFrom, kubeadmTo  = "v1.36.3", "v1.37.2"
	kubeadmControlPlanes    = 3
	kubeadmPackageVersionTo = "1.37.2-1.1"
)

// kubeadmEnv makes the rig the size the tier's specs count on, whatever
// the environment says.
var kubeadmEnv = []string{fmt.Sprintf("KUBEADM_CONTROL_PLANES=%d", kubeadmControlPlanes),
	fmt.Sprintf("KUBEADM_WORKERS=%d", kubeadmWorkers)}

// kubeadmSample is config/samples' kubeadm ClusterUpgrade as shipped but
// for its image: docker.io/library/busybox:1.37 cannot be pulled here, and
// the Job needs of its image only chroot and a shell; the rig's busybox
// (Debian's 1.35) is known on the machines as docker.io/library/busybox:1.35.
// The repository host the sample must reach is the machines' own apt
// source, which the rig sets, so nothing else changes.
func kubeadmSample(name string) *upgradev1alpha1.ClusterUpgrade {
	data, err := os.ReadFile(filepath.Join(root, "config", "samples", "upgrade_v1alpha1_clusterupgrade_sequential.yaml"))
	Expect(err).NotTo(HaveOccurred())
	cu := &upgradev1alpha1.ClusterUpgrade{}
	Expect(yaml.UnmarshalStrict(data, cu)).To(Succeed())
	cu.Name = name
	containers := cu.Spec.Upgrade.Job.Template.Spec.Containers
	Expect(containers).To(HaveLen(1))
	Expect(containers[0].Image).To(Equal("docker.io/library/busybox:1.37"), "the sample's image")
	containers[0].Image = "docker.io/library/busybox:1.35"
	return cu
}

// upgradeControlPlaneByHand does what an admin does before nodewave
// upgrades the workers today (nodewave refuses a kubelet newer than its
// API server): kubeadm's procedure on each control-plane machine, kubeadm
// from the target's repository, `kubeadm upgrade apply` on the first and
// `kubeadm upgrade node` on the others, one at a time. The control-plane
// machines' kubelets stay at kubeadmFrom.
//
// The monitor does not hold the workloads' budgets meanwhile: the first
// run of this tier saw kube-controller-manager mark every node NotReady
// for a moment while cp-1's static pods were replaced, and so their pods
// NotReady, with no ClusterUpgrade there (see docs/kubeadm.md). It holds
// them again once every node is Ready and every workload back.
func upgradeControlPlaneByHand(ctx context.Context) {
	for _, pdb := range []string{"workloads/real-echo", "workloads/real-web"} {
		monitor.exemptPDB(pdb, true)
		defer monitor.exemptPDB(pdb, false)
	}
	defer expectRealWorkloadsRunning(ctx)
	defer Eventually(func(g Gomega) {
		for _, n := range append(rigNodeNames(), "cp-0", "cp-1", "cp-2") {
			g.Expect(nodeview.Ready(getNode(ctx, g, n))).To(BeTrue(), "%s is not Ready", n)
		}
	}).WithTimeout(3 * time.Minute).Should(Succeed())
	version := strings.TrimPrefix(kubeadmTo, "v")
	for i := range kubeadmControlPlanes {
		n := fmt.Sprintf("cp-%d", i)
		By("upgrading the control plane on " + n + " with kubeadm, by hand")
		inNode(n, "sh", "-ec", fmt.Sprintf(`sed -i -E "s#/v1\.[0-9]+/#/v%s/#g" /etc/apt/sources.list.d/kubernetes.list
apt-mark unhold kubeadm >/dev/null
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubeadm=%s >/dev/null 2>&1
apt-mark hold kubeadm >/dev/null`, version[:strings.LastIndex(version, ".")], kubeadmPackageVersionTo))
		// This machine's cgroup v1 needs kubeadm told, as the sample does.
		if i == 0 {
			inNode(n, "kubeadm", "upgrade", "apply", kubeadmTo, "-y", "--ignore-preflight-errors=SystemVerification")
		} else {
			inNode(n, "kubeadm", "upgrade", "node", "--ignore-preflight-errors=SystemVerification")
		}
	}
	Eventually(func(g Gomega) {
		v, err := clientset.Discovery().ServerVersion()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(v.GitVersion).To(Equal(kubeadmTo))
	}).Should(Succeed())
}

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
		for _, n := range rigNodeNames() {
			Expect(kubeletVersion(n)).To(Equal("Kubernetes " + kubeadmFrom))
			Expect(packages(n)).To(HaveKeyWithValue("kubeadm", strings.TrimPrefix(kubeadmFrom, "v")+"-1.1 hold"))
		}
		realWorkloads(ctx)
		upgradeControlPlaneByHand(ctx)
	})
	AfterEach(func(ctx SpecContext) {
		violations, _, _ := monitor.report()
		Expect(violations).To(BeEmpty())
	})

	It("upgrades the workers with the shipped kubeadm sample, apt and kubeadm upgrade node (Sequential)", func(ctx SpecContext) {
		before := realWorkloadPods(ctx, Default)
		Expect(before).NotTo(BeEmpty())
		pids := map[string]string{}
		for _, n := range rigNodeNames() {
			pids[n] = kubeletPID(n)
		}
		started := time.Now()
		cu := kubeadmSample("kubeadm-workers")
		startUpgrade(ctx, cu, 1)
		expectRealUpgrade(ctx, cu.Name, kubeadmTo, before)
		took := time.Since(started)

		By("checking on each worker what the sample's steps leave behind")
		for _, n := range rigNodeNames() {
			Expect(packages(n)).To(Equal(map[string]string{
				"kubeadm": kubeadmPackageVersionTo + " hold", "kubelet": kubeadmPackageVersionTo + " hold",
				"kubectl": kubeadmPackageVersionTo + " hold"}), "dpkg on %s", n)
			Expect(inNode(n, "cat", "/etc/apt/sources.list.d/kubernetes.list")).To(ContainSubstring("/core:/stable:/v1.37/deb/ /"), n)
			// kubeadm upgrade node backs up the kubelet's configuration before
			// writing the cluster's into /var/lib/kubelet/config.yaml.
			Expect(inNode(n, "sh", "-c", "ls -d /etc/kubernetes/tmp/kubeadm-kubelet-config-*")).NotTo(BeEmpty(), "kubeadm upgrade node ran on %s", n)
			Expect(inNode(n, "sh", "-c", fmt.Sprintf("test $(stat -c %%Y /var/lib/kubelet/config.yaml) -ge %d && echo written",
				started.Unix()))).To(Equal("written"), "the kubelet's configuration on %s", n)
			Expect(kubeletPID(n)).NotTo(Equal(pids[n]), "the kubelet on %s was not restarted", n)
			Expect(inNode(n, "systemctl", "is-active", "kubelet")).To(Equal("active"), n)
		}
		By("checking the control plane was left alone")
		starts := monitor.startsBy(cu.Name)
		for i := range kubeadmControlPlanes {
			n := fmt.Sprintf("cp-%d", i)
			Expect(starts).NotTo(HaveKey(n))
			Expect(kubeletVersion(n)).To(Equal("Kubernetes "+kubeadmFrom), n)
		}
		_, peak, _ := monitor.report()
		finishScenario(ctx, getCU(ctx, Default, cu.Name))
		record(faultRecord{
			Fault: "the kubeadm sample on a cluster kubeadm made",
			Injected: fmt.Sprintf("config/samples' kubeadm ClusterUpgrade (Sequential, the image aside) on %d workers joined by kubeadm %s, "+
				"packages from the rig's apt repositories", kubeadmWorkers, kubeadmFrom),
			Expected: "each worker: kubeadm, kubelet and kubectl upgraded with apt and held, kubeadm upgrade node run, the kubelet restarted by systemd at the target",
			Observed: fmt.Sprintf("%d/%d workers at %s (dpkg %s, held; the running kubelet's binary), each started once, one Job each, Complete; "+
				"%d workload pods evicted and replaced; at most %d node out; control plane untouched; %s",
				kubeadmWorkers, kubeadmWorkers, kubeadmTo, kubeadmPackageVersionTo, len(before), peak, took.Round(time.Second)),
			Invariants: standardInvariants + "; one start and one Job per node; running kubelet's version read from its binary",
		})
	})
})
