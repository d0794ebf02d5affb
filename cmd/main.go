// Command manager runs the nodewave operator: it watches ClusterUpgrade
// objects and upgrades the kubelet of the nodes they select.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"time"

	// The manager image (distroless) has no zoneinfo: embed the time zone
	// database that spec.window.timeZone is read with.
	_ "time/tzdata"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/buildinfo"
	"github.com/nodewave/nodewave/internal/controller"
	"github.com/nodewave/nodewave/internal/controlplane"
	"github.com/nodewave/nodewave/internal/drain"
	"github.com/nodewave/nodewave/internal/metrics"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
)

// defaultJobNamespace is where upgrade Jobs run when neither --job-namespace
// nor POD_NAMESPACE says otherwise; config/default deploys the manager there.
const defaultJobNamespace = "nodewave-system"

func main() {
	var (
		metricsAddr    string
		probeAddr      string
		secureMetrics  bool
		enableHTTP2    bool
		leaderElect    bool
		leader         leaderElectionFlags
		jobNamespace   string
		allowedImages  string
		allowedSecrets string
		apiQPS         float64
		apiBurst       int
		pprofAddr      string
		noPendingTaint bool
		showVersion    bool
	)
	flag.BoolVar(&showVersion, "version", false, "Print the manager's version and exit.")
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0",
		"Address the metrics endpoint binds to, e.g. :8443 (HTTPS) or :8080 (HTTP); 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS, allowing only callers authorised to get /metrics (TokenReview and SubjectAccessReview).")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Allow HTTP/2 on the metrics server; off by default because of the HTTP/2 rapid-reset CVEs.")
	flag.BoolVar(&leaderElect, "leader-elect", false,
		"Use leader election, so only one of several manager replicas acts at a time.")
	flag.StringVar(&leader.namespace, "leader-election-namespace", "",
		"Namespace of the leader election Lease (default: the manager's own namespace, read from its service account when in a cluster). "+
			"The manager needs a Role for leases there; config/rbac grants one in its own namespace only.")
	flag.DurationVar(&leader.leaseDuration, "leader-election-lease-duration", defaultLeaseDuration,
		"How long a replica waits, after the leader last renewed the Lease, before it takes over.")
	flag.DurationVar(&leader.renewDeadline, "leader-election-renew-deadline", defaultRenewDeadline,
		"How long the leader keeps trying to renew the Lease before it gives up leadership (and exits); less than the lease duration.")
	flag.DurationVar(&leader.retryPeriod, "leader-election-retry-period", defaultRetryPeriod,
		"How long replicas wait between tries to take or renew the Lease; the renew deadline must exceed 1.2 times it.")
	flag.StringVar(&jobNamespace, "job-namespace", envOr("POD_NAMESPACE", defaultJobNamespace),
		"Namespace of the per-node upgrade Jobs (default: the manager's own namespace from POD_NAMESPACE).")
	flag.StringVar(&allowedImages, controller.AllowedImagesFlag, "",
		"Comma-separated allow-list of upgrade Job images (those of containers, init and ephemeral containers, "+
			"and image volumes); empty allows every image. An entry is a repository "+
			"(registry.example.com/team/upgrader: any tag or digest), an exact reference (...:v1 or ...@sha256:...), "+
			"or a prefix ending in /* (registry.example.com/team/*: every repository under it). "+
			"A ClusterUpgrade whose Job template uses another image is Stalled with reason ImageNotAllowed. "+
			"It decides which images run, not what they may do: it is no privilege boundary.")
	flag.StringVar(&allowedSecrets, controller.AllowedSecretsFlag, "",
		"Comma-separated names of the Secrets of the Job namespace that an upgrade Job's template may use "+
			"(in volumes, env, envFrom or imagePullSecrets); empty allows none. Upgrade Jobs run as the ServiceAccount "+
			nodeupgrade.ServiceAccount+", bound to no role; a template that names another ServiceAccount, or a Secret "+
			"not on this list, is Stalled with reason CredentialNotAllowed.")
	flag.Float64Var(&apiQPS, "kube-api-qps", 50,
		"Requests per second the manager may make to the API server (client-side limit); raise it for clusters with hundreds of nodes in flight.")
	flag.IntVar(&apiBurst, "kube-api-burst", 100, "Burst above --kube-api-qps the manager may make.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "",
		"Address to serve Go's pprof profiles on (plain HTTP, no authentication: bind it to loopback), e.g. 127.0.0.1:6060. Empty disables it.")
	flag.BoolVar(&noPendingTaint, "no-pending-taint", false,
		"Do not put the PreferNoSchedule taint upgrade.nodewave.io/pending on the nodes still to go (on by default: it keeps evicted pods off them). "+
			"Taints already on are still removed.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	if showVersion {
		fmt.Println(buildinfo.String("nodewave-manager"))
		return
	}

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	log.Info("starting", "version", buildinfo.Version())
	// GOMEMLIMIT: 90% of the container's memory limit (logged by memlimit).
	setMemoryLimit(ctrl.Log.WithName("memlimit"), memlimit.FromCgroup)

	imagePolicy, err := nodeupgrade.ParseImagePolicy(allowedImages)
	if err != nil {
		log.Error(err, "invalid --"+controller.AllowedImagesFlag)
		os.Exit(1)
	}
	secretPolicy, err := nodeupgrade.ParseCredentialPolicy(allowedSecrets)
	if err != nil {
		log.Error(err, "invalid --"+controller.AllowedSecretsFlag)
		os.Exit(1)
	}
	if err := leader.check(); err != nil {
		log.Error(err, "invalid leader election flags")
		os.Exit(1)
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(upgradev1alpha1.AddToScheme(scheme))

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(apiQPS), apiBurst
	cfg.Wrap(metrics.CountRequests) // nodewave_api_requests_total, by verb and resource
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   controller.CacheOptions(jobNamespace),
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  probeAddr,
		PprofBindAddress:        pprofAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "nodewave.upgrade.nodewave.io",
		LeaderElectionNamespace: leader.namespace,
		LeaseDuration:           &leader.leaseDuration,
		RenewDeadline:           &leader.renewDeadline,
		RetryPeriod:             &leader.retryPeriod,
	})
	if err != nil {
		log.Error(err, "unable to create the manager")
		os.Exit(1)
	}

	// The drain's client watches the pods of every draining node, a
	// hundred watches at once on a large cluster: uncompressed, each of
	// them saves a gzip reader's 32 KiB window and the CPU to inflate
	// small events.
	drainCfg := rest.CopyConfig(cfg)
	drainCfg.DisableCompression = true
	clientset, err := kubernetes.NewForConfig(drainCfg)
	if err != nil {
		log.Error(err, "unable to create a Kubernetes client")
		os.Exit(1)
	}
	serverVersion, err := controller.DiscoveryServerVersion(cfg)
	if err != nil {
		log.Error(err, "unable to create a discovery client")
		os.Exit(1)
	}
	if err := (&controller.ClusterUpgradeReconciler{
		Client:         mgr.GetClient(),
		JobNamespace:   jobNamespace,
		Drainer:        &drain.Drainer{Client: clientset},
		ServerVersion:  serverVersion,
		Recorder:       mgr.GetEventRecorder("nodewave"),
		AllowedImages:  imagePolicy,
		AllowedSecrets: secretPolicy,
		NoPendingTaint: noPendingTaint,
		// The checks of control-plane nodes (spec.controlPlane) read
		// kube-system's pods uncached and exec etcdctl in an etcd pod.
		ControlPlaneChecks: &controlplane.Checker{Config: cfg, Client: clientset},
	}).SetupWithManager(mgr); err != nil {
		log.Error(err, "unable to set up the ClusterUpgrade controller")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the ready check")
		os.Exit(1)
	}

	log.Info("starting the manager", "jobNamespace", jobNamespace, "leaderElection", leaderElect,
		"allowedUpgradeImages", imagePolicy.String(), "allowedUpgradeSecrets", secretPolicy.String(),
		"upgradeServiceAccount", nodeupgrade.ServiceAccount)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "the manager stopped with an error")
		os.Exit(1)
	}
}

