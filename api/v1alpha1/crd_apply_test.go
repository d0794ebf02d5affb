package v1alpha1_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewave/nodewave/internal/testenv"
)

// A plain `kubectl apply -f` (client-side apply) writes the whole object
// into its kubectl.kubernetes.io/last-applied-configuration annotation, and
// the API server refuses more than 262,144 bytes of annotations: the CRD
// must fit in it, or users and GitOps tools need server-side apply.
var _ = Describe("the CRD", func() {
	It("applies with a plain client-side kubectl apply -f", func(ctx SpecContext) {
		crdFile := filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "upgrade.nodewave.io_clusterupgrades.yaml")
		for range 2 { // the first apply adds the annotation, the second compares with it
			out, msg, err := kubectl("apply", "-f", crdFile)
			Expect(err).NotTo(HaveOccurred(), "kubectl apply -f: %s%s", out, msg)
		}
		crd := &metav1.PartialObjectMetadata{}
		crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
		Expect(env.Client.Get(ctx, client.ObjectKey{Name: "clusterupgrades.upgrade.nodewave.io"}, crd)).To(Succeed())
		Expect(crd.Annotations).To(HaveKey("kubectl.kubernetes.io/last-applied-configuration"))
	})
})
