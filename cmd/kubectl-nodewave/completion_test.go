package main

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// completions are the candidates a `kubectl-nodewave __complete` printed,
// without cobra's directive line and its ":N" marker.
func completions(stdout string) []string {
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line != "" && !strings.HasPrefix(line, ":") {
			got = append(got, strings.SplitN(line, "\t", 2)[0])
		}
	}
	return got
}

// completionSpecs run inside the suite's Ordered container, once its
// cluster (and its ClusterUpgrade "workers") is there.
func completionSpecs() {
	// A second ClusterUpgrade, selecting no node, beside the suite's
	// "workers"; deleted after, so that plan sees no conflict with it.
	BeforeAll(func(ctx SpecContext) {
		other := &upgradev1alpha1.ClusterUpgrade{ObjectMeta: metav1.ObjectMeta{Name: "edge-v1.37.2"},
			Spec: upgradev1alpha1.ClusterUpgradeSpec{TargetVersion: "v1.37.2",
				NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"pool": "none"}},
				Upgrade:      upgradev1alpha1.NodeUpgradeSpec{Type: upgradev1alpha1.ExternalUpgrade}}}
		Expect(env.Client.Create(ctx, other)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(env.Client.Delete(ctx, other)).To(Succeed()) })
	})

	It("completes status and plan with the names of the cluster's ClusterUpgrades, and no files", func() {
		for _, command := range []string{"status", "plan"} {
			r := plugin("__complete", command, "")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(completions(r.stdout)).To(ConsistOf("workers", "edge-v1.37.2"), command)
			Expect(r.stdout).To(HaveSuffix(":4\n"), "ShellCompDirectiveNoFileComp")
		}
	})

	It("completes a prefix, and nothing after the NAME or with plan -f", func() {
		Expect(completions(plugin("__complete", "status", "wo").stdout)).To(Equal([]string{"workers"}))
		Expect(completions(plugin("__complete", "status", "workers", "").stdout)).To(BeEmpty())
		Expect(completions(plugin("__complete", "plan", "-f", "cu.yaml", "").stdout)).To(BeEmpty())
	})

	It("reports an unreachable cluster as a completion error, offering nothing", func() {
		r := plugin("__complete", "--server", "https://127.0.0.1:1", "status", "")
		Expect(r.code).To(Equal(0))
		Expect(completions(r.stdout)).To(BeEmpty())
		Expect(r.stdout).To(HaveSuffix(":1\n"), "ShellCompDirectiveError")
	})

	It("has cobra's completion command for bash, zsh, fish and powershell", func() {
		for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
			r := plugin("completion", shell)
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).To(ContainSubstring("kubectl-nodewave"), shell)
			Expect(r.stdout).To(ContainSubstring("__complete"), shell)
		}
	})
}
