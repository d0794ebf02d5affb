package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/x509"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// descriptor, index, manifest and imageConfig are the parts of the OCI
// image spec the tests read.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type index struct {
	MediaType string       `json:"mediaType"`
	Manifests []descriptor `json:"manifests"`
}

type manifest struct {
	Config descriptor   `json:"config"`
	Layers []descriptor `json:"layers"`
}

type imageConfig struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
}

// file is one regular file, directory or symlink of a layer.
type file struct {
	mode int64
	data []byte
}

// blob reads a blob of the layout at dir and checks its digest and size.
func blob(t *testing.T, dir string, d descriptor) []byte {
	t.Helper()
	algo, hexDigest, _ := strings.Cut(d.Digest, ":")
	if algo != "sha256" {
		t.Fatalf("digest %q: want sha256", d.Digest)
	}
	data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", hexDigest))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != hexDigest || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: content does not match its digest or size %d", d.Digest, d.Size)
	}
	return data
}

func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// layerFiles reads a gzipped layer tar.
func layerFiles(t *testing.T, data []byte) map[string]file {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return readTar(t, zr)
}

// readTar reads a tar's entries by absolute path, and checks that each is
// written reproducibly: owned by root, dated the Unix epoch.
func readTar(t *testing.T, r io.Reader) map[string]file {
	t.Helper()
	files := map[string]file{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 0 {
			t.Errorf("%s: owner %d:%d, time %v; want root and the Unix epoch (reproducible)", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		files["/"+strings.TrimSuffix(h.Name, "/")] = file{mode: h.Mode, data: content}
	}
}

// elfMachine is the architecture a Go platform's binaries are built for.
var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// TestImage builds the manager's image as a release does and checks what a
// cluster gets: an index of linux/amd64 and linux/arm64 images named for
// containerd, each a static manager for its architecture that runs as
// nonroot (65532) with the base a distroless image gives (users, CA
// certificates, /tmp), built reproducibly, with an SBOM of what was linked.
func TestImage(t *testing.T) {
	dist := t.TempDir()
	makeTarget(t, "image", "DIST="+dist, "IMG="+image, "VERSION="+version)
	layoutDir := filepath.Join(dist, "image")

	if got, err := os.ReadFile(filepath.Join(layoutDir, "oci-layout")); err != nil || !strings.Contains(string(got), `"imageLayoutVersion"`) {
		t.Fatalf("oci-layout: %q, %v", got, err)
	}
	top := decode[index](t, must(os.ReadFile(filepath.Join(layoutDir, "index.json"))))
	if len(top.Manifests) != 1 {
		t.Fatalf("index.json lists %d entries, want the image index alone", len(top.Manifests))
	}
	if got := top.Manifests[0].Annotations["io.containerd.image.name"]; got != image {
		t.Errorf("index.json names the image %q for containerd, want %q", got, image)
	}
	idx := decode[index](t, blob(t, layoutDir, top.Manifests[0]))
	if idx.MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Errorf("image index media type %q", idx.MediaType)
	}
	arches := map[string]bool{}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" {
			t.Fatalf("manifest %s: platform %+v, want linux/...", d.Digest, d.Platform)
		}
		arch := d.Platform.Architecture
		arches[arch] = true
		t.Run(arch, func(t *testing.T) { checkPlatformImage(t, layoutDir, d, arch) })
	}
	if !arches["amd64"] || !arches["arm64"] || len(arches) != 2 {
		t.Errorf("platforms %v, want amd64 and arm64", arches)
	}

	// The archive holds the same layout, for ctr images import and docker load.
	archive := must(os.Open(filepath.Join(dist, "nodewave-image.tar")))
	defer func() { _ = archive.Close() }()
	if !bytes.Equal(readTar(t, archive)["/index.json"].data, must(os.ReadFile(filepath.Join(layoutDir, "index.json")))) {
		t.Error("nodewave-image.tar's index.json differs from the layout's")
	}

	checkSBOM(t, filepath.Join(dist, "nodewave-image.spdx.json"), top.Manifests[0].Digest)

	// Reproducible: the same commit builds the same image and SBOM.
	again := t.TempDir()
	makeTarget(t, "image", "DIST="+again, "IMG="+image, "VERSION="+version)
	for _, f := range []string{"image/index.json", "nodewave-image.tar", "nodewave-image.spdx.json"} {
		if !bytes.Equal(must(os.ReadFile(filepath.Join(dist, f))), must(os.ReadFile(filepath.Join(again, f)))) {
			t.Errorf("%s differs between two builds of the same commit", f)
		}
	}
}

