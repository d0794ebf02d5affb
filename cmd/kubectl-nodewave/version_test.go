package main

import (
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/nodewave/nodewave/internal/buildinfo"
)

var _ = Describe("version", func() {
	It("prints the plugin's version, its Go release and platform on one line", func() {
		r := plugin("version")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(Equal(buildinfo.String("kubectl-nodewave") + "\n"))
	})

	It("prints them as an object with -o yaml, and refuses other formats", func() {
		r := plugin("version", "-o", "yaml")
		Expect(r.code).To(Equal(0), r.stderr)
		var got map[string]string
		Expect(yaml.UnmarshalStrict([]byte(r.stdout), &got)).To(Succeed())
		Expect(got).To(Equal(map[string]string{"clientVersion": buildinfo.Version(), "goVersion": runtime.Version(),
			"platform": runtime.GOOS + "/" + runtime.GOARCH}))
		r = plugin("version", "-o", "name")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(Equal("error: --output must be json or yaml, not \"name\"\n"))
	})
})
