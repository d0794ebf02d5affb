// Command ociimage builds a container image from files on this machine,
// without a Docker engine and without pulling a base image: one layer
// holding the named files and symlinks, written as an image tarball that
// `ctr images import` (and `docker load`) read. The result is reproducible:
// every timestamp is the Unix epoch, every entry is owned by root, and
// entries are written in path order.
//
//	ociimage -tag nodewave.local/pause:3.10 -o pause.tar -entrypoint /pause /pause=./pause
//	ociimage -tag nodewave.local/busybox:1.35 -o busybox.tar -cmd /bin/sh \
//	    /bin/busybox=/bin/busybox /bin/sh=@busybox
//
// With -platform (repeated), it builds one OCI image per platform into an
// OCI image index, written as an OCI image layout (-layout) and as that
// layout's archive (-o), with an SPDX SBOM (-sbom); a SRC may hold {arch},
// replaced by each platform's architecture. That is the manager's release
// image (make image):
//
//	ociimage -tag ghcr.io/nodewave/nodewave:v0.1.0 -o nodewave-image.tar -layout image \
//	    -sbom nodewave-image.spdx.json -platform linux/amd64 -platform linux/arm64 \
//	    -ca-certificates /etc/ssl/certs/ca-certificates.crt -entrypoint /manager \
//	    -user 65532:65532 /manager=bin/image/{arch}/manager /tmp=+1777
//
// An argument DEST=SRC copies the file SRC to DEST (its mode kept);
// DEST=@TARGET makes DEST a symlink to TARGET; DEST=+MODE makes DEST an
// empty directory with the octal MODE (/tmp=+1777). Parent directories are
// created as needed, mode 0755.
//
// go-containerregistry writes the image; we write only the layer's tar,
// because no tool we could find makes an image from loose files and
// symlinks without a base image or a Docker engine.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		tag        = flag.String("tag", "", "the image's name and tag, as nodes will refer to it (required)")
		out        = flag.String("o", "", "the image tarball to write (required)")
		arch       = flag.String("arch", "amd64", "the image's architecture")
		entrypoint = flag.String("entrypoint", "", "the entrypoint: a path, or a JSON array")
		cmd        = flag.String("cmd", "", "the default arguments: a path, or a JSON array")
		user       = flag.String("user", "", "the user the image runs as (uid[:gid])")
		workdir    = flag.String("workdir", "", "the working directory")
		layoutDir  = flag.String("layout", "", "with -platform: also write the image index as an OCI image layout in this directory (replaced)")
		caCerts    = flag.String("ca-certificates", "",
			"add the Mozilla root certificates (golang.org/x/crypto/x509roots/fallback) as a PEM file at this path of the image")
		sbom      = flag.String("sbom", "", "with -platform: write an SPDX 2.3 JSON SBOM of the image index and the Go binaries in it to this file")
		env       listFlag
		labels    listFlag
		platforms listFlag
	)
	flag.Var(&env, "env", "KEY=VALUE, repeatable")
	flag.Var(&labels, "label", "KEY=VALUE, repeatable")
	flag.Var(&platforms, "platform", "OS/ARCH of an image of a multi-platform index, repeatable; SRC paths may hold {arch}. "+
		"With it, -o is an OCI image layout archive (ctr images import, docker load) rather than a Docker tarball")
	flag.Parse()
	if *tag == "" || *out == "" || flag.NArg() == 0 || (len(platforms) == 0 && (*layoutDir != "" || *sbom != "")) {
		fmt.Fprintln(os.Stderr, "usage: ociimage -tag REF -o OUT.tar [flags] DEST=SRC|DEST=@TARGET|DEST=+MODE ...")
		flag.PrintDefaults()
		os.Exit(2)
	}
	entries, err := parseEntries(flag.Args())
	if err == nil && *caCerts != "" {
		entries, err = withCACertificates(entries, *caCerts)
	}
	if err == nil {
		err = build(image{
			tag: *tag, out: *out, arch: *arch, entrypoint: *entrypoint, cmd: *cmd,
			user: *user, workdir: *workdir, env: env, labels: labels, entries: entries,
			platforms: platforms, layout: *layoutDir, sbom: *sbom,
		})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

// image is what to build.
type image struct {
	tag, out, arch, entrypoint, cmd, user, workdir string
	env, labels                                    []string
	entries                                        []entry
	platforms                                      []string // OS/ARCH; none: one Docker image of arch
	layout, sbom                                   string   // with platforms: where to write the layout and the SBOM
}

// entry is one file or symlink of the layer.
type entry struct {
	dest   string // absolute path in the image
	src    string // file on this machine, or ""
	data   []byte // the file's content, when src is "" and it is made here
	target string // symlink target, or ""
	// mode is a directory's (when src, data and target are empty), or a
	// file's; 0 for a file means its source's mode (0644 for data).
	mode int64
}

func parseEntries(args []string) ([]entry, error) {
	var entries []entry
	for _, a := range args {
		dest, src, ok := strings.Cut(a, "=")
		if !ok || !path.IsAbs(dest) || src == "" {
			return nil, fmt.Errorf("%q: want DEST=SRC or DEST=@TARGET with DEST absolute", a)
		}
		e := entry{dest: path.Clean(dest)}
		if t, isLink := strings.CutPrefix(src, "@"); isLink {
			e.target = t
		} else if m, isDir := strings.CutPrefix(src, "+"); isDir {
			mode, err := strconv.ParseInt(m, 8, 32)
			if err != nil {
				return nil, fmt.Errorf("%q: want DEST=+MODE, MODE octal", a)
			}
			e.mode = mode
		} else {
			e.src = src
		}
		entries = append(entries, e)
	}
	return sortEntries(entries), nil
}

// sortEntries puts entries in path order, the order they are written in.
func sortEntries(entries []entry) []entry {
	sort.Slice(entries, func(i, j int) bool { return entries[i].dest < entries[j].dest })
	return entries
}

func build(im image) error {
	if len(im.platforms) > 0 {
		return buildIndex(im)
	}
	ref, err := name.NewTag(im.tag)
	if err != nil {
		return err
	}
	img, err := platformImage(im, v1.Platform{OS: "linux", Architecture: im.arch}, types.DockerLayer)
	if err != nil {
		return err
	}
	tmp := im.out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return err
	}
	return os.Rename(tmp, im.out)
}