// controller-runtime's leader election defaults, which the flags keep.
const (
	defaultLeaseDuration = 15 * time.Second
	defaultRenewDeadline = 10 * time.Second
	defaultRetryPeriod   = 2 * time.Second
)

// leaderElectionFlags are the leader election settings from the flags.
type leaderElectionFlags struct {
	namespace                                 string
	leaseDuration, renewDeadline, retryPeriod time.Duration
}

// check refuses timings that client-go's leader elector would refuse only
// once the manager starts: each positive, the lease duration longer than
// the renew deadline, and the renew deadline longer than 1.2 retry periods
// (client-go's jitter factor).
func (f leaderElectionFlags) check() error {
	switch {
	case f.leaseDuration <= 0 || f.renewDeadline <= 0 || f.retryPeriod <= 0:
		return fmt.Errorf("--leader-election-lease-duration (%s), --leader-election-renew-deadline (%s) and "+
			"--leader-election-retry-period (%s) must be positive", f.leaseDuration, f.renewDeadline, f.retryPeriod)
	case f.leaseDuration <= f.renewDeadline:
		return fmt.Errorf("--leader-election-lease-duration (%s) must be longer than --leader-election-renew-deadline (%s)",
			f.leaseDuration, f.renewDeadline)
	case float64(f.renewDeadline) <= leaderelection.JitterFactor*float64(f.retryPeriod):
		return fmt.Errorf("--leader-election-renew-deadline (%s) must be longer than %.1f times --leader-election-retry-period (%s)",
			f.renewDeadline, leaderelection.JitterFactor, f.retryPeriod)
	}
	return nil
}

// envOr returns the environment variable key, or def when it is unset or empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
