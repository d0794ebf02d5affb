package nodeupgrade

import (
	"fmt"
	"regexp"
	"strings"

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
// registry.example.com/* does not allow registry.example.com:5000/x. No other
// wildcard exists; an entry that is not a valid reference is refused by
// ParseImagePolicy, and an image that is not one is never allowed.
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

// RefusedImage is a container image of a pod template that an ImagePolicy
// does not allow.
type RefusedImage struct {
	// Field is the container's path in the pod template, such as
	// spec.initContainers[0].
	Field string
	// Container is the container's name.
	Container string
	// Image is the image as written.
	Image string
}

// Refused returns the containers of template whose image p does not allow:
// init containers, then containers, then ephemeral containers, in order.
func (p ImagePolicy) Refused(template *corev1.PodTemplateSpec) []RefusedImage {
	if p.AllowsAll() || template == nil {
		return nil
	}
	var out []RefusedImage
	check := func(field, name, image string) {
		if !p.Allows(image) {
			out = append(out, RefusedImage{Field: field, Container: name, Image: image})
		}
	}
	spec := &template.Spec
	for i, c := range spec.InitContainers {
		check(fmt.Sprintf("spec.initContainers[%d]", i), c.Name, c.Image)
	}
	for i, c := range spec.Containers {
		check(fmt.Sprintf("spec.containers[%d]", i), c.Name, c.Image)
	}
	for i, c := range spec.EphemeralContainers {
		check(fmt.Sprintf("spec.ephemeralContainers[%d]", i), c.Name, c.Image)
	}
	return out
}

// hostLabel is one dot-separated part of a registry's host name.
const hostLabel = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`

// The grammar of image references, after github.com/distribution/reference.
var (
	domainRE    = regexp.MustCompile(`^(?:` + hostLabel + `(?:\.` + hostLabel + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	componentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagRE       = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	digestRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$`)
)

const (
	dockerHub       = "docker.io"
	dockerHubLegacy = "index.docker.io"
	// maxNameLen bounds a repository name as written, as the registries do.
	maxNameLen = 255
)

// parseImageRef parses an image reference [registry/]path[:tag][@digest]
// and normalises its repository name.
func parseImageRef(s string) (imageRef, error) {
	if s == "" {
		return imageRef{}, fmt.Errorf("empty image reference")
	}
	name, digest, hasDigest := strings.Cut(s, "@")
	if hasDigest && !digestRE.MatchString(digest) {
		return imageRef{}, fmt.Errorf("invalid digest %q", digest)
	}
	var tag string
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
		if !tagRE.MatchString(tag) {
			return imageRef{}, fmt.Errorf("invalid tag %q", tag)
		}
	}
	domain, path, err := splitName(name)
	if err != nil {
		return imageRef{}, err
	}
	if domain == dockerHub && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	return imageRef{repo: domain + "/" + path, tag: tag, digest: digest}, nil
}

// normalisePrefix normalises the part of a "/*" entry before the "/*": a
// registry alone (registry.example.com, localhost:5000) or a repository
// path with or without its registry. It returns it ending in "/".
func normalisePrefix(prefix string) (string, error) {
	if !strings.Contains(prefix, "/") && isDomain(prefix) {
		if !domainRE.MatchString(prefix) {
			return "", fmt.Errorf("invalid registry %q", prefix)
		}
		return normaliseDomain(prefix) + "/", nil
	}
	domain, path, err := splitName(prefix)
	if err != nil {
		return "", err
	}
	return domain + "/" + path + "/", nil
}

// splitName splits a repository name into its normalised registry and its
// path, and checks both. A first component is a registry when it has a dot
// or a port, is localhost, or has capitals; otherwise the name is on
// Docker Hub.
func splitName(name string) (domain, path string, err error) {
	if name == "" {
		return "", "", fmt.Errorf("empty repository name")
	}
	if len(name) > maxNameLen {
		return "", "", fmt.Errorf("repository name longer than %d characters", maxNameLen)
	}
	domain, path = dockerHub, name
	if first, rest, ok := strings.Cut(name, "/"); ok && isDomain(first) {
		if !domainRE.MatchString(first) {
			return "", "", fmt.Errorf("invalid registry %q", first)
		}
		domain, path = normaliseDomain(first), rest
	}
	for c := range strings.SplitSeq(path, "/") {
		if !componentRE.MatchString(c) {
			return "", "", fmt.Errorf("invalid repository path component %q (lowercase letters, digits and . _ - separators)", c)
		}
	}
	return domain, path, nil
}

// isDomain reports whether the first component of a name is a registry.
func isDomain(first string) bool {
	return strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first
}

// normaliseDomain lowercases a registry and reads index.docker.io as docker.io.
func normaliseDomain(d string) string {
	d = strings.ToLower(d)
	if d == dockerHubLegacy {
		return dockerHub
	}
	return d
}
