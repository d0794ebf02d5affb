package release

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// pinned is the image the installer test pins: by digest, as a release does.
const pinned = "example.test/nodewave/nodewave@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestInstaller builds dist/install.yaml as a release does and installs it
// the way the README tells users to: a plain (client-side) kubectl apply -f
// on a real API server. Every object carries the release's version; the
// manager runs the pinned image; a ClusterUpgrade applies against the
// installed CRD; applying the installer again changes nothing.
func TestInstaller(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test-release`, or `export KUBEBUILDER_ASSETS=$(hack/toolchain.sh envtest)` first")
	}
	dist := t.TempDir()
	makeTarget(t, "build-installer", "DIST="+dist, "IMG="+pinned, "VERSION="+version,
		"KUBECTL="+filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"))
	installer := filepath.Join(dist, "install.yaml")
	checkInstallerObjects(t, string(must(os.ReadFile(installer))))

	env := &envtest.Environment{}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := admin.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	kubectl := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := k.Run(args...)
		out, _ := io.ReadAll(stdout)
		if err != nil {
			msg, _ := io.ReadAll(stderr)
			t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, msg)
		}
		return string(out)
	}

	kubectl("apply", "-f", installer)
	kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/clusterupgrades.upgrade.nodewave.io")
	if got := kubectl("-n", "nodewave-system", "get", "deployment", "nodewave-controller-manager",
		"-o", `jsonpath={.spec.template.spec.containers[0].image} {.metadata.labels.app\.kubernetes\.io/version}`); got != pinned+" "+version {
		t.Errorf("the installed manager: %q, want image and version %q", got, pinned+" "+version)
	}
	kubectl("apply", "-f", filepath.Join(repoRoot(t), "config", "samples", "upgrade_v1alpha1_clusterupgrade_binary.yaml"))
	if out := kubectl("apply", "-f", installer); strings.Contains(out, "configured") || strings.Contains(out, "created") {
		t.Errorf("applying the installer again changed objects:\n%s", out)
	}
}

// checkInstallerObjects reads the installer's objects: each has the
// version label, the pod template too, and the manager's image is pinned.
func checkInstallerObjects(t *testing.T, manifest string) {
	t.Helper()
	kinds := map[string]int{}
	for _, doc := range strings.Split(manifest, "\n---\n") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Template struct {
					Metadata struct {
						Labels map[string]string `json:"labels"`
					} `json:"metadata"`
					Spec struct {
						Containers []struct {
							Image string `json:"image"`
						} `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Kind == "" {
			continue
		}
		kinds[obj.Kind]++
		if obj.Metadata.Labels["app.kubernetes.io/version"] != version {
			t.Errorf("%s %s: app.kubernetes.io/version = %q, want %q", obj.Kind, obj.Metadata.Name, obj.Metadata.Labels["app.kubernetes.io/version"], version)
		}
		if obj.Kind == "Deployment" {
			if obj.Spec.Template.Metadata.Labels["app.kubernetes.io/version"] != version {
				t.Errorf("the manager's pod template has no version label")
			}
			if c := obj.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Image != pinned {
				t.Errorf("the manager's containers %+v, want the one image %s", c, pinned)
			}
		}
	}
	for _, kind := range []string{"CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service"} {
		if kinds[kind] == 0 {
			t.Errorf("the installer has no %s (it has %v)", kind, kinds)
		}
	}
}
