// Command nodeagent runs the simulated node agent (package nodeagent)
// against the cluster of a kubeconfig, for the simulated cluster and the demo.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewave/nodewave/test/nodeagent"
)

func main() {
	minDelay := flag.Duration("min-delay", 3*time.Second, "shortest simulated kubelet upgrade")
	maxDelay := flag.Duration("max-delay", 9*time.Second, "longest simulated kubelet upgrade")
	seed := flag.Uint64("seed", 1, "seed of the delay jitter")
	flag.Parse()

	// --kubeconfig (or KUBECONFIG) is read by controller-runtime.
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "nodeagent:", err)
		os.Exit(1)
	}
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "nodeagent:", err)
		os.Exit(1)
	}
	agent := &nodeagent.Agent{Client: c, MinDelay: *minDelay, MaxDelay: *maxDelay, Seed: *seed}
	agent.Run(ctrl.SetupSignalHandler())
}