// platformImage is the image for one platform: one layer of layerType
// holding the entries (each SRC with {arch} replaced by the platform's
// architecture), and the config.
func platformImage(im image, p v1.Platform, layerType types.MediaType) (v1.Image, error) {
	entries := make([]entry, len(im.entries))
	for i, e := range im.entries {
		e.src = strings.ReplaceAll(e.src, "{arch}", p.Architecture)
		entries[i] = e
	}
	layerTar, err := layer(entries)
	if err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(layerType))
	if err != nil {
		return nil, err
	}
	base := empty.Image
	if layerType == types.OCILayer {
		base = mutate.ConfigMediaType(mutate.MediaType(base, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "ociimage"}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	if cf.Config.Entrypoint, err = argv(im.entrypoint); err != nil {
		return nil, fmt.Errorf("-entrypoint: %w", err)
	}
	if cf.Config.Cmd, err = argv(im.cmd); err != nil {
		return nil, fmt.Errorf("-cmd: %w", err)
	}
	cf.Config.User, cf.Config.WorkingDir, cf.Config.Env = im.user, im.workdir, im.env
	if len(im.labels) > 0 {
		cf.Config.Labels = map[string]string{}
		for _, kv := range im.labels {
			k, v, _ := strings.Cut(kv, "=")
			cf.Config.Labels[k] = v
		}
	}
	return mutate.ConfigFile(img, cf)
}

// argv reads "" (unset), a JSON array, or a single path.
func argv(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "[") {
		var a []string
		return a, json.Unmarshal([]byte(s), &a)
	}
	return []string{s}, nil
}

// layer writes the entries, and the directories above them, as a tar:
// an image's layer, or the archive of an image layout.
func layer(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	dirs := map[string]bool{}
	for _, e := range entries {
		if err := parents(tw, dirs, path.Dir(e.dest), epoch); err != nil {
			return nil, err
		}
		h := &tar.Header{Name: strings.TrimPrefix(e.dest, "/"), ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case e.src == "" && e.target == "" && e.data == nil:
			dirs[e.dest] = true
			h.Name, h.Typeflag, h.Mode = h.Name+"/", tar.TypeDir, e.mode
		case e.target != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.target, 0o777
		default:
			data, mode, err := content(e)
			if err != nil {
				return nil, err
			}
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, mode, int64(len(data))
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			if _, err := tw.Write(data); err != nil {
				return nil, err
			}
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// content is a file entry's bytes and mode: its data, or its source's.
func content(e entry) ([]byte, int64, error) {
	data, mode := e.data, e.mode
	if e.src != "" {
		fi, err := os.Stat(e.src)
		if err != nil {
			return nil, 0, err
		}
		if data, err = os.ReadFile(e.src); err != nil {
			return nil, 0, err
		}
		if mode == 0 {
			mode = int64(fi.Mode().Perm())
		}
	}
	if mode == 0 {
		mode = 0o644
	}
	return data, mode, nil
}

// parents writes the directory dir and those above it, once each.
func parents(tw *tar.Writer, seen map[string]bool, dir string, at time.Time) error {
	if dir == "/" || dir == "." || seen[dir] {
		return nil
	}
	if err := parents(tw, seen, path.Dir(dir), at); err != nil {
		return err
	}
	seen[dir] = true
	return tw.WriteHeader(&tar.Header{
		Name: strings.TrimPrefix(dir, "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: at, Format: tar.FormatPAX,
	})
}
