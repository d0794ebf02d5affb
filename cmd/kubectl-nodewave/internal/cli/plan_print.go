package cli

import (
	"fmt"
	"io"
	"strings"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/forecast"
)

// namesPerWave is how many node names a wave's row lists before "and N
// more", unless the output is wide.
const namesPerWave = 6

// printPlan writes the forecast for people: a header, the waves, the
// blockers, the notes, and what the capacity check leaves out.
func printPlan(w io.Writer, f forecast.Forecast, source string, wide bool) error {
	var b strings.Builder
	header := "ClusterUpgrade " + f.Name
	if source != "" {
		header += " (" + source + ")"
	}
	fmt.Fprintf(&b, "%s: target %s, %s\n", header, f.TargetVersion, budgetLine(f))
	fmt.Fprintf(&b, "Nodes now: %d pending, %d in flight, %d upgraded, %d failed, %d skipped\n",
		f.Pending, f.InFlight, f.Upgraded, f.Failed, f.Skipped)
	b.WriteString("Order: zone by zone (nodes without a zone first), then by name\n")
	if len(f.InFlightNodes) > 0 {
		fmt.Fprintf(&b, "In flight now: %s (wave 1 takes the slots they leave free, or starts when they finish)\n",
			nameList(f.InFlightNodes, wide))
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if err := printWaves(w, f, wide); err != nil {
		return err
	}

	b.Reset()
	for _, sev := range []forecast.Severity{forecast.Blocker, forecast.Note} {
		var lines []string
		for _, x := range f.Findings {
			if x.Severity == sev {
				lines = append(lines, fmt.Sprintf("  %s: %s\n", x.Subject, x.Message))
			}
		}
		title := map[forecast.Severity]string{forecast.Blocker: "Blockers", forecast.Note: "Notes"}[sev]
		if len(lines) == 0 {
			if sev == forecast.Blocker {
				b.WriteString("\nBlockers: none foreseen\n")
			}
			continue
		}
		fmt.Fprintf(&b, "\n%s (%d):\n%s", title, len(lines), strings.Join(lines, ""))
	}
	if f.Capacity.WaveSize > 0 {
		fmt.Fprintf(&b, "\nNote that %s.\n", forecast.CapacityCaveat)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// budgetLine says the strategy and what it resolves to.
func budgetLine(f forecast.Forecast) string {
	if f.Strategy != upgradev1alpha1.ConcurrentStrategy {
		return fmt.Sprintf("Sequential: 1 of %d selected %s at a time", f.Selected, plural(f.Selected, "node"))
	}
	return fmt.Sprintf("Concurrent: up to %d of %d selected %s unavailable at once", f.MaxUnavailable, f.Selected, plural(f.Selected, "node"))
}

// printWaves writes the waves as a table and says how many there are.
func printWaves(w io.Writer, f forecast.Forecast, wide bool) error {
	if f.TotalWaves == 0 {
		msg := "No wave: no node can start (see the blockers).\n"
		switch {
		case f.Pending == 0 && f.InFlight == 0:
			msg = "No wave: every selected node is done.\n"
		case len(f.NeverStarted) == 0:
			msg = "No wave: nothing is left to start beyond the nodes in flight.\n"
		}
		_, err := io.WriteString(w, msg)
		return err
	}
	rows := []string{"WAVE\tNODES\tZONES\tNAMES"}
	for _, wave := range f.Waves {
		zones := make([]string, len(wave.Zones))
		for i, z := range wave.Zones {
			zones[i] = dash(z)
		}
		rows = append(rows, fmt.Sprintf("%d\t%d\t%s\t%s", wave.Number, len(wave.Nodes), strings.Join(zones, ","), nameList(wave.Nodes, wide)))
	}
	if err := writeTable(w, rows); err != nil {
		return err
	}
	shown := ""
	if len(f.Waves) < f.TotalWaves {
		shown = fmt.Sprintf(", the first %d shown (--waves)", len(f.Waves))
	}
	_, err := fmt.Fprintf(w, "%d %s in all%s. A wave starts once the wave before it has finished; the upgrade itself\n"+
		"refills a slot as soon as its node is done, so later waves overlap.\n",
		f.TotalWaves, plural(f.TotalWaves, "wave"), shown)
	return err
}

// nameList joins names, at most namesPerWave of them unless wide.
func nameList(names []string, wide bool) string {
	if wide || len(names) <= namesPerWave {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:namesPerWave], ", ") + fmt.Sprintf(" and %d more", len(names)-namesPerWave)
}
