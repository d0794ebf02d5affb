package controller

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/nodewave/nodewave/internal/drain"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
	"github.com/nodewave/nodewave/internal/testenv"
	"github.com/nodewave/nodewave/test/nodeagent"
)

const jobNamespace = "nodewave-system"

// suiteAllowedImages is the manager's --allowed-upgrade-images in the
// suite: the images of every spec but those that test the allow-list.
const suiteAllowedImages = "example.com/*,registry.example.com/*"

// suiteAllowedSecrets is the manager's --allowed-upgrade-secrets in the
// suite: none, unless a spec that restarts the manager says otherwise.
var suiteAllowedSecrets nodeupgrade.CredentialPolicy

// The suite runs the reconciler in a real manager against a real
// kube-apiserver and etcd; a fake kubelet plays what envtest lacks.
var (
	env         *testenv.Env
	clientset   kubernetes.Interface
	kubelet     *fakeKubelet
	stopKubelet context.CancelFunc
	stopManager context.CancelFunc
	// suiteClock is the reconciler's clock: real time unless a test shifts it.
	suiteClock = &shiftedClock{}
	// versionFails makes the reconciler's reads of the API server's
	// version fail while it is set, as a transient error would.
	versionFails atomic.Bool
	// serverVersionOverride, while set, is the version the API server
	// reports to the reconciler (an API server not yet upgraded).
	serverVersionOverride atomic.Pointer[string]
	// cpChecks are the reconciler's control-plane checks (see fakeChecks).
	cpChecks = &fakeChecks{}
	// wrapClient, when set before a manager starts, wraps the client the
	// reconciler reads and writes through (a test's delayed cache).
	wrapClient func(client.Client) client.Client
)

func TestController(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "ClusterUpgrade controller suite")
}

// startManager starts a manager running the reconciler with the suite's
// allow-list and returns a function that stops it and waits until it has
// stopped, as a crashed or restarted manager would.
func startManager() func() { return startManagerWith(suiteAllowedImages) }

// startManagerWith is startManager with another --allowed-upgrade-images.
func startManagerWith(allowedImages string) func() {
	policy, err := nodeupgrade.ParseImagePolicy(allowedImages)
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:     env.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      CacheOptions(jobNamespace),
		Controller: ctrlConfigSkipNameValidation(),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(guard.watch(context.Background(), mgr.GetCache())).To(Succeed())
	discoveryVersion, err := DiscoveryServerVersion(env.Config)
	Expect(err).NotTo(HaveOccurred())
	serverVersion := func() (string, error) {
		if versionFails.Load() {
			return "", errors.New("the server is currently unable to handle the request (get version)")
		}
		if v := serverVersionOverride.Load(); v != nil {
			return *v, nil
		}
		return discoveryVersion()
	}
	c := mgr.GetClient()
	if wrapClient != nil {
		c = wrapClient(c)
	}
	Expect((&ClusterUpgradeReconciler{
		Client:             c,
		JobNamespace:       jobNamespace,
		Drainer:            &drain.Drainer{Client: clientset},
		ServerVersion:      serverVersion,
		Recorder:           mgr.GetEventRecorder("nodewave"),
		Clock:              suiteClock,
		DrainPollInterval:  300 * time.Millisecond,
		AllowedImages:      policy,
		AllowedSecrets:     suiteAllowedSecrets,
		ControlPlaneChecks: cpChecks,
	}).SetupWithManager(mgr)).To(Succeed())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	return func() { cancel(); <-done }
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	env, err = testenv.Start()
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(env.Config)
	Expect(err).NotTo(HaveOccurred())
	Expect(env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: jobNamespace}})).To(Succeed())

	kubelet = &fakeKubelet{agent: &nodeagent.Agent{Client: env.Client}}
	var ctx context.Context
	ctx, stopKubelet = context.WithCancel(context.Background())
	go kubelet.run(ctx, env.Client)
	stopManager = startManager()
})

var _ = AfterSuite(func() {
	Expect(guard.writes()).To(BeEmpty(), "nodewave wrote into its informer cache; every Node write goes through patchNode")
	if stopManager != nil {
		stopManager()
	}
	if stopKubelet != nil {
		stopKubelet()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// ctrlConfigSkipNameValidation lets the suite start a second manager with
// the same controller name after a restart, in one process.
func ctrlConfigSkipNameValidation() config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true)}
}
