package v1alpha1_test

import (
	"io"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// kubectl runs the envtest kubectl (from KUBEBUILDER_ASSETS) against the
// suite's API server as a cluster admin, and returns what it printed on
// standard output and standard error.
func kubectl(args ...string) (stdout, stderr string, err error) {
	admin, err := env.AddUser(envtest.User{Name: "kubectl-admin", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	k, err := admin.Kubectl()
	Expect(err).NotTo(HaveOccurred())
	out, errOut, err := k.Run(args...)
	o, _ := io.ReadAll(out)
	e, _ := io.ReadAll(errOut)
	return string(o), string(e), err
}
