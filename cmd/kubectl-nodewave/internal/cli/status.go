package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

func newStatusCommand(o Options, flags *genericclioptions.ConfigFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show where each node of a ClusterUpgrade stands",
		Long: "status shows one row per node the ClusterUpgrade selects, in the order nodewave upgrades them (zone by zone,\n" +
			"then by name): its state, kubelet version, how long it has been in that state, and what it waits for.",
		Example: "  kubectl nodewave status workers-v1.37.2\n  kubectl nodewave status workers-v1.37.2 -o wide",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFormat(output); err != nil {
				return err
			}
			g, err := newGatherer(flags, o.PodLists)
			if err != nil {
				return err
			}
			cu, err := g.clusterUpgrade(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			nodes, err := g.selectedNodes(cmd.Context(), cu)
			if err != nil {
				return err
			}
			report, err := buildStatus(cu, nodes)
			if err != nil {
				return err
			}
			return printStatus(o.Streams.Out, report, output, o.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: wide (adds READY, CORDONED and TARGET) or json.")
	return cmd
}

// printStatus writes the report as a table (wide adds columns) with the
// summary under it, or as JSON.
func printStatus(w io.Writer, r statusReport, output string, now time.Time) error {
	if output == outputJSON {
		return writeJSON(w, r)
	}
	wide := output == outputWide
	header := "NODE\tZONE\tSTATE\tKUBELET\tSINCE\tMESSAGE"
	if wide {
		header = "NODE\tZONE\tSTATE\tKUBELET\tSINCE\tREADY\tCORDONED\tTARGET\tMESSAGE"
	}
	rows := []string{header}
	for _, row := range r.Nodes {
		since := "-"
		if row.Since != nil {
			since = duration.HumanDuration(now.Sub(*row.Since))
		}
		cells := []string{row.Node, dash(row.Zone), row.State, dash(row.Kubelet), since}
		if wide {
			cells = append(cells, strconv.FormatBool(row.Ready), strconv.FormatBool(row.Unschedulable), dash(row.TargetVersion))
		}
		rows = append(rows, strings.Join(append(cells, row.Message), "\t"))
	}
	if err := writeTable(w, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.summary())
	return err
}

// dash is s, or "-" when s is empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
