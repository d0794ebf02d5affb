package nodeupgrade

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestParseCredentialPolicy(t *testing.T) {
	p, err := ParseCredentialPolicy(" apt-proxy, ,registry-creds,apt-proxy ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "apt-proxy,registry-creds"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for name, want := range map[string]bool{"apt-proxy": true, "registry-creds": true, "apt": false, "": false} {
		if got := p.AllowsSecret(name); got != want {
			t.Errorf("AllowsSecret(%q) = %v, want %v", name, got, want)
		}
	}
	if (CredentialPolicy{}).AllowsSecret("apt-proxy") {
		t.Error("the zero policy allows a Secret")
	}
	for _, list := range []string{"*", "apt-*", "Apt-Proxy", "ok,bad_name", strings.Repeat("a", 254)} {
		if _, err := ParseCredentialPolicy(list); err == nil {
			t.Errorf("ParseCredentialPolicy(%q) accepted it", list)
		} else if !strings.Contains(err.Error(), "allowed Secret") {
			t.Errorf("ParseCredentialPolicy(%q): error %q does not name the entry", list, err)
		}
	}
}

func TestCredentialPolicyRefused(t *testing.T) {
	secretRef := func(name string) *corev1.LocalObjectReference { return &corev1.LocalObjectReference{Name: name} }
	tests := []struct {
		name    string
		allowed string
		spec    corev1.PodSpec
		want    []RefusedCredential
	}{{
		name: "nothing named",
		spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "upgrade", Image: "example.com/u:v1"}}},
	}, {
		name: "the upgrade ServiceAccount",
		spec: corev1.PodSpec{ServiceAccountName: ServiceAccount, DeprecatedServiceAccount: ServiceAccount},
	}, {
		name: "the manager's ServiceAccount",
		spec: corev1.PodSpec{ServiceAccountName: "nodewave-controller-manager"},
		want: []RefusedCredential{{Field: "spec.serviceAccountName", Kind: KindServiceAccount, Name: "nodewave-controller-manager"}},
	}, {
		name: "the namespace's default ServiceAccount, through the deprecated alias",
		spec: corev1.PodSpec{DeprecatedServiceAccount: "default"},
		want: []RefusedCredential{{Field: "spec.serviceAccount", Kind: KindServiceAccount, Name: "default"}},
	}, {
		name:    "no Secret may allow a ServiceAccount",
		allowed: "nodewave-controller-manager",
		spec:    corev1.PodSpec{ServiceAccountName: "nodewave-controller-manager"},
		want:    []RefusedCredential{{Field: "spec.serviceAccountName", Kind: KindServiceAccount, Name: "nodewave-controller-manager"}},
	}, {
		name: "a token asked for explicitly is the upgrade ServiceAccount's",
		spec: corev1.PodSpec{AutomountServiceAccountToken: ptr.To(true), Volumes: []corev1.Volume{{Name: "token",
			VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			}}}}}},
	}, {
		name: "ConfigMaps, the downward API and hostPath are no Secrets",
		spec: corev1.PodSpec{
			Volumes: []corev1.Volume{
				{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}},
				{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}},
				{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}},
			},
			Containers: []corev1.Container{{Name: "upgrade",
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
				Env:     []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
			}},
		},
	}, {
		name: "every way to a Secret, none allowed",
		spec: corev1.PodSpec{
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
			Volumes: []corev1.Volume{
				{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}},
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "manager-tls"}}},
				{Name: "all", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sh.helm.release.v1.nodewave.v1"}}},
				}}}},
				{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "secrets-store.csi.k8s.io", NodePublishSecretRef: secretRef("vault-creds")}}},
				{Name: "flex", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "x/y", SecretRef: secretRef("flex-creds")}}},
			},
			InitContainers: []corev1.Container{{Name: "prep",
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "apt-proxy"}}}},
			}},
			Containers: []corev1.Container{{Name: "upgrade",
				Env: []corev1.EnvVar{
					{Name: "A", Value: "1"},
					{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "nodewave-controller-manager-token"}, Key: "token"}}},
				},
			}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug",
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "apt-proxy"}}}},
			}}},
		},
		want: []RefusedCredential{
			{Field: "spec.imagePullSecrets[0].name", Kind: KindSecret, Name: "regcred"},
			{Field: "spec.volumes[1].secret.secretName", Kind: KindSecret, Name: "manager-tls"},
			{Field: "spec.volumes[2].projected.sources[1].secret.name", Kind: KindSecret, Name: "sh.helm.release.v1.nodewave.v1"},
			{Field: "spec.volumes[3].csi.nodePublishSecretRef.name", Kind: KindSecret, Name: "vault-creds"},
			{Field: "spec.volumes[4].flexVolume.secretRef.name", Kind: KindSecret, Name: "flex-creds"},
			{Field: "spec.initContainers[0].envFrom[0].secretRef.name", Kind: KindSecret, Name: "apt-proxy"},
			{Field: "spec.containers[0].env[1].valueFrom.secretKeyRef.name", Kind: KindSecret, Name: "nodewave-controller-manager-token"},
			{Field: "spec.ephemeralContainers[0].envFrom[0].secretRef.name", Kind: KindSecret, Name: "apt-proxy"},
		},
	}, {
		name:    "allowed Secrets pass, others do not",
		allowed: "apt-proxy,regcred",
		spec: corev1.PodSpec{
			ServiceAccountName: ServiceAccount,
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "regcred"}},
			Volumes: []corev1.Volume{
				{Name: "proxy", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "apt-proxy"}}},
				{Name: "other", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "apt-proxy-2"}}},
			},
			Containers: []corev1.Container{{Name: "upgrade", Env: []corev1.EnvVar{{Name: "P", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "apt-proxy"}, Key: "url"}}}}}},
		},
		want: []RefusedCredential{{Field: "spec.volumes[1].secret.secretName", Kind: KindSecret, Name: "apt-proxy-2"}},
	}, {
		name: "a volume with two sources is read whole",
		spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "odd", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: "a"},
			RBD:    &corev1.RBDVolumeSource{SecretRef: secretRef("b")},
		}}}},
		want: []RefusedCredential{
			{Field: "spec.volumes[0].secret.secretName", Kind: KindSecret, Name: "a"},
			{Field: "spec.volumes[0].rbd.secretRef.name", Kind: KindSecret, Name: "b"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseCredentialPolicy(tt.allowed)
			if err != nil {
				t.Fatal(err)
			}
			template := &corev1.PodTemplateSpec{Spec: tt.spec}
			before := template.DeepCopy()
			if diff := cmp.Diff(tt.want, p.Refused(template)); diff != "" {
				t.Errorf("Refused() (-want +got):\n%s", diff)
			}
			if !reflect.DeepEqual(before, template) {
				t.Error("Refused modified the template")
			}
		})
	}
	if got := (CredentialPolicy{}).Refused(nil); got != nil {
		t.Errorf("Refused(nil) = %v", got)
	}
}

