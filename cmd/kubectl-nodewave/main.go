// Command kubectl-nodewave is nodewave's kubectl plugin: `kubectl nodewave
// status NAME` shows where each node of a ClusterUpgrade stands, and
// `kubectl nodewave plan NAME` (or `plan -f FILE`, for one not applied yet)
// foresees its waves and blockers before any node is touched.
//
// Install it with
//
//	go install github.com/nodewave/nodewave/cmd/kubectl-nodewave@latest
//
// and kubectl finds it on the PATH as `kubectl nodewave`.
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
