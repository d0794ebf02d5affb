package nodeupgrade

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestImagePolicyAllows(t *testing.T) {
	const other = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	tests := []struct {
		name, list, image string
		want              bool
	}{
		{"empty list allows all", "", "anything.example/whatever:v1", true},
		{"empty entries only allow all", " , ,", "busybox", true},

		// A repository: any tag or digest.
		{"repo: bare", "registry.example.com/team/upgrader", "registry.example.com/team/upgrader", true},
		{"repo: tag", "registry.example.com/team/upgrader", "registry.example.com/team/upgrader:v1.37.2", true},
		{"repo: digest", "registry.example.com/team/upgrader", "registry.example.com/team/upgrader@" + testDigest, true},
		{"repo: tag and digest", "registry.example.com/team/upgrader", "registry.example.com/team/upgrader:v1@" + testDigest, true},
		{"repo: other repo", "registry.example.com/team/upgrader", "registry.example.com/team/upgrader2:v1", false},
		{"repo: sub-repo", "registry.example.com/team/upgrader", "registry.example.com/team/upgrader/x:v1", false},
		{"repo: parent", "registry.example.com/team/upgrader", "registry.example.com/team:v1", false},
		{"repo: other registry", "registry.example.com/team/upgrader", "evil.example.com/team/upgrader:v1", false},
		{"repo: registry as path", "registry.example.com/team/upgrader", "docker.io/registry.example.com/team/upgrader", false},
		{"repo: other port", "registry.example.com/team/upgrader", "registry.example.com:5000/team/upgrader", false},
		{"repo: host case-insensitive", "Registry.Example.com/team/upgrader", "registry.example.COM/team/upgrader:v1", true},
		{"repo: path case-sensitive (invalid)", "registry.example.com/team/upgrader", "registry.example.com/Team/upgrader", false},

		// An exact reference.
		{"tag: same", "registry.example.com/upgrader:v1", "registry.example.com/upgrader:v1", true},
		{"tag: other tag", "registry.example.com/upgrader:v1", "registry.example.com/upgrader:v2", false},
		{"tag: tag prefix", "registry.example.com/upgrader:v1", "registry.example.com/upgrader:v1.1", false},
		{"tag: no tag is latest", "registry.example.com/upgrader:v1", "registry.example.com/upgrader", false},
		{"tag: latest", "registry.example.com/upgrader:latest", "registry.example.com/upgrader", true},
		{"tag: with a digest runs the digest", "registry.example.com/upgrader:v1", "registry.example.com/upgrader:v1@" + testDigest, false},
		{"digest: same", "registry.example.com/upgrader@" + testDigest, "registry.example.com/upgrader@" + testDigest, true},
		{"digest: any tag", "registry.example.com/upgrader@" + testDigest, "registry.example.com/upgrader:v9@" + testDigest, true},
		{"digest: other", "registry.example.com/upgrader@" + testDigest, "registry.example.com/upgrader@" + other, false},
		{"digest: tag only", "registry.example.com/upgrader@" + testDigest, "registry.example.com/upgrader:v1", false},
		{"digest: other repo", "registry.example.com/upgrader@" + testDigest, "registry.example.com/other@" + testDigest, false},
		{"tag and digest: digest decides", "registry.example.com/upgrader:v1@" + testDigest, "registry.example.com/upgrader@" + testDigest, true},

		// A prefix.
		{"prefix: direct child", "registry.example.com/team/*", "registry.example.com/team/upgrader:v1", true},
		{"prefix: deeper", "registry.example.com/team/*", "registry.example.com/team/tools/upgrader@" + testDigest, true},
		{"prefix: the prefix itself", "registry.example.com/team/*", "registry.example.com/team:v1", false},
		{"prefix: sibling with same start", "registry.example.com/team/*", "registry.example.com/team2/upgrader", false},
		{"prefix: registry", "registry.example.com/*", "registry.example.com/upgrader", true},
		{"prefix: registry look-alike", "registry.example.com/*", "registry.example.com.evil.io/upgrader", false},
		{"prefix: registry with port", "localhost:5000/*", "localhost:5000/upgrader:v1", true},
		{"prefix: registry without its port", "localhost:5000/*", "localhost/upgrader:v1", false},
		{"prefix: Docker Hub org", "myorg/*", "docker.io/myorg/tool:v1", true},
		{"prefix: Docker Hub org, short image", "myorg/*", "myorg/tool", true},
		{"prefix: Docker Hub org is not library", "myorg/*", "tool", false},
		{"prefix: Docker Hub library", "docker.io/library/*", "busybox:1.36", true},
		{"prefix: all of Docker Hub", "index.docker.io/*", "busybox", true},

		// Docker Hub normalisation.
		{"hub: short entry, full image", "busybox", "docker.io/library/busybox:1.36", true},
		{"hub: full entry, short image", "docker.io/library/busybox", "busybox", true},
		{"hub: legacy host", "busybox:1.36", "index.docker.io/library/busybox:1.36", true},
		{"hub: org", "myorg/tool", "docker.io/myorg/tool:v1", true},
		{"hub: library is not an org", "busybox", "myorg/busybox", false},
		{"hub: legacy host in capitals", "busybox", "Index.Docker.IO/busybox", true},
		{"hub: explicit library", "docker.io/library/busybox:1.36", "busybox:1.36", true},

		// Other digests a runtime pulls by.
		{"digest: sha512", "registry.example.com/upgrader@sha512:" + strings.Repeat("ab", 64), "registry.example.com/upgrader:v1@sha512:" + strings.Repeat("ab", 64), true},
		{"digest: other algorithm, same hex", "registry.example.com/upgrader@sha512:" + strings.Repeat("ab", 64), "registry.example.com/upgrader@sha384:" + strings.Repeat("ab", 48), false},
		{"ipv6 registry", "[fd00::1]:5000/*", "[fd00::1]:5000/upgrader:v1", true},

		// Several entries: any one allows.
		{"list: second entry", "registry.example.com/a, example.com/*", "example.com/upgrader:v1", true},
		{"list: none", "registry.example.com/a,example.com/b:v1", "example.com/b:v2", false},

		// Images that are not references are never allowed.
		{"bad image: empty", "registry.example.com/*", "", false},
		{"bad image: spaces", "registry.example.com/*", " registry.example.com/upgrader", false},
		{"bad image: bad digest", "registry.example.com/*", "registry.example.com/upgrader@sha256:xyz", false},
		{"bad image: bad tag", "registry.example.com/*", "registry.example.com/upgrader:-v1", false},
		{"bad image: empty component", "registry.example.com/*", "registry.example.com//upgrader", false},
		{"bad image: digest in capitals", "registry.example.com/*", "registry.example.com/upgrader@" + strings.ToUpper(testDigest), false},
		{"bad image: digest too short for sha256", "registry.example.com/*", "registry.example.com/upgrader@sha256:0123456789abcdef0123456789abcdef", false},
		{"bad image: unknown digest algorithm", "registry.example.com/*", "registry.example.com/upgrader@md5:0123456789abcdef0123456789abcdef", false},
		{"bad image: an image ID", "docker.io/*", strings.TrimPrefix(testDigest, "sha256:"), false},
		{"bad image: uppercase path", "registry.example.com/*", "registry.example.com/Upgrader:v1", false},
		{"bad image: path too long", "registry.example.com/*", "registry.example.com/" + strings.Repeat("a", 256), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseImagePolicy(tt.list)
			if err != nil {
				t.Fatalf("ParseImagePolicy(%q): %v", tt.list, err)
			}
			if got := p.Allows(tt.image); got != tt.want {
				t.Errorf("ParseImagePolicy(%q).Allows(%q) = %v, want %v", tt.list, tt.image, got, tt.want)
			}
		})
	}
}

