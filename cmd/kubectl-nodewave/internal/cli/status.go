package cli

import (
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
	out := newOutputFlags(true)
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show where each node of a ClusterUpgrade stands",
		Long: "status shows one row per node the ClusterUpgrade selects, in the order nodewave upgrades them (zone by zone,\n" +
			"then by name): its state, kubelet version, how long it has been in that state, and what it waits for.\n" +
			"-o json, yaml, name, jsonpath=... or go-template=... print the ClusterUpgrade itself, as kubectl get does.",
		Example: "  kubectl nodewave status workers-v1.37.2\n  kubectl nodewave status workers-v1.37.2 -o wide\n" +
			"  kubectl nodewave status workers-v1.37.2 -o jsonpath='{.status.phase}'",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusterUpgrades(o, flags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
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
			if !out.table() {
				return out.printObject(o.Streams.Out, cu)
			}
			nodes, err := g.selectedNodes(cmd.Context(), cu)
			if err != nil {
				return err
			}
			report, err := buildStatus(cu, nodes)
			if err != nil {
				return err
			}
			return printStatus(o.Streams.Out, report, statusTable{wide: out.format() == outputWide, noHeaders: out.noHeaders}, o.Now())
		},
	}
	out.addFlags(cmd, "adds READY, CORDONED and TARGET", true)
	return cmd
}

// statusTable says how status prints its table.
type statusTable struct {
	// wide adds READY, CORDONED and TARGET.
	wide bool
	// noHeaders leaves out the header row and the summary.
	noHeaders bool
}

// printStatus writes the report as a table with the summary under it.
func printStatus(w io.Writer, r statusReport, t statusTable, now time.Time) error {
	wide := t.wide
	header := "NODE\tZONE\tSTATE\tKUBELET\tSINCE\tMESSAGE"
	if wide {
		header = "NODE\tZONE\tSTATE\tKUBELET\tSINCE\tREADY\tCORDONED\tTARGET\tMESSAGE"
	}
	var rows []string
	if !t.noHeaders {
		rows = append(rows, header)
	}
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
	if err := writeTable(w, rows); err != nil || t.noHeaders {
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
