package release

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileBuildsWhatMakeImageBuilds keeps the Dockerfile, for those
// with a Docker engine, in step with `make image`, which releases use: the
// same go build flags (static, trimmed, version stamped), the same user and
// the same entrypoint.
func TestDockerfileBuildsWhatMakeImageBuilds(t *testing.T) {
	dockerfile := string(must(os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))))
	docker := buildDescription{
		env:        field(t, `(CGO_ENABLED=\S+)`, dockerfile),
		flags:      strings.Join(regexp.MustCompile(`(-trimpath)`).FindAllString(dockerfile, -1), " "),
		ldflags:    strings.ReplaceAll(field(t, `-ldflags="([^"]*)"`, dockerfile), "${VERSION}", version),
		user:       field(t, `(?m)^USER (\S+)`, dockerfile),
		entrypoint: strings.Trim(field(t, `(?m)^ENTRYPOINT \["([^"]*)"\]`, dockerfile), `"`),
	}

	// What make image would run, with the version the Dockerfile's
	// --build-arg VERSION would get.
	commands := makeTarget(t, "-n", "image", "VERSION="+version, "PLATFORMS=linux/amd64")
	makeImage := buildDescription{
		env:        field(t, `(CGO_ENABLED=\S+)`, commands),
		flags:      strings.Join(regexp.MustCompile(`(-trimpath)`).FindAllString(field(t, `(?m)^(.*go build .*)$`, commands), -1), " "),
		ldflags:    field(t, `-ldflags="([^"]*)"`, commands),
		user:       field(t, `-user (\S+)`, commands),
		entrypoint: field(t, `-entrypoint (\S+)`, commands),
	}
	if docker != makeImage {
		t.Errorf("the Dockerfile builds\n  %+v\nmake image builds\n  %+v", docker, makeImage)
	}
	if !strings.Contains(docker.ldflags, "buildinfo.version="+version) {
		t.Errorf("the version is not stamped: -ldflags=%q", docker.ldflags)
	}
}

// buildDescription is what both ways of building the image must agree on.
type buildDescription struct {
	env, flags, ldflags, user, entrypoint string
}

// field is the first submatch of pattern in s.
func field(t *testing.T, pattern, s string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in\n%s", pattern, s)
	}
	return m[1]
}
