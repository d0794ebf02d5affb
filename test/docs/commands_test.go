package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allowed are the commands of the docs that neither the end-to-end suite
// nor the demo runs, each with the reason. Keep it short: a command that
// can run on the simulated cluster belongs in test/e2e/docs_test.go.
var allowed = map[string]string{
	// The front door runs everything else.
	"make demo": "it is the demo (hack/demo.sh), which runs its own simulated cluster; run by hand",
	"make test": "runs every tier, this test included; CI's entry point",
	// Installing for real needs what the simulated cluster lacks.
	"make image build-installer IMG=registry.example.com/infra/nodewave:v0.1.0-rc.0":                                                          "test/release runs the same targets (with a test image and version) and checks the image and the installer they write",
	"go run github.com/google/go-containerregistry/cmd/crane@v0.22.1 push --index dist/image registry.example.com/infra/nodewave:v0.1.0-rc.0": "pushes to the user's registry; no registry runs here (the real tier loads the same image's archive into containerd instead)",
	"kubectl apply -f dist/install.yaml":                                            "test/release's TestInstaller applies the installer, built by make build-installer, with this plain kubectl apply -f on envtest",
	"kubectl apply --server-side -f nodewave.yaml":                                  "applies `helm template` output; test/chart's TestHelmOnAnAPIServer applies the rendered chart server-side on envtest (helm is not in this module)",
	"go install github.com/nodewave/nodewave/cmd/kubectl-nodewave@latest":           "needs the module published; the e2e suite and the demo build the same package with go build",
	"kubectl -n nodewave-system logs deploy/nodewave-controller-manager":            "the e2e suite runs the manager as a process (its log is a file), not as the Deployment, and kwok's pods run no containers",
	"kubectl -n nodewave-system logs deploy/nodewave-controller-manager --previous": "as above: no Deployment, no container log",
	"kubectl -n nodewave-system get lease nodewave.upgrade.nodewave.io":             "the e2e manager runs without leader election, so there is no Lease; the leader failover scenario (test/e2e/faults_test.go) reads it through the API",
	// Releasing (docs/releasing.md): what only a release, on GitHub, does.
	"make image build-installer build-plugins chart-package VERSION=vX.Y.Z": "the release rehearsal; test/release runs make image and make build-installer (with a test version) and checks what they write, the plugin's tests run build-plugins",
	"git tag -s vX.Y.Z -m vX.Y.Z":                                           "cutting a release: a tag pushed to GitHub starts the release workflow; no test may publish one",
	"git push origin vX.Y.Z":                                                "cutting a release: a tag pushed to GitHub starts the release workflow; no test may publish one",
	"git checkout vX.Y.Z":                                                   "rebuilds a published tag; test/release builds the image twice from one commit and compares the bytes instead",
	"make image VERSION=vX.Y.Z IMG=ghcr.io/nodewave/nodewave:vX.Y.Z":        "rebuilds a published tag; test/release runs make image with a test version and tag",
	"cat dist/image/index.json":                                             "reads what make image wrote; test/release reads and checks that file",
	"cosign verify ghcr.io/nodewave/nodewave:vX.Y.Z --certificate-identity-regexp '^https://github.com/nodewave/nodewave/\\.github/workflows/release\\.yaml@refs/tags/v' --certificate-oidc-issuer https://token.actions.githubusercontent.com":                             "verifies a published image's signature in Sigstore's log; nothing is published, and Sigstore is not reachable from here",
	"cosign verify-attestation --type spdxjson ghcr.io/nodewave/nodewave:vX.Y.Z --certificate-identity-regexp '^https://github.com/nodewave/nodewave/\\.github/workflows/release\\.yaml@refs/tags/v' --certificate-oidc-issuer https://token.actions.githubusercontent.com": "verifies a published SBOM attestation in Sigstore's log; nothing is published, and Sigstore is not reachable from here",
	"cosign verify-blob install.yaml --bundle install.yaml.sigstore.json --certificate-identity https://github.com/nodewave/nodewave/.github/workflows/release.yaml@refs/tags/vX.Y.Z --certificate-oidc-issuer https://token.actions.githubusercontent.com":                 "verifies a published installer's signature bundle; nothing is published, and Sigstore is not reachable from here",
	// (Watches never end: `kubectl get clusterupgrades -w` is run by the
	// demo; the e2e suite runs the non-watch forms.)
	// Transcripts of other tests.
	"kubectl nodewave plan workers":                                                                                      "output of the plugin's envtest suite (cmd/kubectl-nodewave, testdata/plan.golden), which runs `plan workers` in-process",
	"cat testdata/clusterupgrade-control-plane.yaml":                                                                     "shows cmd/kubectl-nodewave/testdata/clusterupgrade-control-plane.yaml, the file the plugin's envtest suite forecasts",
	"kubectl nodewave plan -f testdata/clusterupgrade-control-plane.yaml":                                                "output of the plugin's envtest suite (cmd/kubectl-nodewave, testdata/plan-control-plane.golden), which runs this `plan -f` in-process",
	"cat testdata/clusterupgrade-canary.yaml":                                                                            "shows cmd/kubectl-nodewave/testdata/clusterupgrade-canary.yaml, the file the plugin's envtest suite forecasts",
	"kubectl nodewave plan -f testdata/clusterupgrade-canary.yaml":                                                       "output of the plugin's envtest suite (cmd/kubectl-nodewave, testdata/plan-canary.golden), which runs this `plan -f` in-process",
	"kubectl nodewave status workers-v1.37.2 -o jsonpath='{.status.phase} {.status.upgradedNodes}/{.status.totalNodes}'": "the plugin's envtest suite (cmd/kubectl-nodewave) runs status with -o jsonpath in-process and checks what it prints",
	"kubectl nodewave plan -f clusterupgrade.yaml -o jsonpath='{.totalWaves} waves; first: {.waves[0].nodes}'":           "the plugin's envtest suite (cmd/kubectl-nodewave) runs plan with -o jsonpath in-process and checks what it prints",
	"source <(kubectl-nodewave completion bash)":                                                                         "loads a completion script into the reader's shell; the plugin's envtest suite runs `completion bash` (and zsh, fish, powershell), and completes through the real kubectl and kubectl_complete-nodewave",
	// Installing a release needs it published.
	"tar -xzf kubectl-nodewave_v0.1.0_linux_amd64.tar.gz -C ~/.local/bin kubectl-nodewave kubectl_complete-nodewave":       "needs a published release; hack/release's tests read every archive make build-plugins writes",
	"kubectl krew install --manifest-url=https://github.com/nodewave/nodewave/releases/download/v0.1.0/nodewave.krew.yaml": "needs a published release and krew; hack/release's tests run krew's own manifest validator on the manifest make build-plugins writes",
	"echo $?": "a shell built-in printing the previous command's status; the e2e suite checks the status of `plan --fail-on-blockers` itself",
	// Tools and edits of the reader's checkout.
	"hack/toolchain.sh envtest":   "make test-integration and make test-chart run it",
	"hack/toolchain.sh sim":       "the e2e suite's BeforeSuite runs it",
	"hack/toolchain.sh realnodes": "make test-real runs it",
	"sed -i 's|^#- ../prometheus|- ../prometheus|' config/default/kustomization.yaml": "edits the checkout; test/observability makes the same edit in memory and builds config/default with it (monitor_test.go)",
	"hack/toolchain.sh kubeadm":                                  "make kubeadm-up runs it (hack/kubeadm.sh), and the kubeadm rig is run by hand until its end-to-end tier lands (issue 14)",
	"make kubeadm-up":                                            "it needs root and builds a cluster of six machines; the kubeadm rig is run by hand until its end-to-end tier lands (issue 14)",
	"hack/kubeadm.sh kubectl get nodes":                          "it needs the kubeadm rig (make kubeadm-up), which only the kubeadm tier (make test-kubeadm, not part of make test) makes; that tier reads nodes through the same kubeconfig (hack/kubeadm.sh env)",
	"hack/kubeadm.sh etcdctl endpoint status --cluster -w table": "it needs the kubeadm rig, which only the kubeadm tier makes; that tier runs this subcommand every 3 s (its etcd probe: hack/kubeadm.sh etcdctl endpoint health and endpoint status --cluster -w json)",
	"make kubeadm-down":                                          "it removes the kubeadm rig (make kubeadm-up), which is run by hand until its end-to-end tier lands (issue 14)",
	"make sim-up SIM_REAL_NODES=3":                               "the real tier's BeforeSuite runs the same script (hack/sim.sh up with SIM_REAL_NODES=3) for its own cluster",
	"make test-real":                                             "runs the real-node tier; make test runs it",
	"make sim-down":                                              "both e2e tiers' AfterSuite run the same script (hack/sim.sh down)",
	"make bench-small":                                           "the benchmark of docs/benchmarks.md: a 100-node cluster of its own and minutes of run time, not part of make test",
	"make bench":                                                 "the whole benchmark set: 1,000-node clusters of their own, two hours, not part of make test",
	"make bench-5000":                                            "the 5,000-node benchmark: a cluster of its own and 55 to 80 minutes on two cores, not part of make test",
	"make bench-growth":                                          "the growth curve: 100-, 1,000- and 5,000-node clusters of their own, about an hour, not part of make test",
	"KUBEBUILDER_ASSETS=$(hack/toolchain.sh envtest) go test ./internal/controller -run '^$' -bench BenchmarkObserve -benchmem -count 5": "a Go benchmark, timed rather than checked; make test-integration compiles it with the package's envtests",
	"go test ./internal/controller -run '^$' -bench BenchmarkPassReads -benchmem -count 5":                                               "a Go benchmark, timed rather than checked; make test-integration compiles it with the package's envtests",
	"make bench-harness": "builds the benchmark harness (test/bench, a module of its own); make test-unit runs that module's tests, which compile the same package",
	"bin/bench -h":       "prints the benchmark harness's flags; make bench-small runs the same program",
	"bin/bench -nodes 30 -max-unavailable 20% -sim-name nodewave-obs -scrape-every 1s -metrics-plot docs/img/metrics-simulated-run.png": "the benchmark harness: its own cluster, minutes of run time; make bench-small runs the same program",
}

