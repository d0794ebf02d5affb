// Package release tests what a release publishes, as a user gets it: the
// manager's image (an OCI layout and its archive, both platforms, the SBOM)
// and dist/install.yaml, built by the same make targets the release
// workflow runs, and the Dockerfile kept in step with them. The image is
// read with the standard library, not with go-containerregistry, which
// wrote it.
package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// version and image are what the tests build; no registry holds them.
const (
	version = "v0.0.0-releasetest"
	image   = "example.test/nodewave/nodewave:" + version
)

// repoRoot is the repository this file belongs to.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// makeTarget runs make in the repository's root with the variables, and
// returns its output.
func makeTarget(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s"}, args...)...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "MAKEFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
