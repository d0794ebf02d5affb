package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// stamp is the version the binary of these specs is stamped with, as
// make build-plugins stamps a release with $(LDFLAGS).
const stamp = "v1.2.3"

// builtPluginSpecs run the plugin as a user has it: a binary built with
// the release's linker flags, beside the completion script, on the PATH.
// They run inside the suite's Ordered container, once its cluster is
// there.
func builtPluginSpecs() {
	var bin string

	BeforeAll(func() {
		bin = GinkgoT().TempDir()
		build := exec.Command("go", "build", "-trimpath",
			"-ldflags", "-s -w -X github.com/nodewave/nodewave/internal/buildinfo.version="+stamp,
			"-o", filepath.Join(bin, "kubectl-nodewave"), ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		script, err := os.ReadFile("kubectl_complete-nodewave")
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(bin, "kubectl_complete-nodewave"), script, 0o755)).To(Succeed())
	})

	// run runs name (looked up on a PATH that starts with the binary's
	// directory) with the suite's kubeconfig in KUBECONFIG.
	run := func(name string, args ...string) string {
		GinkgoHelper()
		path := bin + string(os.PathListSeparator) + os.Getenv("KUBEBUILDER_ASSETS") + string(os.PathListSeparator) + os.Getenv("PATH")
		GinkgoT().Setenv("PATH", path)
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		out, err := cmd.Output()
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		Expect(err).NotTo(HaveOccurred(), "%s %v: %s", name, args, stderr)
		return string(out)
	}

	It("says the version it was stamped with", func() {
		Expect(run("kubectl-nodewave", "version")).To(Equal(
			"kubectl-nodewave " + stamp + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"))
		var got map[string]string
		Expect(json.Unmarshal([]byte(run("kubectl-nodewave", "version", "-o", "json")), &got)).To(Succeed())
		Expect(got).To(Equal(map[string]string{"clientVersion": stamp, "goVersion": runtime.Version(),
			"platform": runtime.GOOS + "/" + runtime.GOARCH}))
	})

	It("completes `kubectl nodewave status` with ClusterUpgrade names through kubectl and kubectl_complete-nodewave", func() {
		Expect(run("kubectl", "plugin", "list")).To(ContainSubstring(filepath.Join(bin, "kubectl-nodewave")))
		out := run("kubectl", "__complete", "nodewave", "status", "")
		Expect(strings.Split(strings.TrimSpace(out), "\n")).To(Equal([]string{"workers", ":4"}))
		out = run("kubectl", "__complete", "nodewave", "")
		Expect(out).To(ContainSubstring("status\t"))
		Expect(out).To(ContainSubstring("version\t"))
	})
}
