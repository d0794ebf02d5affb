// Command release builds the kubectl plugin's release archives and its
// krew manifest (make build-plugins):
//
//	release -version v0.1.0 -ldflags "-s -w -X ..." -root ../.. -out ../../dist
//
// For each platform it cross-builds the plugin (CGO_ENABLED=0, -trimpath,
// the given linker flags) and writes
// dist/kubectl-nodewave_<version>_<os>_<arch>.tar.gz holding the binary
// (kubectl-nodewave.exe on Windows), LICENSE when the repository has one,
// and the completion script kubectl runs for `kubectl nodewave <TAB>`
// (kubectl_complete-nodewave; a .cmd on Windows). Then it writes
// dist/nodewave.krew.yaml, krew's manifest for the release, with each
// archive's URL on the release page and its sha256.
//
// The archives are reproducible: entries in name order, every timestamp
// the Unix epoch, owned by uid and gid 0 without names, fixed modes, and a
// gzip header without a name or a time; the same sources and Go release
// give the same bytes.
//
// It is a module of its own so that krew's module (whose types the
// manifest is written with, and whose validator its test runs) stays out
// of the manager's go.mod.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "The release, a tag such as v0.1.0: the archives' names, the manifest's spec.version and its URLs.")
	flag.StringVar(&o.ldflags, "ldflags", "", "The linker flags of the build (the Makefile's LDFLAGS, which stamp the version).")
	flag.StringVar(&o.root, "root", "../..", "The repository's root: the module the plugin is built from, LICENSE.")
	flag.StringVar(&o.pkg, "package", "./cmd/kubectl-nodewave", "The plugin's package, relative to -root.")
	flag.StringVar(&o.out, "out", "../../dist", "Where the archives and the manifest are written.")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// options are the flags of release.
type options struct {
	version, ldflags, root, pkg, out string
	// platforms are the ones built; all of platforms when empty.
	platforms []platform
}

// run builds every archive, then the manifest.
func run(o options) error {
	if o.version == "" {
		return fmt.Errorf("-version is required")
	}
	if len(o.platforms) == 0 {
		o.platforms = platforms
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "release-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()

	built := make([]archive, 0, len(o.platforms))
	for _, p := range o.platforms {
		a, err := buildArchive(o, p, filepath.Join(work, p.os+"_"+p.arch))
		if err != nil {
			return fmt.Errorf("%s/%s: %w", p.os, p.arch, err)
		}
		fmt.Printf("%s  %s\n", a.sha256, a.name)
		built = append(built, a)
	}
	manifest, err := krewManifest(o.version, built)
	if err != nil {
		return err
	}
	path := filepath.Join(o.out, krewManifestFile)
	if err := os.WriteFile(path, manifest, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}
