package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// readClusterUpgrade reads one ClusterUpgrade from a YAML or JSON file
// ("-": stdin). It refuses unknown fields, another kind, more than one
// object, and an object without a name, naming what is wrong. It does
// not apply the API's defaults or validation; the server-side dry run
// does.
func readClusterUpgrade(path string, stdin io.Reader) (*upgradev1alpha1.ClusterUpgrade, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	docs, err := documents(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: holds %d objects; plan reads exactly one ClusterUpgrade", path, len(docs))
	}
	js, err := yaml.YAMLToJSON(docs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cu := &upgradev1alpha1.ClusterUpgrade{}
	strict, err := kjson.UnmarshalStrict(js, cu)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(strict...))
	}
	if gv := upgradev1alpha1.GroupVersion.String(); cu.APIVersion != gv || cu.Kind != "ClusterUpgrade" {
		return nil, fmt.Errorf("%s: apiVersion and kind are %q and %q, not %q and %q", path, cu.APIVersion, cu.Kind, gv, "ClusterUpgrade")
	}
	if cu.Name == "" {
		return nil, fmt.Errorf("%s: metadata.name: Required value", path)
	}
	return cu, nil
}

// documents splits YAML into its non-empty documents.
func documents(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
}

// stripComments drops the comment lines (and document separators) of a
// YAML document.
func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, line...)
		}
	}
	return out
}
