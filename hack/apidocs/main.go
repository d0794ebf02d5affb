// Command apidocs writes the API reference (docs/api-reference.md) from the
// CRDs that controller-gen generates: every spec and status field with its
// type, default, validation and description. The descriptions are the Go
// doc comments of api/, so the reference cannot say something the types do
// not. `make manifests` runs it right after controller-gen, and `make
// verify` fails when the committed page differs from what it writes.
//
//	go run ./hack/apidocs -out docs/api-reference.md \
//	    -external 'spec.upgrade.job.template=[PodTemplateSpec](https://...)' \
//	    config/crd/bases/*.yaml
//
// -check compares instead of writing, and fails if -out is stale.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "apidocs:", err)
		os.Exit(1)
	}
}

// externalFlag collects -external path=markdown pairs.
type externalFlag map[string]string

func (e externalFlag) String() string { return fmt.Sprint(map[string]string(e)) }

func (e externalFlag) Set(v string) error {
	path, md, ok := strings.Cut(v, "=")
	if !ok || path == "" || md == "" {
		return fmt.Errorf("-external %q: want path=markdown, e.g. spec.template=[PodTemplateSpec](https://...)", v)
	}
	e[path] = md
	return nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("apidocs", flag.ContinueOnError)
	out := fs.String("out", "", "file to write (default: standard output)")
	check := fs.Bool("check", false, "do not write: fail if -out differs from what would be written")
	external := externalFlag{}
	fs.Var(external, "external", "path=markdown: document the field at path as that type, without its fields (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no CRD files given")
	}
	crds, err := loadCRDs(fs.Args())
	if err != nil {
		return err
	}
	doc, err := Render(crds, Options{External: external})
	if err != nil {
		return err
	}
	switch {
	case *check:
		if *out == "" {
			return errors.New("-check needs -out")
		}
		return Check(*out, doc)
	case *out == "":
		_, err = os.Stdout.Write(doc)
		return err
	default:
		return os.WriteFile(*out, doc, 0o644)
	}
}

// Check returns an error if the file at path does not hold doc exactly.
func Check(path string, doc []byte) error {
	have, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Equal(have, doc) {
		return fmt.Errorf("%s is out of date with the CRDs: run `make manifests` and commit it", path)
	}
	return nil
}
