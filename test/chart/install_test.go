package chart

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

const crdName = "clusterupgrades.upgrade.nodewave.io"

// TestHelmOnAnAPIServer runs the README's commands through Helm's library
// on a real kube-apiserver (envtest), in order:
//
//   - `helm install nodewave charts/nodewave -n nodewave-system
//     --create-namespace`: the API server accepts every object, the CRD
//     serves ClusterUpgrades, and the RBAC grants the manager's
//     ServiceAccount what it needs (and not Jobs outside its namespace);
//   - `helm upgrade` with a changed CRD and values: the CRD is updated (it
//     is a template, not in crds/, which Helm never upgrades);
//   - `helm uninstall`: everything goes but the CRD and the ClusterUpgrades;
//   - `helm template ... --set namespace.create=true | kubectl apply
//     --server-side -f -`, the GitOps route: every object applies.
func TestHelmOnAnAPIServer(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test-chart`, or " +
			"`export KUBEBUILDER_ASSETS=$(hack/toolchain.sh envtest)` first")
	}
	env := &envtest.Environment{}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting kube-apiserver and etcd: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping kube-apiserver and etcd: %v", err)
		}
	})
	k8s, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &helmSteps{k8s: k8s, helm: helmConfig(t, env, helmNamespace), sample: clusterUpgradeSample(t)}
	for _, step := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"helm install", s.install},
		{"helm upgrade", s.upgrade},
		{"helm uninstall", s.uninstall},
		{"helm template | kubectl apply --server-side", s.templateAndApply},
	} {
		if !t.Run(step.name, step.run) {
			t.Fatalf("%s failed: the later steps depend on it", step.name)
		}
	}
}

// The README's release and namespace.
const helmRelease, helmNamespace = "nodewave", "nodewave-system"

// helmSteps are the steps of TestHelmOnAnAPIServer, in order, on one API
// server.
type helmSteps struct {
	k8s  client.Client
	helm *action.Configuration
	// installed is what helm install created.
	installed []*unstructured.Unstructured
	// sample is a ClusterUpgrade created once the CRD is installed.
	sample *unstructured.Unstructured
}

// install runs `helm install nodewave charts/nodewave -n nodewave-system
// --create-namespace`.
func (s *helmSteps) install(t *testing.T) {
	ctx := context.Background()
	install := action.NewInstall(s.helm)
	install.ReleaseName, install.Namespace, install.CreateNamespace = helmRelease, helmNamespace, true
	rel, err := install.Run(loadChart(t), nil)
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	if !strings.Contains(rel.Info.Notes, "rollout status deployment/nodewave-controller-manager") {
		t.Errorf("NOTES do not show how to watch the manager:\n%s", rel.Info.Notes)
	}
	if s.installed, err = decodeAll(rel.Manifest); err != nil {
		t.Fatal(err)
	}
	for _, o := range s.installed {
		if err := s.k8s.Get(ctx, client.ObjectKeyFromObject(o), fetch(o)); err != nil {
			t.Errorf("%s was not installed: %v", keyOf(o), err)
		}
	}
	if err := eventually(func() (bool, error) { return established(ctx, s.k8s) }); err != nil {
		t.Fatalf("the installed CRD never became Established: %v", err)
	}
	if err := s.k8s.Create(ctx, s.sample); err != nil {
		t.Fatalf("creating ClusterUpgrade %s with the installed CRD: %v", s.sample.GetName(), err)
	}
	checkManagerAccess(t, s.k8s, "system:serviceaccount:"+helmNamespace+":nodewave-controller-manager")
	checkUpgradeJobAccess(t, s.k8s, "system:serviceaccount:"+helmNamespace+":nodewave-upgrade")
}

// upgrade runs `helm upgrade` with a chart whose CRD gained a short name,
// and --set manager.replicas=2.
func (s *helmSteps) upgrade(t *testing.T) {
	ctx := context.Background()
	upgrade := action.NewUpgrade(s.helm)
	upgrade.Namespace = helmNamespace
	changed := withShortName(t, loadChart(t), "nwcu")
	if _, err := upgrade.Run(helmRelease, changed, map[string]any{"manager": map[string]any{"replicas": 2}}); err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	crd := installedCRD()
	if err := s.k8s.Get(ctx, client.ObjectKey{Name: crdName}, crd); err != nil {
		t.Fatal(err)
	}
	if names, _, _ := unstructured.NestedStringSlice(crd.Object, "spec", "names", "shortNames"); !slices.Contains(names, "nwcu") {
		t.Errorf("helm upgrade did not update the CRD: shortNames %v, want nwcu among them", names)
	}
	deploy := byKind("apps/v1", "Deployment", helmNamespace, "nodewave-controller-manager")
	if err := s.k8s.Get(ctx, client.ObjectKeyFromObject(deploy), deploy); err != nil {
		t.Fatal(err)
	}
	if replicas, _, _ := unstructured.NestedInt64(deploy.Object, "spec", "replicas"); replicas != 2 {
		t.Errorf("helm upgrade --set manager.replicas=2: replicas %d", replicas)
	}
}

// uninstall runs `helm uninstall nodewave -n nodewave-system`.
func (s *helmSteps) uninstall(t *testing.T) {
	ctx := context.Background()
	if _, err := action.NewUninstall(s.helm).Run(helmRelease); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	for _, o := range s.installed {
		err := s.k8s.Get(ctx, client.ObjectKeyFromObject(o), fetch(o))
		switch {
		case o.GetKind() == "CustomResourceDefinition":
			if err != nil {
				t.Errorf("helm uninstall removed the CRD despite helm.sh/resource-policy: keep: %v", err)
			}
		case !apierrors.IsNotFound(err):
			t.Errorf("%s is still there after helm uninstall (err %v)", keyOf(o), err)
		}
	}
	if err := s.k8s.Get(ctx, client.ObjectKeyFromObject(s.sample), fetch(s.sample)); err != nil {
		t.Errorf("ClusterUpgrade %s is gone after helm uninstall: %v", s.sample.GetName(), err)
	}
}

// templateAndApply runs `helm template nodewave charts/nodewave -n
// nodewave-system --set namespace.create=true | kubectl apply
// --server-side -f -` on a cluster without nodewave.
func (s *helmSteps) templateAndApply(t *testing.T) {
	ctx := context.Background()
	// The CRD that helm uninstall kept (changed by the upgrade) goes first.
	if err := s.k8s.Delete(ctx, installedCRD()); err != nil {
		t.Fatal(err)
	}
	if err := eventually(func() (bool, error) {
		err := s.k8s.Get(ctx, client.ObjectKey{Name: crdName}, installedCRD())
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("the CRD was not deleted: %v", err)
	}
	r := render(t, helmRelease, helmNamespace, map[string]any{"namespace": map[string]any{"create": true}})
	for _, o := range r.objects {
		if err := s.k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner("kubectl")); err != nil {
			t.Errorf("server-side apply of %s: %v", keyOf(o), err)
		}
	}
	ns := byKind("v1", "Namespace", "", helmNamespace)
	if err := s.k8s.Get(ctx, client.ObjectKeyFromObject(ns), ns); err != nil {
		t.Fatal(err)
	}
	if got := ns.GetLabels()["pod-security.kubernetes.io/enforce"]; got != "privileged" {
		t.Errorf("namespace %s: pod-security.kubernetes.io/enforce=%q, want privileged", helmNamespace, got)
	}
	if err := eventually(func() (bool, error) { return established(ctx, s.k8s) }); err != nil {
		t.Fatalf("the applied CRD never became Established: %v", err)
	}
	checkManagerAccess(t, s.k8s, "system:serviceaccount:"+helmNamespace+":nodewave-controller-manager")
	checkUpgradeJobAccess(t, s.k8s, "system:serviceaccount:"+helmNamespace+":nodewave-upgrade")
}

// helmConfig is Helm's action configuration for the envtest API server, as
// the helm CLI builds it from a kubeconfig: releases stored as Secrets.
func helmConfig(t *testing.T, env *envtest.Environment, namespace string) *action.Configuration {
	t.Helper()
	user, err := env.AddUser(envtest.User{Name: "helm", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, cache := filepath.Join(dir, "kubeconfig"), filepath.Join(dir, "cache")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	getter := genericclioptions.NewConfigFlags(false)
	getter.KubeConfig, getter.Namespace, getter.CacheDir = &path, &namespace, &cache
	helm := new(action.Configuration)
	if err := helm.Init(getter, namespace, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	return helm
}

// eventually polls done every 100ms for up to 20s.
func eventually(done func() (bool, error)) error {
	return wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 20*time.Second, true,
		func(context.Context) (bool, error) { return done() })
}

// established reports whether the ClusterUpgrade CRD serves its kind.
func established(ctx context.Context, k8s client.Client) (bool, error) {
	crd := installedCRD()
	if err := k8s.Get(ctx, client.ObjectKey{Name: crdName}, crd); err != nil {
		return false, err
	}
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true, nil
		}
	}
	return false, nil
}

// fetch returns an empty object of o's kind, to Get into.
func fetch(o *unstructured.Unstructured) *unstructured.Unstructured {
	return byKind(o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName())
}

// byKind is an empty object of that kind and name.
func byKind(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{}
	o.SetAPIVersion(apiVersion)
	o.SetKind(kind)
	o.SetNamespace(namespace)
	o.SetName(name)
	return o
}

// installedCRD is the ClusterUpgrade CRD, to Get.
func installedCRD() *unstructured.Unstructured {
	return byKind("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crdName)
}

// clusterUpgradeSample reads one of config/samples.
func clusterUpgradeSample(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "config", "samples", "upgrade_v1alpha1_clusterupgrade_concurrent_percent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &o.Object); err != nil {
		t.Fatal(err)
	}
	return o
}

// withShortName returns c with one more short name in its CRD template,
// standing for a CRD that changed between two chart versions.
func withShortName(t *testing.T, c *chart.Chart, shortName string) *chart.Chart {
	t.Helper()
	for _, f := range c.Templates {
		if !strings.HasPrefix(f.Name, "templates/crd/") {
			continue
		}
		text := string(f.Data)
		if !strings.Contains(text, "    shortNames:\n    - cu\n") {
			t.Fatalf("%s: shortNames [cu] not found", f.Name)
		}
		f.Data = []byte(strings.Replace(text, "    - cu\n", "    - cu\n    - "+shortName+"\n", 1))
		return c
	}
	t.Fatal("the chart has no template under templates/crd")
	return nil
}

// checkManagerAccess asks the API server's authorizer whether the manager's
// ServiceAccount, with the RBAC the chart installed, may do a few things it
// needs, and may not create Jobs outside its namespace nor exec into pods
// outside kube-system.
func checkManagerAccess(t *testing.T, k8s client.Client, user string) {
	t.Helper()
	checkAccess(t, k8s, user, []accessCase{
		// etcdctl in kubeadm's etcd pods (spec.controlPlane), and nowhere else.
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "kube-system"}, true},
		{authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Subresource: "exec", Namespace: "kube-system"}, true},
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "nodewave-system"}, false},
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "default"}, false},
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "exec"}, false}, // every namespace
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "attach", Namespace: "kube-system"}, false},
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "kube-system"}, false},
		{authorizationv1.ResourceAttributes{Verb: "patch", Resource: "nodes"}, true},
		{authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "eviction", Namespace: "default"}, true},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "upgrade.nodewave.io", Resource: "clusterupgrades", Subresource: "status"}, true},
		{authorizationv1.ResourceAttributes{Verb: "create", Group: "batch", Resource: "jobs", Namespace: "nodewave-system"}, true},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "nodewave-system"}, true},
		{authorizationv1.ResourceAttributes{Verb: "create", Group: "authentication.k8s.io", Resource: "tokenreviews"}, true},
		{authorizationv1.ResourceAttributes{Verb: "create", Group: "batch", Resource: "jobs", Namespace: "default"}, false},
		{authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "nodewave-system"}, false},
	})
}

