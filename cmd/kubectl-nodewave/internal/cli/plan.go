package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/forecast"
)

// planFlags are the flags of `plan`.
type planFlags struct {
	file           string
	waves          int
	failOnBlockers bool
	validate       bool
}

func newPlanCommand(o Options, flags *genericclioptions.ConfigFlags) *cobra.Command {
	var pf planFlags
	out := newOutputFlags(false)
	cmd := &cobra.Command{
		Use:   "plan (NAME | -f FILE)",
		Short: "Foresee a ClusterUpgrade's waves and blockers before any node is touched",
		Long: "plan reads the cluster and foresees how a ClusterUpgrade would go, without changing anything: the order,\n" +
			"the first waves of nodes that start together (from nodewave's own planner), and the blockers it can see\n" +
			"now: PodDisruptionBudgets that allow no disruption, pods the drain options keep, NotReady nodes, nodes\n" +
			"already at or past the target, too little CPU or memory for the evicted pods, version skew, conflicts.\n" +
			"With spec.controlPlane, the control-plane nodes' waves come first, one node each, then the workers'.\n" +
			"With spec.strategy.canary, the workers' first waves are the canary's, and a row for its soak and one for its\n" +
			"pause come before the rest.\n" +
			"NAME is an applied ClusterUpgrade; -f reads one that is not applied yet (or a change to one that is).\n" +
			"Blockers are warnings: the exit code is 0 unless plan fails, or --fail-on-blockers finds any (exit code 2).\n" +
			"-o json, yaml, jsonpath=... or go-template=... print the forecast as an object (kind Forecast, apiVersion\n" +
			"kubectl.nodewave.io/v1alpha1: the plugin's own, never stored in a cluster).",
		Example: "  kubectl nodewave plan workers-v1.37.2\n" +
			"  kubectl nodewave plan -f clusterupgrade.yaml --waves 10\n" +
			"  kubectl nodewave plan -f clusterupgrade.yaml --fail-on-blockers -o json\n" +
			"  kubectl nodewave plan workers-v1.37.2 -o jsonpath='{.totalWaves}'",
		ValidArgsFunction: completeClusterUpgrades(o, flags),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case pf.file == "" && len(args) != 1:
				return errors.New("plan takes one ClusterUpgrade: a NAME, or -f FILE")
			case pf.file != "" && len(args) != 0:
				return errors.New("plan takes a NAME or -f FILE, not both")
			case pf.waves < 0:
				return fmt.Errorf("--waves must be 0 (all) or more, not %d", pf.waves)
			}
			if err := out.check(); err != nil {
				return err
			}
			g, err := newGatherer(flags, o.PodLists)
			if err != nil {
				return err
			}
			f, source, err := runPlan(cmd.Context(), g, o, pf, args)
			if err != nil {
				return err
			}
			if out.table() {
				err = printPlan(o.Streams.Out, f, source, out.format() == outputWide)
			} else {
				err = out.printObject(o.Streams.Out, newForecastObject(f))
			}
			if err != nil {
				return err
			}
			if pf.failOnBlockers && f.Blockers() > 0 {
				return fmt.Errorf("%w (%d)", errBlockers, f.Blockers())
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&pf.file, "filename", "f", "", "A ClusterUpgrade to foresee from a YAML or JSON file, - for stdin.")
	out.addFlags(cmd, "every node of every wave, every name", false)
	cmd.Flags().IntVar(&pf.waves, "waves", 5, "How many waves to list; 0 lists them all.")
	cmd.Flags().BoolVar(&pf.failOnBlockers, "fail-on-blockers", false, "Exit with code 2 when the plan has blockers.")
	cmd.Flags().BoolVar(&pf.validate, "validate", true,
		"With -f, have the API server admit the ClusterUpgrade in a dry run first (as kubectl apply --dry-run=server), "+
			"so a bad field fails here and the defaults apply.")
	return cmd
}

// runPlan reads the ClusterUpgrade and its world, and computes the
// forecast. source says where the ClusterUpgrade came from.
func runPlan(ctx context.Context, g *gatherer, o Options, pf planFlags, args []string) (forecast.Forecast, string, error) {
	var cu *upgradev1alpha1.ClusterUpgrade
	var source string
	var err error
	if pf.file != "" {
		if cu, err = readClusterUpgrade(pf.file, o.Streams.In); err != nil {
			return forecast.Forecast{}, "", err
		}
		source = "from " + pf.file
		if pf.validate {
			cu, source, err = validated(ctx, g, cu, source, o.Streams.ErrOut)
			if err != nil {
				return forecast.Forecast{}, "", err
			}
		}
	} else if cu, err = g.clusterUpgrade(ctx, args[0]); err != nil {
		return forecast.Forecast{}, "", err
	}
	in, err := g.forecastInput(ctx, cu)
	if err != nil {
		return forecast.Forecast{}, "", err
	}
	in.Waves, in.Now = pf.waves, o.Now()
	f, err := forecast.Compute(in)
	return f, source, err
}

// validated has the API server admit cu in a dry run. A refusal by
// admission is an error; anything else that keeps the dry run from
// happening (no permission, the CRD not installed) is a warning on
// errOut, and cu goes on as read.
func validated(ctx context.Context, g *gatherer, cu *upgradev1alpha1.ClusterUpgrade, source string,
	errOut io.Writer) (*upgradev1alpha1.ClusterUpgrade, string, error) {
	admitted, err := g.dryRun(ctx, cu)
	switch {
	case err == nil:
		return admitted, source + ", admitted by a server-side dry run", nil
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		return nil, "", fmt.Errorf("the API server refuses it: %w", err)
	}
	_, _ = fmt.Fprintf(errOut, "warning: could not validate %s on the server (%v); it is forecast as read, without the API's defaults\n", cu.Name, err)
	return cu, source + ", not validated", nil
}
