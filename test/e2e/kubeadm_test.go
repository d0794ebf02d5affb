package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
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

// kubeadmEnv reads one setting of the kubeadm rig (hack/kubeadm.sh env).
func kubeadmEnv(key string) string {
	for _, kv := range strings.Fields(run(nil, "hack/kubeadm.sh", "env")) {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	Fail("hack/kubeadm.sh env has no " + key)
	return ""
}

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