// checkUpgradeJobAccess checks that the upgrade Jobs' ServiceAccount may
// do nothing, least of all what the manager may.
func checkUpgradeJobAccess(t *testing.T, k8s client.Client, user string) {
	t.Helper()
	denied := []authorizationv1.ResourceAttributes{
		{Verb: "get", Resource: "secrets", Namespace: "nodewave-system"},
		{Verb: "list", Resource: "secrets", Namespace: "nodewave-system"},
		{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: "nodewave-system", Name: "nodewave-controller-manager"},
		{Verb: "create", Group: "batch", Resource: "jobs", Namespace: "nodewave-system"},
		{Verb: "create", Resource: "pods", Namespace: "nodewave-system"},
		{Verb: "patch", Resource: "nodes"},
		{Verb: "list", Resource: "pods"},
		{Verb: "create", Resource: "pods", Subresource: "eviction", Namespace: "default"},
		{Verb: "get", Group: "upgrade.nodewave.io", Resource: "clusterupgrades"},
		{Verb: "get", Resource: "configmaps", Namespace: "nodewave-system"},
	}
	cases := make([]accessCase, 0, len(denied))
	for _, attrs := range denied {
		cases = append(cases, accessCase{attrs, false})
	}
	checkAccess(t, k8s, user, cases)
}

// accessCase is one question to the authorizer, and the answer wanted.
type accessCase struct {
	attrs authorizationv1.ResourceAttributes
	want  bool
}

// checkAccess asks the authorizer (SubjectAccessReview) each case about user.
func checkAccess(t *testing.T, k8s client.Client, user string, cases []accessCase) {
	t.Helper()
	for _, tc := range cases {
		// The authorizer reads RBAC from an informer: give it a moment to
		// see the objects Helm just created.
		var allowed bool
		err := eventually(func() (bool, error) {
			review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: user, ResourceAttributes: &tc.attrs,
			}}
			if err := k8s.Create(context.Background(), review); err != nil {
				return false, err
			}
			allowed = review.Status.Allowed
			return allowed == tc.want, nil
		})
		if err != nil {
			t.Errorf("%s may %s %s/%s/%s in %q: %v, want %v (%v)", user, tc.attrs.Verb, tc.attrs.Group, tc.attrs.Resource,
				tc.attrs.Subresource, tc.attrs.Namespace, allowed, tc.want, err)
		}
	}
}
