// Command crdtrim shrinks the CRDs controller-gen writes, in place: under
// each -trim path of every version's schema it removes the descriptions of
// the nested fields (the field's own description stays), and it removes
// each -drop field. The schema itself (types, required fields, list and map
// semantics) stays whole, so the API server still refuses a wrongly typed
// or unknown field there.
//
// nodewave embeds corev1.PodTemplateSpec three times; with Kubernetes'
// descriptions in every copy the CRD is too large for the
// last-applied-configuration annotation of a plain `kubectl apply -f`
// (see docs/design-decisions.md). controller-gen has only a global
// maxDescLen, which would drop nodewave's own descriptions too. `make
// manifests` runs it right after controller-gen:
//
//	go run ./hack/crdtrim -trim spec.upgrade.job.template \
//	    -drop spec.upgrade.job.template.spec.ephemeralContainers \
//	    config/crd/bases/upgrade.nodewave.io_clusterupgrades.yaml
//
// Paths are field names from the object's root, dot-separated; a path
// through a list goes through its items without a name for them. A path
// that is not in the schema of every version of every file given is an
// error: a renamed field must not leave the CRD silently untrimmed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "crdtrim:", err)
		os.Exit(1)
	}
}

// pathsFlag collects a repeatable flag of dot-separated field paths.
type pathsFlag []string

func (p *pathsFlag) String() string { return strings.Join(*p, ",") }

func (p *pathsFlag) Set(v string) error {
	if v == "" || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, "..") {
		return fmt.Errorf("%q is not a field path such as spec.upgrade.job.template", v)
	}
	*p = append(*p, v)
	return nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("crdtrim", flag.ContinueOnError)
	var trim, drop pathsFlag
	fs.Var(&trim, "trim", "remove the descriptions of every field under this path, keeping its own (repeatable)")
	fs.Var(&drop, "drop", "remove the field at this path from the schema (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no CRD files given")
	}
	if len(trim) == 0 && len(drop) == 0 {
		return errors.New("nothing to do: give -trim or -drop paths")
	}
	for _, file := range fs.Args() {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		out, err := Trim(src, trim, drop)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			return err
		}
	}
	return nil
}
