package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// faultRecord is one row of docs/reliability.md: a fault the suite
// injected and what it saw. Each scenario records its rows after its
// assertions passed, so a row in the report is a fault that was survived.
type faultRecord struct {
	Fault, Injected, Expected, Observed, Invariants string
}

var (
	recordsMu sync.Mutex
	records   []faultRecord
)

// record adds a row to the reliability report.
func record(r faultRecord) {
	recordsMu.Lock()
	defer recordsMu.Unlock()
	records = append(records, r)
	GinkgoWriter.Printf("RELIABILITY %s: %s\n", r.Fault, r.Observed)
}

// standardInvariants is what the monitor checks in every scenario.
const standardInvariants = "budget; PDBs; evictions only; control plane untouched"

// writeReliabilityReport writes the rows as a Markdown table to
// $E2E_RELIABILITY_REPORT (default: nodewave-e2e-reliability.md in the temp
// directory, nodewave-real-reliability.md for the real tier), the source of
// docs/reliability.md's tables.
func writeReliabilityReport() {
	recordsMu.Lock()
	defer recordsMu.Unlock()
	if len(records) == 0 {
		return
	}
	path := os.Getenv("E2E_RELIABILITY_REPORT")
	if path == "" {
		path = filepath.Join(os.TempDir(), simName+"-reliability.md")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- test/e2e run of %s -->\n", time.Now().UTC().Format(time.RFC3339))
	b.WriteString("| fault | how injected | expected outcome | observed outcome | invariants checked |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, r := range records {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Fault, r.Injected, r.Expected, r.Observed, r.Invariants)
	}
	restarts := supervise.restartsSince(time.Time{})
	fmt.Fprintf(&b, "\nComponents of the simulated cluster that exited on their own and were started again by the suite's supervisor: %d\n", len(restarts))
	for _, r := range restarts {
		fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(r.String(), "\n", "\n  "))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		GinkgoWriter.Printf("writing %s: %v\n", path, err)
		return
	}
	GinkgoWriter.Printf("reliability report: %s\n%s", path, b.String())
}
