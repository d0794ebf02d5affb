// Package cli is the command layer of kubectl-nodewave: cobra commands
// that read the cluster through a gatherer, hand what they read to pure
// functions (internal/forecast for plan, the status rows here), and print
// the result.
package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
)

// Options are what the commands take from their surroundings; tests set
// their own.
type Options struct {
	// Streams are where the commands read and write.
	Streams genericiooptions.IOStreams
	// Now is the clock of the SINCE column.
	Now func() time.Time
	// PodLists says how plan lists pods; the zero value is the default.
	PodLists PodLists
}

// PodLists says how plan lists the pods of the selected nodes: node by
// node (a field selector on spec.nodeName each) for up to PerNodeUpTo
// nodes, otherwise every pod of the cluster in pages of PageSize, keeping
// those on the selected nodes. With client-go's 5 requests a second, 1,000
// nodes listed one by one took over three minutes; 20,000 pods in pages of
// 500 are 40 requests.
type PodLists struct {
	// PerNodeUpTo is the most nodes listed one by one; default 50 (ten
	// seconds of requests).
	PerNodeUpTo int
	// PageSize is the number of pods a page holds; default 500.
	PageSize int64
}

// Exit codes of Main.
const (
	// ExitError: the command failed (bad flags, an unreadable file, the
	// API server refused).
	ExitError = 1
	// ExitBlockers: plan --fail-on-blockers found blockers.
	ExitBlockers = 2
)

// errBlockers is what plan returns with --fail-on-blockers when it found
// blockers: the report is printed, and the exit code says so.
var errBlockers = errors.New("the plan has blockers")

// Main runs the plugin with args and returns its exit code.
func Main(args []string, o Options) int {
	cmd := NewRootCommand(o)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	_, _ = fmt.Fprintln(o.Streams.ErrOut, "error:", err)
	if errors.Is(err, errBlockers) {
		return ExitBlockers
	}
	return ExitError
}

// NewRootCommand is `kubectl nodewave` with its subcommands and the
// standard kubeconfig flags (--kubeconfig, --context, --server, ...).
func NewRootCommand(o Options) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "kubectl-nodewave",
		Short: "Show and foresee nodewave ClusterUpgrades",
		Long: "kubectl nodewave shows where each node of a ClusterUpgrade stands (status), and foresees, before any node\n" +
			"is touched, the order, the first waves and the blockers of a ClusterUpgrade, applied or not (plan).",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl nodewave"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(o.Streams.In)
	root.SetOut(o.Streams.Out)
	root.SetErr(o.Streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	root.AddCommand(newStatusCommand(o, flags), newPlanCommand(o, flags), newVersionCommand(o))
	return root
}

// writeTable writes rows, their cells separated by tabs, as aligned
// columns the way kubectl does.
func writeTable(w io.Writer, rows []string) error {
	tw := printers.GetNewTabWriter(w)
	for _, row := range rows {
		if _, err := io.WriteString(tw, row+"\n"); err != nil {
			return err
		}
	}
	return tw.Flush()
}
