package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// outputWide is the -o value that widens a table.
const outputWide = "wide"

// outputFlags are a command's -o and --no-headers: a table (the default,
// or wide), or one of cli-runtime's printers (json, yaml, name, jsonpath,
// go-template, ...), as kubectl's own commands take them.
type outputFlags struct {
	print     *genericclioptions.PrintFlags
	noHeaders bool
}

// newOutputFlags is -o for objects of the plugin's scheme; withName
// offers -o name (an object with a kind and a name to print).
func newOutputFlags(withName bool) *outputFlags {
	pf := genericclioptions.NewPrintFlags("").WithTypeSetter(newScheme())
	if !withName {
		pf.NamePrintFlags = nil
	}
	return &outputFlags{print: pf}
}

// addFlags adds -o (and, with noHeaders, --no-headers) to cmd; wide says
// what -o wide adds to the table.
func (f *outputFlags) addFlags(cmd *cobra.Command, wide string, noHeaders bool) {
	f.print.AddFlags(cmd)
	cmd.Flag("output").Usage = "Output format: wide (" + wide + ") or one of " +
		strings.Join(f.print.AllowedFormats(), ", ") + ". The default is a table."
	if noHeaders {
		cmd.Flags().BoolVar(&f.noHeaders, "no-headers", false, "Print the table's rows only: no header and no summary.")
	}
}

// format is the -o value.
func (f *outputFlags) format() string { return *f.print.OutputFormat }

// table says whether the output is a table (no -o, or -o wide).
func (f *outputFlags) table() bool { return f.format() == "" || f.format() == outputWide }

// printer is cli-runtime's printer for -o; it is called only when the
// output is not a table. A format it does not know is refused with
// cli-runtime's message, which lists the formats (wide among them).
func (f *outputFlags) printer() (printers.ResourcePrinter, error) {
	p, err := f.print.ToPrinter()
	if genericclioptions.IsNoCompatiblePrinterError(err) {
		format := f.format()
		return nil, genericclioptions.NoCompatiblePrinterError{OutputFormat: &format,
			AllowedFormats: append(f.print.AllowedFormats(), outputWide)}
	}
	return p, err
}

// printObject prints obj with cli-runtime's printer for -o.
func (f *outputFlags) printObject(w io.Writer, obj runtime.Object) error {
	p, err := f.printer()
	if err != nil {
		return err
	}
	return p.PrintObj(obj, w)
}

// check refuses a bad -o before anything is read from the cluster.
func (f *outputFlags) check() error {
	if f.table() {
		return nil
	}
	_, err := f.printer()
	return err
}

// newScheme knows the Kubernetes types, the ClusterUpgrade and the
// plugin's own client-side Forecast.
func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(upgradev1alpha1.AddToScheme(scheme))
	scheme.AddKnownTypes(forecastGroupVersion, &forecastObject{})
	return scheme
}
