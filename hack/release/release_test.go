package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"
)

// release runs the release into a fresh directory with testdata/hello as
// the plugin, and a LICENSE and completion scripts in a repository of its
// own; it returns the output directory.
func release(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile(filepath.Join("testdata", "hello", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.mod", "module example.com/hello\n\ngo 1.26\n")
	write("main.go", string(src))
	write("LICENSE", "Apache License\n")
	for _, script := range []string{"kubectl_complete-nodewave", "kubectl_complete-nodewave.cmd"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "cmd", "kubectl-nodewave", script))
		if err != nil {
			t.Fatal(err)
		}
		write(filepath.Join("cmd", "kubectl-nodewave", script), string(data))
	}
	out := filepath.Join(t.TempDir(), "dist")
	err = run(options{version: "v1.2.3", ldflags: "-s -w -X main.version=v1.2.3", root: root, pkg: ".", out: out})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sums are the SHA-256 of every file in dir, by name.
func sums(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		got[e.Name()] = hex.EncodeToString(sum[:])
	}
	return got
}

// entry is one file of an archive.
type entry struct {
	hdr  *tar.Header
	data []byte
}

// untar reads the archive at path.
func untar(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header has name %q, time %v", path, zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var entries []entry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{hdr, data})
	}
}

// machine is the OS and architecture an executable's header says.
func machine(t *testing.T, data []byte) (string, string) {
	t.Helper()
	r := bytes.NewReader(data)
	if f, err := elf.NewFile(r); err == nil {
		switch f.Machine {
		case elf.EM_X86_64:
			return "linux", "amd64"
		case elf.EM_AARCH64:
			return "linux", "arm64"
		}
		return "linux", f.Machine.String()
	}
	if f, err := macho.NewFile(r); err == nil {
		switch f.Cpu {
		case macho.CpuAmd64:
			return "darwin", "amd64"
		case macho.CpuArm64:
			return "darwin", "arm64"
		}
		return "darwin", f.Cpu.String()
	}
	if f, err := pe.NewFile(r); err == nil {
		if f.Machine == pe.IMAGE_FILE_MACHINE_AMD64 {
			return "windows", "amd64"
		}
		return "windows", "machine " + string(rune(f.Machine))
	}
	t.Fatal("neither ELF, Mach-O nor PE")
	return "", ""
}

func TestReleaseIsReproducible(t *testing.T) {
	first, second := sums(t, release(t)), sums(t, release(t))
	if len(first) != len(platforms)+1 {
		t.Fatalf("wrote %v; want an archive per platform and the manifest", first)
	}
	for name, sum := range first {
		if second[name] != sum {
			t.Errorf("%s: sha256 %s, then %s", name, sum, second[name])
		}
	}
}

func TestEachArchiveHoldsItsPlatformsBinary(t *testing.T) {
	out := release(t)
	for _, p := range platforms {
		path := filepath.Join(out, archiveName("v1.2.3", p))
		entries := untar(t, path)
		var names []string
		for _, e := range entries {
			names = append(names, e.hdr.Name)
			if e.hdr.Uid != 0 || e.hdr.Gid != 0 || e.hdr.Uname != "" || e.hdr.Gname != "" || !e.hdr.ModTime.Equal(epoch) {
				t.Errorf("%s: %s: owner %d:%d (%q:%q), time %v", path, e.hdr.Name, e.hdr.Uid, e.hdr.Gid, e.hdr.Uname, e.hdr.Gname, e.hdr.ModTime)
			}
		}
		want := []string{"LICENSE", p.completionScript(), p.binary()}
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Fatalf("%s holds %v, want %v in that order", path, names, want)
		}
		for _, e := range entries {
			switch e.hdr.Name {
			case p.binary():
				if goos, arch := machine(t, e.data); goos != p.os || arch != p.arch {
					t.Errorf("%s: the binary is for %s/%s", path, goos, arch)
				}
				if !bytes.Contains(e.data, []byte("v1.2.3")) {
					t.Errorf("%s: the binary is not stamped with the version", path)
				}
				if e.hdr.Mode != 0o755 {
					t.Errorf("%s: binary mode %o", path, e.hdr.Mode)
				}
			case "kubectl_complete-nodewave":
				if !bytes.Contains(e.data, []byte(`exec kubectl-nodewave __complete "$@"`)) || e.hdr.Mode != 0o755 {
					t.Errorf("%s: completion script mode %o:\n%s", path, e.hdr.Mode, e.data)
				}
			case "kubectl_complete-nodewave.cmd":
				if !bytes.Contains(e.data, []byte("kubectl-nodewave.exe __complete %*")) {
					t.Errorf("%s: completion script:\n%s", path, e.data)
				}
			}
		}
	}
}

func TestTheKrewManifestNamesEachArchiveAndItsSum(t *testing.T) {
	out := release(t)
	data, err := os.ReadFile(filepath.Join(out, krewManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var p index.Plugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("not a krew Plugin: %v\n%s", err, data)
	}
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" || p.Name != "nodewave" ||
		p.Spec.Version != "v1.2.3" || p.Spec.Homepage != "https://github.com/nodewave/nodewave" {
		t.Errorf("manifest header: %s %s %s %s %s", p.APIVersion, p.Kind, p.Name, p.Spec.Version, p.Spec.Homepage)
	}
	archives := sums(t, out)
	if len(p.Spec.Platforms) != len(platforms) {
		t.Fatalf("%d platforms, want %d", len(p.Spec.Platforms), len(platforms))
	}
	for i, pl := range p.Spec.Platforms {
		want := platforms[i]
		name := archiveName("v1.2.3", want)
		if pl.URI != "https://github.com/nodewave/nodewave/releases/download/v1.2.3/"+name {
			t.Errorf("platform %d: uri %s", i, pl.URI)
		}
		if pl.Sha256 != archives[name] {
			t.Errorf("platform %d: sha256 %s, the archive's is %s", i, pl.Sha256, archives[name])
		}
		if got := pl.Selector.MatchLabels; len(got) != 2 || got["os"] != want.os || got["arch"] != want.arch {
			t.Errorf("platform %d: selector %v", i, pl.Selector)
		}
		if pl.Bin != want.binary() {
			t.Errorf("platform %d: bin %s", i, pl.Bin)
		}
		if len(pl.Files) != 3 {
			t.Errorf("platform %d: files %v", i, pl.Files)
		}
	}

	// krew's own validator (cmd/validate-krew-manifest of the krew module
	// this module requires): the structure, every platform one krew
	// supports, no two overlapping. -skip-install: the URLs exist only once
	// the release is published. It wants the manifest named as in
	// krew-index, plugins/<name>.yaml.
	named := filepath.Join(t.TempDir(), "nodewave.yaml")
	if err := os.WriteFile(named, data, 0o644); err != nil {
		t.Fatal(err)
	}
	validate := exec.Command("go", "tool", "validate-krew-manifest", "-manifest", named, "-skip-install")
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
	}
}

func TestTheKrewValidatorRefusesABadManifest(t *testing.T) {
	bad := `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata: {name: nodewave}
spec:
  version: v1.2.3
  shortDescription: x
  platforms:
  - uri: https://example.com/a.tar.gz
    sha256: nothex
    bin: kubectl-nodewave
    selector: {matchLabels: {os: linux, arch: amd64}}
`
	path := filepath.Join(t.TempDir(), "nodewave.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "tool", "validate-krew-manifest", "-manifest", path, "-skip-install").CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("sha256")) {
		t.Fatalf("validate-krew-manifest accepted a bad sha256: %v\n%s", err, out)
	}
}
