package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

// platform is a GOOS and GOARCH the plugin is released for.
type platform struct{ os, arch string }

// The GOOS and GOARCH values of the release.
const (
	linux, darwin, windows = "linux", "darwin", "windows"
	amd64, arm64           = "amd64", "arm64"
)

// platforms are the release's: what kubectl users run.
var platforms = []platform{
	{linux, amd64}, {linux, arm64},
	{darwin, amd64}, {darwin, arm64},
	{windows, amd64},
}

// pluginName is the plugin's executable, without .exe.
const pluginName = "kubectl-nodewave"

// binary is the plugin's executable on p.
func (p platform) binary() string {
	if p.os == windows {
		return pluginName + ".exe"
	}
	return pluginName
}

// completionScript is the file of the completion script p runs: a POSIX
// shell script, or a batch file on Windows (found through PATHEXT).
func (p platform) completionScript() string {
	if p.os == windows {
		return "kubectl_complete-nodewave.cmd"
	}
	return "kubectl_complete-nodewave"
}

// archive is one archive written.
type archive struct {
	platform
	// name is its file name; path where it was written.
	name, path string
	// sha256 is the hex SHA-256 of its bytes.
	sha256 string
	// files are the names of the files it holds, in order.
	files []string
}

// archiveName is the file name of p's archive of version.
func archiveName(version string, p platform) string {
	return fmt.Sprintf("%s_%s_%s_%s.tar.gz", pluginName, version, p.os, p.arch)
}

// buildArchive builds the plugin for p in work and writes its archive to
// o.out.
func buildArchive(o options, p platform, work string) (archive, error) {
	bin := filepath.Join(work, p.binary())
	root, err := filepath.Abs(o.root)
	if err != nil {
		return archive{}, err
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags", o.ldflags, "-o", bin, o.pkg)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.os, "GOARCH="+p.arch)
	if out, err := build.CombinedOutput(); err != nil {
		return archive{}, fmt.Errorf("go build: %w\n%s", err, out)
	}
	files := []archiveFile{{name: p.binary(), src: bin, mode: 0o755}}
	script := filepath.Join(root, "cmd", pluginName, p.completionScript())
	files = append(files, archiveFile{name: p.completionScript(), src: script, mode: 0o755})
	license := filepath.Join(root, "LICENSE")
	switch _, err := os.Stat(license); {
	case err == nil:
		files = append(files, archiveFile{name: "LICENSE", src: license, mode: 0o644})
	case !errors.Is(err, fs.ErrNotExist):
		return archive{}, err
	}
	a := archive{platform: p, name: archiveName(o.version, p)}
	for _, f := range files {
		a.files = append(a.files, f.name)
	}
	slices.Sort(a.files)
	a.path = filepath.Join(o.out, a.name)
	data, err := tarGz(files)
	if err != nil {
		return archive{}, err
	}
	if err := os.WriteFile(a.path, data, 0o644); err != nil {
		return archive{}, err
	}
	sum := sha256.Sum256(data)
	a.sha256 = hex.EncodeToString(sum[:])
	return a, nil
}
