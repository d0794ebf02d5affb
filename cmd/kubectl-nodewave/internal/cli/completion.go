package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// completeClusterUpgrades completes a command's one NAME with the
// ClusterUpgrades of the cluster the kubeconfig flags name (kubectl-nodewave
// __complete, which the shells' completion scripts and kubectl's
// kubectl_complete-nodewave call). Nothing is offered after the first
// argument, nor with plan -f; an error from the cluster is reported as
// cobra reports completion errors.
func completeClusterUpgrades(o Options, flags *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if f := cmd.Flags().Lookup("filename"); len(args) > 0 || (f != nil && f.Changed) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		g, err := newGatherer(flags, o.PodLists)
		if err != nil {
			cobra.CompErrorln(err.Error())
			return nil, cobra.ShellCompDirectiveError
		}
		names, err := g.clusterUpgradeNames(cmd.Context())
		if err != nil {
			cobra.CompErrorln(err.Error())
			return nil, cobra.ShellCompDirectiveError
		}
		var completions []cobra.Completion
		for _, name := range names {
			if strings.HasPrefix(name, toComplete) {
				completions = append(completions, name)
			}
		}
		return completions, cobra.ShellCompDirectiveNoFileComp
	}
}
