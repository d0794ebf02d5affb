// Command kubectl-nodewave is nodewave's kubectl plugin: `kubectl nodewave
// status NAME` shows where each node of a ClusterUpgrade stands, and
// `kubectl nodewave plan NAME` (or `plan -f FILE`, for one not applied yet)
// foresees its waves and blockers before any node is touched.
//
// Install it with
//
//	go install github.com/nodewave/nodewave/cmd/kubectl-nodewave@latest
//
// (or take a release archive, or krew's manifest; docs/kubectl-plugin.md),
// and kubectl finds it on the PATH as `kubectl nodewave`. `version` says
// which release it is; `completion` and kubectl_complete-nodewave complete
// its commands and the ClusterUpgrades' names.
package main

import (
	"os"
	"time"
	_ "time/tzdata" // spec.window's time zones, as the manager reads them

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nodewave/nodewave/cmd/kubectl-nodewave/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Options{
		Streams: genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		Now:     time.Now,
	}))
}
