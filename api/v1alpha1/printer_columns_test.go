package v1alpha1_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// The printer columns as kubectl shows them: the API server fills the
// table from the CRD's additionalPrinterColumns.
var _ = Describe("kubectl get clusterupgrades", func() {
	It("shows FAILED and IN-FLIGHT with -o wide only, from status.failedNodes and status.upgradingNodes", func(ctx SpecContext) {
		u := validObject("columns")
		Expect(env.Client.Create(ctx, u)).To(Succeed())
		cu := &upgradev1alpha1.ClusterUpgrade{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Name: "columns"}, cu)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(env.Client.Delete(ctx, cu)).To(Succeed()) })
		cu.Status.TotalNodes = 40
		cu.Status.UpgradedNodes = 11
		cu.Status.UpgradingNodes = 3
		cu.Status.FailedNodes = 2
		cu.Status.PendingNodes = 24
		cu.Status.Phase = upgradev1alpha1.PhaseProgressing
		Expect(env.Client.Status().Update(ctx, cu)).To(Succeed())

		get := func(args ...string) map[string]string {
			out, msg, err := kubectl(append([]string{"get", "cu", "columns"}, args...)...)
			Expect(err).NotTo(HaveOccurred(), "kubectl get: %s", msg)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			Expect(lines).To(HaveLen(2), "%s", out)
			return tableRow(lines[0], lines[1])
		}

		wide := get("-o", "wide")
		Expect(wide).To(HaveKeyWithValue("FAILED", "2"))
		Expect(wide).To(HaveKeyWithValue("IN-FLIGHT", "3"))
		Expect(wide).To(HaveKeyWithValue("UPGRADED", "11"))
		Expect(wide).To(HaveKeyWithValue("TOTAL", "40"))

		narrow := get()
		Expect(narrow).NotTo(HaveKey("FAILED"))
		Expect(narrow).NotTo(HaveKey("IN-FLIGHT"))
		Expect(narrow).To(HaveKeyWithValue("PHASE", "Progressing"))
	})
})

// tableRow reads one row of kubectl's table by the header's column
// positions (a cell may be empty), as header name to cell.
func tableRow(header, row string) map[string]string {
	var starts []int
	for i := range header {
		if header[i] != ' ' && (i == 0 || header[i-1] == ' ') {
			starts = append(starts, i)
		}
	}
	columns := map[string]string{}
	for n, start := range starts {
		end := max(len(header), len(row))
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		cell := ""
		if start < len(row) {
			cell = strings.TrimSpace(row[start:min(end, len(row))])
		}
		columns[strings.TrimSpace(header[start:min(end, len(header))])] = cell
	}
	return columns
}
