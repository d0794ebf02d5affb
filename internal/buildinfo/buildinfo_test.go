package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stamp string
		info  *debug.BuildInfo
		want  string
	}{
		{name: "stamped at link time", stamp: "v0.2.0", info: &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, want: "v0.2.0"},
		{name: "go install at a tag", info: &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, want: "v0.1.0"},
		{name: "checkout, clean", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "4e76085d0c3a1b2c3d4e5f60718293a4b5c6d7e8"}, {Key: "vcs.modified", Value: "false"}}},
			want: "v0.0.0-devel+4e76085d0c3a"},
		{name: "checkout, modified", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "4e76085"}, {Key: "vcs.modified", Value: "true"}}},
			want: "v0.0.0-devel+4e76085.dirty"},
		{name: "go run", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: "v0.0.0-devel"},
		{name: "no build information", want: "v0.0.0-devel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v string, r func() (*debug.BuildInfo, bool)) { version, readBuildInfo = v, r }(version, readBuildInfo)
			version = tc.stamp
			readBuildInfo = func() (*debug.BuildInfo, bool) { return tc.info, tc.info != nil }
			if got := Version(); got != tc.want {
				t.Errorf("Version() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v0.3.1"
	if got := String("manager"); !strings.HasPrefix(got, "manager v0.3.1 (go") {
		t.Errorf("String = %q, want it to begin with %q", got, "manager v0.3.1 (go")
	}
}
