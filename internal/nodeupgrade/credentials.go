package nodeupgrade

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ServiceAccount is the ServiceAccount every upgrade Job runs as. The
// manifests (config/rbac) and the Helm chart create it in the Job
// namespace with no RBAC at all, and BuildJob sets it when the template
// names none: a Job template cannot borrow the manager's ServiceAccount,
// or any other, to act on the API server.
const ServiceAccount = "nodewave-upgrade"

// CredentialPolicy says which credentials of the Job namespace an upgrade
// Job's template may use: no ServiceAccount but ServiceAccount, and no
// Secret but the ones it allows by name. The zero value allows no Secret.
//
// The Job namespace holds the manager's own credentials (its
// ServiceAccount and that account's tokens), and whatever else the cluster
// admin keeps there (a Helm release's Secrets, registry credentials): a
// ClusterUpgrade author, who may not read them, must not get them by
// naming them in a pod that runs there. A pod can reach a Secret of its
// namespace through its ServiceAccount, imagePullSecrets, a secret or
// projected volume, a volume plugin's secretRef (azureFile, cephfs,
// cinder, csi, flexVolume, iscsi, rbd, scaleIO, storageos), and its
// containers' envFrom and env; Refused looks at every one.
//
// imagePullSecrets are Secrets like any other here: their content does
// not reach the container, but they are the namespace's registry
// credentials. The admin who wants upgrade Jobs to pull from a private
// registry adds the pull secret to the ServiceAccount's imagePullSecrets
// (the API server then adds it to every pod of that account), or allows
// it by name.
type CredentialPolicy struct {
	// secrets are the names of the Secrets a template may use, as given.
	secrets []string
}

// ParseCredentialPolicy parses a comma-separated list of the Secret names
// an upgrade Job's template may use; spaces around names and empty names
// are ignored. It refuses a name that is not a valid Secret name (there
// is no wildcard).
func ParseCredentialPolicy(allowedSecrets string) (CredentialPolicy, error) {
	var p CredentialPolicy
	for name := range strings.SplitSeq(allowedSecrets, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return CredentialPolicy{}, fmt.Errorf("allowed Secret %q is not a Secret name: %s", name, strings.Join(errs, "; "))
		}
		if !slices.Contains(p.secrets, name) {
			p.secrets = append(p.secrets, name)
		}
	}
	return p, nil
}

// String is the list of allowed Secrets, separated by commas.
func (p CredentialPolicy) String() string { return strings.Join(p.secrets, ",") }

// AllowsSecret reports whether a template may use the Secret name.
func (p CredentialPolicy) AllowsSecret(name string) bool { return slices.Contains(p.secrets, name) }

// Credential kinds of a RefusedCredential.
const (
	KindServiceAccount = "ServiceAccount"
	KindSecret         = "Secret"
)

// RefusedCredential is a credential of the Job namespace that a pod
// template uses and a CredentialPolicy does not allow.
type RefusedCredential struct {
	// Field is where the template names it, such as
	// spec.serviceAccountName or spec.volumes[1].secret.secretName.
	Field string
	// Kind is KindServiceAccount or KindSecret.
	Kind string
	// Name is the ServiceAccount's or the Secret's name.
	Name string
}

// Refused returns the credentials of the Job namespace that template uses
// and p does not allow: a ServiceAccount other than ServiceAccount
// (spec.serviceAccountName, and its deprecated alias spec.serviceAccount),
// then every Secret that p does not allow, in the order of the pod spec:
// imagePullSecrets, volumes, then the init containers', containers' and
// ephemeral containers' envFrom and env. A Secret named in several places
// is listed at each.
func (p CredentialPolicy) Refused(template *corev1.PodTemplateSpec) []RefusedCredential {
	if template == nil {
		return nil
	}
	spec := &template.Spec
	var out []RefusedCredential
	for _, sa := range []struct{ field, name string }{
		{"spec.serviceAccountName", spec.ServiceAccountName},
		{"spec.serviceAccount", spec.DeprecatedServiceAccount},
	} {
		if sa.name != "" && sa.name != ServiceAccount {
			out = append(out, RefusedCredential{Field: sa.field, Kind: KindServiceAccount, Name: sa.name})
		}
	}
	secret := func(field, name string) {
		if name != "" && !p.AllowsSecret(name) {
			out = append(out, RefusedCredential{Field: field, Kind: KindSecret, Name: name})
		}
	}
	for i, s := range spec.ImagePullSecrets {
		secret(fmt.Sprintf("spec.imagePullSecrets[%d].name", i), s.Name)
	}
	for i := range spec.Volumes {
		volumeSecrets(fmt.Sprintf("spec.volumes[%d]", i), &spec.Volumes[i].VolumeSource, secret)
	}
	containers := func(kind string, cs []corev1.Container) {
		for i := range cs {
			containerSecrets(fmt.Sprintf("spec.%s[%d]", kind, i), &cs[i], secret)
		}
	}
	containers("initContainers", spec.InitContainers)
	containers("containers", spec.Containers)
	for i := range spec.EphemeralContainers {
		c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
		containerSecrets(fmt.Sprintf("spec.ephemeralContainers[%d]", i), &c, secret)
	}
	return out
}

// volumeSecrets calls secret with the field and name of every Secret that
// a volume at path uses.
func volumeSecrets(path string, v *corev1.VolumeSource, secret func(field, name string)) {
	ref := func(field string, r *corev1.LocalObjectReference) {
		if r != nil {
			secret(path+"."+field+".name", r.Name)
		}
	}
	// Each source on its own: the API server refuses a volume with
	// two, but this check runs before it judges the template.
	if v.Secret != nil {
		secret(path+".secret.secretName", v.Secret.SecretName)
	}
	if v.Projected != nil {
		for j, src := range v.Projected.Sources {
			if src.Secret != nil {
				secret(fmt.Sprintf("%s.projected.sources[%d].secret.name", path, j), src.Secret.Name)
			}
		}
	}
	if v.AzureFile != nil {
		secret(path+".azureFile.secretName", v.AzureFile.SecretName)
	}
	if v.CephFS != nil {
		ref("cephfs.secretRef", v.CephFS.SecretRef)
	}
	if v.Cinder != nil {
		ref("cinder.secretRef", v.Cinder.SecretRef)
	}
	if v.CSI != nil {
		ref("csi.nodePublishSecretRef", v.CSI.NodePublishSecretRef)
	}
	if v.FlexVolume != nil {
		ref("flexVolume.secretRef", v.FlexVolume.SecretRef)
	}
	if v.ISCSI != nil {
		ref("iscsi.secretRef", v.ISCSI.SecretRef)
	}
	if v.RBD != nil {
		ref("rbd.secretRef", v.RBD.SecretRef)
	}
	if v.ScaleIO != nil {
		ref("scaleIO.secretRef", v.ScaleIO.SecretRef)
	}
	if v.StorageOS != nil {
		ref("storageos.secretRef", v.StorageOS.SecretRef)
	}
}

// containerSecrets calls secret with the field and name of every Secret
// that the container at path reads into its environment.
func containerSecrets(path string, c *corev1.Container, secret func(field, name string)) {
	for k, from := range c.EnvFrom {
		if from.SecretRef != nil {
			secret(fmt.Sprintf("%s.envFrom[%d].secretRef.name", path, k), from.SecretRef.Name)
		}
	}
	for k, env := range c.Env {
		if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil {
			secret(fmt.Sprintf("%s.env[%d].valueFrom.secretKeyRef.name", path, k), env.ValueFrom.SecretKeyRef.Name)
		}
	}
}
