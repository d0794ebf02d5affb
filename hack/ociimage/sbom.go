package main

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// caBundleModule is the module withCACertificates takes the roots from.
const caBundleModule = "golang.org/x/crypto/x509roots/fallback"

// writeSBOM writes an SPDX 2.3 JSON document describing the image index:
// each platform's image, the Go binaries in it with the Go release and
// every module they were built from (read from the binaries' own build
// information, so it lists what was linked, not what go.mod allows), and
// the CA bundle's module. Its time is $SOURCE_DATE_EPOCH (else the Unix
// epoch), so the same inputs make the same file.
func writeSBOM(im image, ref name.Tag, idx v1.ImageIndex) error {
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	created := time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		created = time.Unix(sec, 0).UTC()
	}
	b := sbom{seen: map[string]bool{}}
	repo := ref.Context().Name()
	indexID := b.add(&spdx.Package{
		PackageName:           repo,
		PackageVersion:        ref.TagStr(),
		PrimaryPackagePurpose: "CONTAINER",
		PackageChecksums:      []spdx.Checksum{{Algorithm: spdx.SHA256, Value: digest.Hex}},
	}, ociPURL(ref, digest, ""))
	b.doc.Relationships = append(b.doc.Relationships, relationship("DOCUMENT", indexID, spdx.RelationshipDescribes))

	manifests, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, m := range manifests.Manifests {
		p := m.Platform
		imageID := b.add(&spdx.Package{
			PackageName:           repo + " (" + p.String() + ")",
			PackageVersion:        ref.TagStr(),
			PrimaryPackagePurpose: "CONTAINER",
			PackageChecksums:      []spdx.Checksum{{Algorithm: spdx.SHA256, Value: m.Digest.Hex}},
		}, ociPURL(ref, m.Digest, p.Architecture))
		b.relate(indexID, imageID, spdx.RelationshipContains)
		for _, e := range im.entries {
			if e.data != nil {
				b.relate(imageID, b.caBundle(), spdx.RelationshipContains)
				continue
			}
			if e.src == "" {
				continue
			}
			info, err := buildinfo.ReadFile(strings.ReplaceAll(e.src, "{arch}", p.Architecture))
			if err != nil {
				continue // not a Go binary
			}
			b.relate(imageID, b.goBinary(e.dest, info, im.labels), spdx.RelationshipContains)
		}
	}

	b.doc.SPDXVersion, b.doc.DataLicense, b.doc.SPDXIdentifier = spdx.Version, spdx.DataLicense, "DOCUMENT"
	b.doc.DocumentName = ref.Name()
	b.doc.DocumentNamespace = "https://github.com/nodewave/nodewave/sbom/" + digest.String()
	b.doc.CreationInfo = &spdx.CreationInfo{
		Creators: []common.Creator{{CreatorType: "Tool", Creator: "nodewave-ociimage"}},
		Created:  created.Format(time.RFC3339),
	}
	f, err := os.Create(im.sbom + ".tmp")
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if err := spdxjson.Write(&b.doc, f, spdxjson.Indent("  ")); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(im.sbom+".tmp", im.sbom)
}

// sbom is a document being built; seen holds the packages' SPDX IDs, so a
// module both images link is listed once.
type sbom struct {
	doc  spdx.Document
	seen map[string]bool
}

var notID = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// add adds the package (once: by its purl), filling in what SPDX requires,
// and returns its ID.
func (b *sbom) add(p *spdx.Package, purl string) common.ElementID {
	id := common.ElementID("Package-" + strings.Trim(notID.ReplaceAllString(purl, "-"), "-"))
	if b.seen[string(id)] {
		return id
	}
	b.seen[string(id)] = true
	p.PackageSPDXIdentifier = id
	// What a binary's build information cannot tell: SPDX's NOASSERTION.
	const unknown = "NOASSERTION"
	p.PackageDownloadLocation = unknown
	p.PackageLicenseConcluded, p.PackageLicenseDeclared, p.PackageCopyrightText = unknown, unknown, unknown
	p.FilesAnalyzed, p.IsFilesAnalyzedTagPresent = false, true
	p.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: purl}}
	b.doc.Packages = append(b.doc.Packages, p)
	return id
}

func (b *sbom) relate(a, c common.ElementID, kind string) {
	b.doc.Relationships = append(b.doc.Relationships, relationship(a, c, kind))
}

func relationship(a, b common.ElementID, kind string) *spdx.Relationship {
	return &spdx.Relationship{RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: kind}
}

// goBinary adds a Go binary of the image: its main module (at the image's
// org.opencontainers.image.version label when there is one, since a
// release build's module version is "(devel)"), the Go standard library
// and every module linked in.
func (b *sbom) goBinary(dest string, info *buildinfo.BuildInfo, labels []string) common.ElementID {
	version := info.Main.Version
	for _, kv := range labels {
		if v, ok := strings.CutPrefix(kv, "org.opencontainers.image.version="); ok {
			version = v
		}
	}
	bin := b.add(&spdx.Package{
		PackageName: info.Main.Path, PackageVersion: version, PrimaryPackagePurpose: "APPLICATION",
		PackageComment: "the file " + dest + " of the image",
	}, "pkg:golang/"+info.Main.Path+"@"+version)
	goVersion := strings.TrimPrefix(info.GoVersion, "go")
	b.relate(bin, b.add(&spdx.Package{PackageName: "stdlib", PackageVersion: goVersion, PrimaryPackagePurpose: "LIBRARY"},
		"pkg:golang/stdlib@"+goVersion), spdx.RelationshipDependsOn)
	for _, m := range info.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		b.relate(bin, b.module(m), spdx.RelationshipDependsOn)
	}
	return bin
}

func (b *sbom) module(m *debug.Module) common.ElementID {
	return b.add(&spdx.Package{PackageName: m.Path, PackageVersion: m.Version, PrimaryPackagePurpose: "LIBRARY"},
		"pkg:golang/"+m.Path+"@"+m.Version)
}

// caBundle adds the module the image's CA certificates come from, at the
// version this program was built with.
func (b *sbom) caBundle() common.ElementID {
	info, _ := debug.ReadBuildInfo()
	for _, m := range info.Deps {
		if m.Path == caBundleModule {
			return b.module(m)
		}
	}
	return b.module(&debug.Module{Path: caBundleModule, Version: "unknown"})
}

// ociPURL is the image's package URL (purl-spec's oci type).
func ociPURL(ref name.Tag, digest v1.Hash, arch string) string {
	repo := ref.Context()
	last := repo.RepositoryStr()
	if i := strings.LastIndex(last, "/"); i >= 0 {
		last = last[i+1:]
	}
	purl := "pkg:oci/" + last + "@" + strings.ReplaceAll(digest.String(), ":", "%3A") +
		"?repository_url=" + repo.Name() + "&tag=" + ref.TagStr()
	if arch != "" {
		purl += "&arch=" + arch
	}
	return purl
}
