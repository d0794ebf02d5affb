package nodeupgrade

import (
	// The digest algorithms an image reference may name: go-digest checks
	// a digest only against the hash functions linked into the binary.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
	"strings"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
)

// ImagePolicy is an allow-list of upgrade images: the manager's
// --allowed-upgrade-images flag. The zero value allows every image.
//
// An entry is one of three kinds; an image is allowed when any entry allows
// it:
//
//   - a repository, without tag or digest
//     (registry.example.com/team/upgrader): that repository, with any tag or
//     digest, or none;
//   - a reference with a tag or a digest (registry.example.com/team/upgrader:v1,
//     ...@sha256:<hex>): exactly that image. An entry with a digest allows
//     the images of that repository with that digest, whatever their tag
//     (a container runtime pulls by the digest and ignores the tag); an
//     entry with a tag and no digest allows the images with that tag and no
//     digest;
//   - a prefix ending in "/*" (registry.example.com/team/*, or a whole
//     registry: registry.example.com/*): every repository under it, at any
//     depth, with any tag or digest. The repository named by the prefix
//     itself (registry.example.com/team) is not under it.
//
// Entries and images are compared as a container runtime reads them, not
// as strings: a name without a registry is on Docker Hub (busybox is
// docker.io/library/busybox, myorg/tool is docker.io/myorg/tool, and a
// prefix myorg/* is docker.io/myorg/*), index.docker.io is docker.io,
// registry host names are case-insensitive, and an image without tag or
// digest has the tag latest. A registry's port is part of its name:
// registry.example.com/* does not allow registry.example.com:5000/x.
// References are parsed with github.com/distribution/reference, the parser
// of containerd and Docker: a digest is sha256, sha384 or sha512 in
// lowercase hex of its length, and 64 hex characters alone are an image ID,
// not a reference. No other wildcard exists; an entry that is not a valid
// reference is refused by ParseImagePolicy, and an image that is not one is
// never allowed.
type ImagePolicy struct {
	entries []imageEntry
}

// imageEntry is one parsed entry of an ImagePolicy.
type imageEntry struct {
	// raw is the entry as given.
	raw string
	// prefix, for a "/*" entry, is what the repository must start with
	// (normalised, ending in "/"); empty for the other kinds.
	prefix string
	// ref is the entry's reference for the other kinds; its tag and digest,
	// when set, must match.
	ref imageRef
}

// imageRef is a parsed image reference: a normalised repository name, and
// the tag and digest as written (tag "" only when a digest is set).
type imageRef struct {
	repo, tag, digest string
}

// ParseImagePolicy parses a comma-separated allow-list; spaces around
// entries and empty entries are ignored, and an empty list allows every
// image. It refuses an entry that is neither a valid image reference nor a
// valid prefix followed by "/*".
func ParseImagePolicy(list string) (ImagePolicy, error) {
	var p ImagePolicy
	for raw := range strings.SplitSeq(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		e, err := parseEntry(raw)
		if err != nil {
			return ImagePolicy{}, fmt.Errorf("allowed image %q: %w", raw, err)
		}
		p.entries = append(p.entries, e)
	}
	return p, nil
}

func parseEntry(raw string) (imageEntry, error) {
	if prefix, ok := strings.CutSuffix(raw, "/*"); ok {
		if strings.Contains(prefix, "*") || prefix == "" {
			return imageEntry{}, fmt.Errorf("only a trailing /* after a registry or repository path is a wildcard")
		}
		norm, err := normalisePrefix(prefix)
		if err != nil {
			return imageEntry{}, err
		}
		return imageEntry{raw: raw, prefix: norm}, nil
	}
	if strings.Contains(raw, "*") {
		return imageEntry{}, fmt.Errorf("only a trailing /* after a registry or repository path is a wildcard " +
			"(an empty list allows every image)")
	}
	ref, err := parseImageRef(raw)
	if err != nil {
		return imageEntry{}, err
	}
	return imageEntry{raw: raw, ref: ref}, nil
}

// AllowsAll reports whether p is empty, allowing every image.
func (p ImagePolicy) AllowsAll() bool { return len(p.entries) == 0 }

// String is the list as given, entries separated by commas.
func (p ImagePolicy) String() string {
	raws := make([]string, len(p.entries))
	for i, e := range p.entries {
		raws[i] = e.raw
	}
	return strings.Join(raws, ",")
}

// Allows reports whether the policy allows image.
func (p ImagePolicy) Allows(image string) bool {
	if p.AllowsAll() {
		return true
	}
	ref, err := parseImageRef(image)
	if err != nil {
		return false
	}
	if ref.tag == "" && ref.digest == "" {
		ref.tag = "latest"
	}
	for _, e := range p.entries {
		if e.allows(ref) {
			return true
		}
	}
	return false
}