// TestCredentialPolicyCoversEverySecretField finds every field of the pod
// spec, at any depth, whose name says it refers to a Secret, sets it alone
// in a template, and checks that Refused reports it at that path: a Secret
// reference added to the pod API by a new k8s.io/api fails this test until
// Refused reads it.
func TestCredentialPolicyCoversEverySecretField(t *testing.T) {
	// Fields whose name says secret but that name no Secret object.
	notSecrets := []string{
		"volumes[].cephfs.secretFile", // a keyring file on the host
	}
	var paths []string
	var walk func(path string, typ reflect.Type, depth int)
	walk = func(path string, typ reflect.Type, depth int) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			if typ.Kind() == reflect.Slice {
				path += "[]"
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || depth > 12 {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			child := path
			if name != "" && name != "-" {
				if child != "" {
					child += "."
				}
				child += name
			}
			if strings.Contains(strings.ToLower(name), "secret") {
				if f.Type.Kind() == reflect.Slice {
					child += "[]"
				}
				if !slices.Contains(notSecrets, child) {
					paths = append(paths, child)
				}
				continue
			}
			walk(child, f.Type, depth+1)
		}
	}
	walk("", reflect.TypeFor[corev1.PodSpec](), 0)
	if len(paths) < 15 {
		t.Fatalf("found only %d Secret fields, the walk is broken: %v", len(paths), paths)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			spec := corev1.PodSpec{}
			data, err := json.Marshal(nest(strings.Split(path, "."), "s3cr3t"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &spec); err != nil {
				t.Fatalf("%s: %v", data, err)
			}
			got := (CredentialPolicy{}).Refused(&corev1.PodTemplateSpec{Spec: spec})
			want := "spec." + strings.ReplaceAll(path, "[]", "[0]")
			if len(got) != 1 || got[0].Kind != KindSecret || got[0].Name != "s3cr3t" || !strings.HasPrefix(got[0].Field, want) {
				t.Errorf("a template with %s: Refused() = %+v, want the Secret s3cr3t at %s", data, got, want)
			}
		})
	}
}

// nest builds the JSON value that sets the field at path (segments ending
// in [] are lists of one) to a reference to the Secret name, whatever the
// shape of the reference: a string, or an object with name or secretName.
func nest(path []string, name string) any {
	seg, list := strings.CutSuffix(path[0], "[]")
	var v any
	if len(path) == 1 {
		if strings.HasSuffix(seg, "Name") { // secretName: a string
			v = name
		} else {
			v = map[string]any{"name": name, "secretName": name, "key": "k"}
		}
	} else {
		v = nest(path[1:], name)
	}
	if list {
		v = []any{v}
	}
	return map[string]any{seg: v}
}

// TestShippedClusterUpgradesUseNoCredentials checks the ClusterUpgrades
// the repository ships (config/samples, the GitOps examples) against the
// default CredentialPolicy: none may need a Secret or another
// ServiceAccount, the kubeadm Job included (kubeadm upgrade node runs on
// the host with the kubelet's own credentials).
func TestShippedClusterUpgradesUseNoCredentials(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		"../../config/samples/upgrade_*.yaml",
		"../../config/argocd/node-upgrades/*.yaml",
		"../../config/flux/node-upgrades/*.yaml",
	} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	jobs := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---\n") {
			var cu upgradev1alpha1.ClusterUpgrade
			if err := yaml.Unmarshal([]byte(doc), &cu); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if cu.Kind != "ClusterUpgrade" || cu.Spec.Upgrade.Job == nil {
				continue
			}
			jobs++
			if got := (CredentialPolicy{}).Refused(&cu.Spec.Upgrade.Job.Template); len(got) > 0 {
				t.Errorf("%s: ClusterUpgrade %s uses credentials an upgrade Job may not: %+v", file, cu.Name, got)
			}
		}
	}
	if jobs < 4 {
		t.Fatalf("found %d ClusterUpgrades with a Job template in %v, want the samples' and the GitOps examples'", jobs, files)
	}
}