// repoRoot is the repository's root: go test runs in this package's
// directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docCommands are the commands of README.md and docs/*.md.
func docCommands(t *testing.T, root string) []Command {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths := append([]string{filepath.Join(root, "README.md")}, docs...)
	out := make([]Command, 0, 8*len(paths))
	for _, path := range paths {
		rel, _ := filepath.Rel(root, path)
		out = append(out, Extract(filepath.ToSlash(rel), read(t, root, rel))...)
	}
	return out
}

// runners gathers what runs the commands from the repository.
func runners(t *testing.T, root string) Runners {
	t.Helper()
	const e2eFile = "test/e2e/docs_test.go"
	lines, err := E2ELines(e2eFile, read(t, root, e2eFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < 20 {
		t.Fatalf("%s runs only %d commands: is its table still made of {line: ...} entries?", e2eFile, len(lines))
	}
	e2e := map[string]bool{}
	for _, l := range lines {
		e2e[l] = true
	}
	// The chart's tests render every helm command of these two documents.
	chart := read(t, root, "test/chart/docs_test.go")
	if !strings.Contains(chart, "func TestDocsHelmCommandsRun(") ||
		!strings.Contains(chart, `[]string{"README.md", filepath.Join("docs", "helm.md")}`) {
		t.Fatal("test/chart/docs_test.go no longer runs the helm commands of README.md and docs/helm.md; update Runners.HelmDocs")
	}
	return Runners{
		E2E:      e2e,
		Demo:     DemoLines(read(t, root, "hack/demo.sh")),
		HelmDocs: map[string]bool{"README.md": true, "docs/helm.md": true},
		Allowed:  allowed,
	}
}

// TestEveryDocCommandRuns: every command shown in the docs is run by the
// end-to-end suite, the demo or the chart's tests, or is allowed with a
// reason; and the allow-list and the e2e table hold nothing the docs no
// longer show.
func TestEveryDocCommandRuns(t *testing.T) {
	root := repoRoot(t)
	commands := docCommands(t, root)
	if len(commands) < 50 {
		t.Fatalf("found only %d commands in the docs: is the extraction broken?", len(commands))
	}
	r := runners(t, root)
	shown := map[string]bool{}
	by := map[string]int{}
	for _, c := range commands {
		shown[c.Text] = true
		how := r.Cover(c)
		by[how]++
		if how == "" {
			t.Errorf("%s:%d: nothing runs %q: add it to test/e2e/docs_test.go's table (or hack/demo.sh), "+
				"or, if it cannot run there, to the allow-list in test/docs/commands_test.go with the reason", c.Doc, c.Line, c.Text)
		}
	}
	for line := range allowed {
		if !shown[line] {
			t.Errorf("allow-list entry %q: no document shows this command any more; remove it", line)
		}
		if r.E2E[line] || r.demoRuns(line) {
			t.Errorf("allow-list entry %q: it is run (e2e or demo); remove it from the allow-list", line)
		}
	}
	for line := range r.E2E {
		if !shown[line] {
			t.Errorf("test/e2e/docs_test.go runs %q, which no document shows: keep the table to the docs' commands", line)
		}
	}
	t.Logf("%d commands: %d run by the e2e suite, %d by the demo, %d by the chart's tests, %d allowed",
		len(commands), by["e2e"], by["demo"], by["chart"], by["allowed"])
}

// TestAllowListHasReasons: an entry without a reason is no decision.
func TestAllowListHasReasons(t *testing.T) {
	for line, reason := range allowed {
		if len(strings.Fields(reason)) < 4 {
			t.Errorf("allow-list entry %q: give the reason in a sentence, not %q", line, reason)
		}
	}
	if len(allowed) == 0 {
		t.Fatal("empty allow-list")
	}
}
