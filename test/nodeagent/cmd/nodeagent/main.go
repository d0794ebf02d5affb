// Command nodeagent runs the simulated node agent (package nodeagent)
// against the cluster of a kubeconfig, for the simulated cluster and the demo.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewave/nodewave/test/nodeagent"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the simulated cluster")
	minDelay := flag.Duration("min-delay", 3*time.Second, "shortest simulated kubelet upgrade")
	maxDelay := flag.Duration("max-delay", 9*time.Second, "longest simulated kubelet upgrade")
	seed := flag.Uint64("seed", 1, "seed of the delay jitter")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
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
