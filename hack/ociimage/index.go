package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// containerdImageName is the annotation `ctr images import` names an
// imported image by (containerd's images.AnnotationImageName); docker load
// reads it too.
const containerdImageName = "io.containerd.image.name"

// buildIndex writes a multi-platform image: one OCI image per platform in an
// OCI image index, as an OCI image layout (im.layout, when set) and as an
// archive of that layout (im.out), and the SBOM (im.sbom, when set).
func buildIndex(im image) error {
	ref, err := name.NewTag(im.tag)
	if err != nil {
		return err
	}
	var adds []mutate.IndexAddendum
	for _, s := range im.platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return fmt.Errorf("-platform %q: %w", s, err)
		}
		img, err := platformImage(im, *p, types.OCILayer)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)

	dir := im.layout
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ociimage-layout-"); err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
	} else if err := os.RemoveAll(dir); err != nil {
		return err
	}
	// The layout's index.json names the image index twice: by the full
	// reference (containerd, docker load) and by its tag (the OCI
	// convention for org.opencontainers.image.ref.name).
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		containerdImageName:                 ref.Name(),
		"org.opencontainers.image.ref.name": ref.TagStr(),
	})); err != nil {
		return err
	}
	if err := archive(dir, im.out); err != nil {
		return err
	}
	if im.sbom != "" {
		return writeSBOM(im, ref, idx)
	}
	return nil
}

// archive writes the directory dir as a tar at out, reproducibly, as an
// image layer is written (layer): entries in path order, every timestamp
// the Unix epoch, owned by root; files 0644, directories 0755.
func archive(dir, out string) error {
	var entries []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		e := entry{dest: "/" + filepath.ToSlash(strings.TrimPrefix(p, dir+string(filepath.Separator))), src: p, mode: 0o644}
		if d.IsDir() {
			e.src, e.mode = "", 0o755
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	data, err := layer(sortEntries(entries))
	if err != nil {
		return err
	}
	if err := os.WriteFile(out+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(out+".tmp", out)
}
