// Package testenv starts a real kube-apiserver and etcd (controller-runtime's
// envtest) with nodewave's CRDs installed, for the integration suites. The
// binaries come from hack/toolchain.sh through KUBEBUILDER_ASSETS; `make test`
// sets it.
package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// Env is a running API server with a client for it.
type Env struct {
	*envtest.Environment
	// Config reaches the API server as a cluster admin.
	Config *rest.Config
	// Client reads and writes with Scheme, without a cache.
	Client client.Client
	// Scheme knows the built-in kinds and nodewave's.
	Scheme *k8sruntime.Scheme
}

// RepoRoot is the root of the nodewave repository this file belongs to.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start starts etcd and kube-apiserver and installs the CRDs from config/crd.
// Call Stop on the result when done.
func Start() (*Env, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make test`, or " +
			"`export KUBEBUILDER_ASSETS=$(hack/toolchain.sh envtest)` first")
	}
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := upgradev1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := env.Start()
	if err != nil {
		// envtest starts etcd and kube-apiserver before it installs the
		// CRDs, and leaves them running when that fails (a CRD the API
		// server refuses): stop them, or they outlive the test.
		_ = env.Stop()
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Environment: env, Config: cfg, Client: c, Scheme: scheme}, nil
}
