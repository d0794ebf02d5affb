package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/nodewave/nodewave/internal/buildinfo"
)

// programName is the plugin's executable, as version names it.
const programName = "kubectl-nodewave"

// versionInfo is `version -o json|yaml`, in the shape of kubectl
// version's clientVersion: the plugin's release, the Go release it was
// built with, and its platform.
type versionInfo struct {
	// ClientVersion is the plugin's release (buildinfo.Version).
	ClientVersion string `json:"clientVersion"`
	// GoVersion is the Go release the plugin was built with.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH of the binary.
	Platform string `json:"platform"`
}

func newVersionCommand(o Options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Long: "version prints the release this kubectl-nodewave belongs to, the Go release it was built with and its\n" +
			"platform; -o json or -o yaml print them as an object. It does not contact the cluster.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(o.Streams.Out, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json or yaml. The default is one line.")
	return cmd
}

// printVersion writes the version as one line, or as JSON or YAML.
func printVersion(w io.Writer, output string) error {
	info := versionInfo{ClientVersion: buildinfo.Version(), GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	var data []byte
	var err error
	switch output {
	case "":
		_, err = fmt.Fprintln(w, buildinfo.String(programName))
		return err
	case "json":
		data, err = json.MarshalIndent(info, "", "  ")
		data = append(data, '\n')
	case "yaml":
		data, err = yaml.Marshal(info)
	default:
		return fmt.Errorf("--output must be json or yaml, not %q", output)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