func (e imageEntry) allows(ref imageRef) bool {
	switch {
	case e.prefix != "":
		return strings.HasPrefix(ref.repo, e.prefix)
	case e.ref.repo != ref.repo:
		return false
	case e.ref.digest != "":
		return ref.digest == e.ref.digest
	case e.ref.tag != "":
		return ref.digest == "" && ref.tag == e.ref.tag
	default:
		return true
	}
}

// RefusedImage is an image of a pod template that an ImagePolicy does not
// allow: a container's, or an image volume's.
type RefusedImage struct {
	// Field is the path in the pod template of the container, such as
	// spec.initContainers[0], or of the image volume's reference, such as
	// spec.volumes[2].image.reference.
	Field string
	// Container is the container's name; empty for an image volume.
	Container string
	// Volume is the image volume's name; empty for a container.
	Volume string
	// Image is the image as written.
	Image string
}

// Refused returns the images of template that p does not allow: those of
// the init containers, then the containers, then the ephemeral containers,
// then the image volumes (volumes[].image.reference), each in order.
func (p ImagePolicy) Refused(template *corev1.PodTemplateSpec) []RefusedImage {
	if p.AllowsAll() || template == nil {
		return nil
	}
	var out []RefusedImage
	check := func(r RefusedImage) {
		if !p.Allows(r.Image) {
			out = append(out, r)
		}
	}
	spec := &template.Spec
	for i, c := range spec.InitContainers {
		check(RefusedImage{Field: fmt.Sprintf("spec.initContainers[%d]", i), Container: c.Name, Image: c.Image})
	}
	for i, c := range spec.Containers {
		check(RefusedImage{Field: fmt.Sprintf("spec.containers[%d]", i), Container: c.Name, Image: c.Image})
	}
	for i, c := range spec.EphemeralContainers {
		check(RefusedImage{Field: fmt.Sprintf("spec.ephemeralContainers[%d]", i), Container: c.Name, Image: c.Image})
	}
	for i, v := range spec.Volumes {
		if v.Image != nil {
			check(RefusedImage{Field: fmt.Sprintf("spec.volumes[%d].image.reference", i), Volume: v.Name, Image: v.Image.Reference})
		}
	}
	return out
}

const (
	dockerHub       = "docker.io"
	dockerHubLegacy = "index.docker.io"
)

// parseImageRef parses an image reference [registry/]path[:tag][@digest]
// with github.com/distribution/reference, as container runtimes do, and
// normalises its repository name (see normaliseNamed).
func parseImageRef(s string) (imageRef, error) {
	if s == "" {
		return imageRef{}, fmt.Errorf("empty image reference")
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return imageRef{}, err
	}
	ref := imageRef{repo: normaliseNamed(named)}
	if t, ok := named.(reference.Tagged); ok {
		ref.tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		ref.digest = d.Digest().String()
	}
	return ref, nil
}

// prefixProbe is appended to the part of a "/*" entry before the "/*" to
// parse it as a repository name: two components, so that a registry
// alone (registry.example.com) stays a registry and a Docker Hub name
// (myorg, or index.docker.io) gets no library/ added.
const prefixProbe = "/x/y"

// normalisePrefix normalises the part of a "/*" entry before the "/*": a
// registry alone (registry.example.com, localhost:5000) or a repository
// path with or without its registry. It returns it ending in "/".
func normalisePrefix(prefix string) (string, error) {
	named, err := reference.ParseNormalizedNamed(prefix + prefixProbe)
	if err != nil {
		return "", err
	}
	if !reference.IsNameOnly(named) {
		return "", fmt.Errorf("a prefix has no tag or digest")
	}
	repo, ok := strings.CutSuffix(normaliseNamed(named), prefixProbe)
	if !ok {
		return "", fmt.Errorf("invalid prefix %q", prefix)
	}
	return repo + "/", nil
}

// normaliseNamed returns a parsed name's registry and path as a container
// runtime reads them. distribution/reference has already put a name
// without a registry on Docker Hub, read index.docker.io as docker.io and
// added library/ to a Docker Hub name of one component; on top of that,
// registry host names are case-insensitive (a registry written with
// capitals is lowercased, and Index.Docker.IO is Docker Hub too).
func normaliseNamed(named reference.Named) string {
	domain, path := strings.ToLower(reference.Domain(named)), reference.Path(named)
	if domain == dockerHubLegacy {
		domain = dockerHub
	}
	if domain == dockerHub && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	return domain + "/" + path
}