func checkPlatformImage(t *testing.T, layoutDir string, d descriptor, arch string) {
	m := decode[manifest](t, blob(t, layoutDir, d))
	cfg := decode[imageConfig](t, blob(t, layoutDir, m.Config))
	if cfg.OS != "linux" || cfg.Architecture != arch {
		t.Errorf("config platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, arch)
	}
	if cfg.Config.User != "65532:65532" || strings.Join(cfg.Config.Entrypoint, " ") != "/manager" {
		t.Errorf("user %q, entrypoint %q; want 65532:65532 and /manager", cfg.Config.User, cfg.Config.Entrypoint)
	}
	if got := cfg.Config.Labels["org.opencontainers.image.version"]; got != version {
		t.Errorf("label org.opencontainers.image.version = %q, want %q", got, version)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("%d layers, want 1", len(m.Layers))
	}
	files := layerFiles(t, blob(t, layoutDir, m.Layers[0]))

	manager, ok := files["/manager"]
	if !ok {
		t.Fatal("no /manager in the image")
	}
	bin, err := elf.NewFile(bytes.NewReader(manager.data))
	if err != nil {
		t.Fatalf("/manager: %v", err)
	}
	if bin.Machine != elfMachine[arch] {
		t.Errorf("/manager is built for %v, want %v", bin.Machine, elfMachine[arch])
	}
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/manager asks for a dynamic loader: it must be static (the image has no libc)")
		}
	}
	if manager.mode&0o111 == 0 {
		t.Errorf("/manager mode %o: not executable", manager.mode)
	}
	if !strings.Contains(string(files["/etc/passwd"].data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", files["/etc/passwd"].data)
	}
	if files["/tmp"].mode != 0o1777 {
		t.Errorf("/tmp mode %o, want 1777", files["/tmp"].mode)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(files["/etc/ssl/certs/ca-certificates.crt"].data) ||
		bytes.Count(files["/etc/ssl/certs/ca-certificates.crt"].data, []byte("BEGIN CERTIFICATE")) < 100 {
		t.Error("/etc/ssl/certs/ca-certificates.crt holds no root store")
	}
	if arch == runtime.GOARCH {
		// Run the image's own binary: it says the version it was stamped with.
		path := filepath.Join(t.TempDir(), "manager")
		if err := os.WriteFile(path, manager.data, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(path, "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "nodewave-manager "+version+" ") {
			t.Errorf("/manager --version: %q, %v; want nodewave-manager %s ...", out, err, version)
		}
	}
}

// checkSBOM reads the SPDX document: it describes the image index by its
// digest, and lists the modules the manager was linked with.
func checkSBOM(t *testing.T, path, indexDigest string) {
	t.Helper()
	type spdxDoc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			SPDXID    string `json:"SPDXID"`
			Name      string `json:"name"`
			Version   string `json:"versionInfo"`
			Checksums []struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"checksumValue"`
			} `json:"checksums"`
			ExternalRefs []struct {
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
		Relationships []struct {
			A    string `json:"spdxElementId"`
			Kind string `json:"relationshipType"`
			B    string `json:"relatedSpdxElement"`
		} `json:"relationships"`
	}
	doc := decode[spdxDoc](t, must(os.ReadFile(path)))
	if doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("spdxVersion %q", doc.SPDXVersion)
	}
	purls := map[string]string{}
	var described string
	for _, r := range doc.Relationships {
		if r.A == "SPDXRef-DOCUMENT" && r.Kind == "DESCRIBES" {
			described = r.B
		}
	}
	for _, p := range doc.Packages {
		for _, r := range p.ExternalRefs {
			purls[r.Locator] = "SPDXRef-" + p.SPDXID
		}
		if "SPDXRef-"+p.SPDXID == described || p.SPDXID == described {
			if len(p.Checksums) != 1 || "sha256:"+p.Checksums[0].Value != indexDigest {
				t.Errorf("the SBOM describes %s with checksums %+v, want the index %s", p.Name, p.Checksums, indexDigest)
			}
		}
	}
	if described == "" {
		t.Error("the SBOM describes nothing")
	}
	for _, want := range []string{
		"pkg:golang/github.com/nodewave/nodewave@" + version,
		"pkg:golang/sigs.k8s.io/controller-runtime@v0.25.2",
		"pkg:golang/k8s.io/client-go@v0.37.2",
		"pkg:golang/stdlib@" + strings.TrimPrefix(runtime.Version(), "go"),
	} {
		if _, ok := purls[want]; !ok {
			t.Errorf("the SBOM lists no %s", want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
