// Package e2e is nodewave's end-to-end suite on a simulated cluster: real
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler with
// kwok's fake kubelets (hack/sim.sh). The scheduler places and re-places
// real pods, the disruption controller computes PodDisruptionBudgets, and
// the manager runs as a separate process with only the RBAC of config/rbac.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/testenv"
	"github.com/nodewave/nodewave/test/nodeagent"
)

const (
	jobNamespace = "nodewave-system"
	groupLabel   = "e2e.nodewave.io/group"
)

// The suite has three tiers. make test-e2e runs the specs labelled neither
// "real" nor "kubeadm" on kwok's nodes, with the manager as a process. make
// test-real (E2E_TIER=real) runs the specs labelled "real" on a cluster
// that also has realNodes real nodes (hack/realnodes.sh), and make
// test-kubeadm (E2E_TIER=kubeadm) the specs labelled "kubeadm" on a cluster
// kubeadm made (hack/kubeadm.sh); both deploy the manager from
// config/default as users run it, and the simulated node agent does not
// run there: real kubelets are upgraded by real Jobs.
var (
	realTier    = os.Getenv("E2E_TIER") == "real"
	kubeadmTier = os.Getenv("E2E_TIER") == "kubeadm"
	simName     = map[string]string{"": "nodewave-e2e", "real": "nodewave-real", "kubeadm": "nodewave-kubeadm"}[os.Getenv("E2E_TIER")]
	// workers is how many kwok worker nodes the cluster has: the real
	// tier's scenarios need only one group of them beside the real nodes.
	workers = map[bool]int{false: 50, true: 10}[realTier]
)

var (
	root              = testenv.RepoRoot()
	kubectl           string // the kubectl binary of the toolchain
	kubeconfig        string // the admin kubeconfig of the simulated cluster
	adminCfg          *rest.Config
	admin             client.Client
	clientset         kubernetes.Interface
	manager           *managerProcess
	managerKubeconfig string // authenticates as the manager's ServiceAccount
	monitor           *invariantMonitor
	stopAgent         context.CancelFunc
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	RunSpecs(t, "nodewave end-to-end suite (simulated cluster)")
}

// run runs a command from the repository root and returns its stdout.
func run(env []string, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = GinkgoWriter
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "%s %s", name, strings.Join(args, " "))
	return strings.TrimSpace(string(out))
}

var simEnv = []string{"SIM_NAME=" + simName, fmt.Sprintf("SIM_WORKERS=%d", workers), "SIM_ZONES=3", "SIM_CONTROL_PLANES=3",
	fmt.Sprintf("SIM_REAL_NODES=%d", map[bool]int{false: 0, true: realNodes}[realTier])}

var _ = BeforeSuite(func(ctx SpecContext) {
	if realTier && GinkgoLabelFilter() != "real" {
		Fail("E2E_TIER=real runs only the specs labelled real: -ginkgo.label-filter=real (make test-real)")
	}
	if kubeadmTier && GinkgoLabelFilter() != "kubeadm" {
		Fail("E2E_TIER=kubeadm runs only the specs labelled kubeadm: -ginkgo.label-filter=kubeadm (make test-kubeadm)")
	}
	if kubeadmTier {
		By("making a cluster with kubeadm (after removing any left by an interrupted run)")
		run(kubeadmEnv, "hack/kubeadm.sh", "down")
		run(kubeadmEnv, "hack/kubeadm.sh", "up")
		kubeconfig = rigEnv("hack/kubeadm.sh", "KUBECONFIG")
		kubectl = filepath.Join(run(nil, "hack/toolchain.sh", "dir"), "..", "kubernetes-"+kubeadmTo, "kubectl")
	} else {
		By("starting the simulated cluster (after removing any left by an interrupted run)")
		run(simEnv, "hack/sim.sh", "down")
		kubeconfig = run(simEnv, "hack/sim.sh", "up")
		kubectl = filepath.Join(run(nil, "hack/toolchain.sh", "sim"), "kubectl")
		By("supervising the simulated control plane: a component that exits is started again")
		supervise.start()
	}
	var err error
	adminCfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	adminCfg.QPS, adminCfg.Burst = 100, 200
	scheme := clientgoscheme.Scheme
	Expect(upgradev1alpha1.AddToScheme(scheme)).To(Succeed())
	admin, err = client.New(adminCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(adminCfg)
	Expect(err).NotTo(HaveOccurred())

	By("installing the CRD and the manager's RBAC from config/ (everything but the Deployment)")
	installConfig()
	if !kubeadmTier {
		labelGroups(ctx)
	}

	var agentCtx context.Context
	agentCtx, stopAgent = context.WithCancel(context.Background())
	switch {
	case realTier:
		By("deploying the manager from config/default onto a real node, its image built without a Docker engine")
		deployManager("hack/realnodes.sh", realLabel)
	case kubeadmTier:
		By("deploying the manager from config/default, its image built without a Docker engine")
		deployManager("hack/kubeadm.sh", "")
	default:
		By("starting the manager as its ServiceAccount, bound only to the generated roles")
		managerKubeconfig = serviceAccountKubeconfig()
		// Its metrics are served as in a cluster (HTTPS, each scrape
		// authenticated and authorized by the API server), so the alerts
		// spec's Prometheus scrapes them as a ServiceMonitor would.
		managerMetrics = freeLocalAddr()
		manager = newManagerProcess("manager", managerKubeconfig, "--metrics-bind-address", managerMetrics)
		manager.start()

		By("starting the simulated node agent")
		agent = &nodeagent.Agent{Client: admin, MinDelay: time.Second, MaxDelay: 3 * time.Second, Seed: 7}
		go agent.Run(agentCtx)
	}
	By("starting the invariant monitor")
	monitor = startMonitor(agentCtx)
}, NodeTimeout(10*time.Minute))

var agent *nodeagent.Agent

var _ = AfterSuite(func() {
	if manager != nil {
		manager.stop()
	}
	if stopAgent != nil {
		stopAgent()
	}
	supervise.shutdown()
	writeReliabilityReport()
	switch {
	case os.Getenv("E2E_KEEP") != "":
	case kubeadmTier:
		run(kubeadmEnv, "hack/kubeadm.sh", "down")
	default:
		run(simEnv, "hack/sim.sh", "down")
	}
})