func TestParseImagePolicyRefuses(t *testing.T) {
	for _, list := range []string{
		"*",
		"/*",
		"registry.example.com/team*",
		"registry.example.com/*/upgrader",
		"*.example.com/*",
		"registry.example.com/team/upgrader:v*",
		"registry.example.com/Team/upgrader",
		"registry.example.com/upgrader:",
		"registry.example.com/upgrader@sha256:short",
		"registry..example.com/upgrader",
		"good.example.com/a, bad..example.com/*",
		"registry.example.com/team/*/*",
		"registry.example.com/upgrader@" + strings.ToUpper(testDigest),
		"registry.example.com/team:v1/*",
		"registry.example.com/team@" + testDigest + "/*",
		strings.TrimPrefix(testDigest, "sha256:"),
	} {
		if _, err := ParseImagePolicy(list); err == nil {
			t.Errorf("ParseImagePolicy(%q) accepted it", list)
		} else if !strings.Contains(err.Error(), "allowed image") {
			t.Errorf("ParseImagePolicy(%q): error %q does not name the entry", list, err)
		}
	}
}

func TestImagePolicyString(t *testing.T) {
	p, err := ParseImagePolicy(" registry.example.com/*, ,busybox:1.36 ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "registry.example.com/*,busybox:1.36"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if p.AllowsAll() {
		t.Error("a list with entries allows all")
	}
	if !(ImagePolicy{}).AllowsAll() {
		t.Error("the zero policy does not allow all")
	}
}

func TestImagePolicyRefused(t *testing.T) {
	p, err := ParseImagePolicy("registry.example.com/*")
	if err != nil {
		t.Fatal(err)
	}
	template := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{
			{Name: "prep", Image: "registry.example.com/prep:v1"},
			{Name: "fetch", Image: "evil.example.org/fetch:v1"},
		},
		Containers: []corev1.Container{
			{Name: "upgrade", Image: "busybox"},
			{Name: "ok", Image: "registry.example.com/upgrader@" + testDigest},
		},
		EphemeralContainers: []corev1.EphemeralContainer{
			{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "registry.example.com/debug:v1"}},
			{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "shell", Image: "evil.example.org/shell"}},
		},
		Volumes: []corev1.Volume{
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}},
			{Name: "tools", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "evil.example.org/tools:v1"}}},
			{Name: "pkgs", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example.com/pkgs:v1.37.2"}}},
			{Name: "empty", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{}}},
		},
	}}
	want := []RefusedImage{
		{Field: "spec.initContainers[1]", Container: "fetch", Image: "evil.example.org/fetch:v1"},
		{Field: "spec.containers[0]", Container: "upgrade", Image: "busybox"},
		{Field: "spec.ephemeralContainers[1]", Container: "shell", Image: "evil.example.org/shell"},
		{Field: "spec.volumes[1].image.reference", Volume: "tools", Image: "evil.example.org/tools:v1"},
		// An empty reference is no image a list can allow (the API
		// server refuses it too).
		{Field: "spec.volumes[3].image.reference", Volume: "empty", Image: ""},
	}
	if got := p.Refused(template); !reflect.DeepEqual(got, want) {
		t.Errorf("Refused() = %+v, want %+v", got, want)
	}
	if got := (ImagePolicy{}).Refused(template); got != nil {
		t.Errorf("the zero policy refused %+v", got)
	}
}

// FuzzImagePolicy checks, for any string, that a policy never panics and
// that what a string parses to is allowed by the entries it implies: its
// repository, its registry's /* prefix, and (unless it names a tag and a
// digest, which runs the digest) itself.
func FuzzImagePolicy(f *testing.F) {
	for _, s := range []string{
		"busybox", "busybox:1.36", "docker.io/library/busybox", "index.docker.io/myorg/tool:v1",
		"Registry.Example.com/team/upgrader:v1", "localhost:5000/upgrader", "[fd00::1]:5000/x@" + testDigest,
		"registry.example.com/upgrader:v1@" + testDigest, "registry.example.com/*", "a:1", "A/b", "", "*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, ",") {
			return // a list, not one entry
		}
		_, _ = ParseImagePolicy(s)
		ref, err := parseImageRef(s)
		if err != nil {
			p, _ := ParseImagePolicy("registry.example.com/*")
			if p.Allows(s) {
				t.Fatalf("%q does not parse (%v) but is allowed", s, err)
			}
			return
		}
		domain, _, _ := strings.Cut(ref.repo, "/")
		if !strings.ContainsAny(domain, ".:") && domain != "localhost" {
			// A registry recognised only by its capitals (A/b): lowercased,
			// it would read as a Docker Hub name. Written as it was, it
			// is covered by the self-allowing check below.
			domain = ""
		}
		entries := []string{ref.repo, domain + "/*"}
		if domain == "" {
			entries = nil
		}
		for _, entry := range entries {
			p, err := ParseImagePolicy(entry)
			if err != nil {
				t.Fatalf("%q parses to %+v, but %q is refused as an entry: %v", s, ref, entry, err)
			}
			if !p.Allows(s) {
				t.Fatalf("%q (%+v) is not allowed by %q", s, ref, entry)
			}
		}
		if strings.Contains(s, "*") || (ref.tag != "" && ref.digest != "") {
			return
		}
		p, err := ParseImagePolicy(s)
		if err != nil {
			t.Fatalf("%q is an image but not an entry: %v", s, err)
		}
		if !p.Allows(s) {
			t.Fatalf("%q does not allow itself", s)
		}
	})
}
