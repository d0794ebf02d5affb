// Package buildinfo tells which release of nodewave a binary is. Release
// builds stamp the version at link time (make image, make build-plugins):
//
//	go build -ldflags "-X github.com/nodewave/nodewave/internal/buildinfo.version=v0.1.0"
//
// A binary built by `go install …@v0.1.0` carries no stamp but knows its
// module's version from the build information Go records, so it reports
// v0.1.0 too; a build from a checkout reports the commit Go recorded.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at link time with -X; empty means "ask the Go build
// information".
var version string

// readBuildInfo is debug.ReadBuildInfo, replaced in tests.
var readBuildInfo = debug.ReadBuildInfo

// devel is the version of a build that has neither a stamp nor a module
// version nor a recorded commit (go run, go test).
const devel = "v0.0.0-devel"

// Version is the release this binary belongs to: the link-time stamp, else
// the module's version (go install …@vX.Y.Z), else the VCS commit Go
// recorded (v0.0.0-devel+<12 hex>[.dirty]), else v0.0.0-devel.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := readBuildInfo()
	if !ok {
		return devel
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return devel
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified == "true" {
		return devel + "+" + revision + ".dirty"
	}
	return devel + "+" + revision
}

// String is the one line a --version flag or a version command prints:
// the program's name, its version, the Go release and the platform.
func String(program string) string {
	return fmt.Sprintf("%s %s (%s, %s/%s)", program, Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
