package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
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
	inFlight := f.InFlightNodes
	if cp := f.ControlPlane; cp != nil {
		fmt.Fprintf(&b, "Control plane first (spec.controlPlane): %d %s, one at a time; the workers start once every one is at the target\n",
			cp.Selected, plural(cp.Selected, "node"))
		fmt.Fprintf(&b, "Control-plane nodes now: %d pending, %d in flight, %d upgraded, %d failed, %d skipped\n",
			cp.Pending, cp.InFlight, cp.Upgraded, cp.Failed, cp.Skipped)
		fmt.Fprintf(&b, "Worker nodes now: %d pending, %d in flight, %d upgraded, %d failed, %d skipped\n",
			f.Pending, f.InFlight, f.Upgraded, f.Failed, f.Skipped)
		b.WriteString("Order: the control-plane nodes, then the workers; each zone by zone (nodes without a zone first), then by name\n")
		inFlight = append(slices.Clone(cp.InFlightNodes), inFlight...)
	} else {
		fmt.Fprintf(&b, "Nodes now: %d pending, %d in flight, %d upgraded, %d failed, %d skipped\n",
			f.Pending, f.InFlight, f.Upgraded, f.Failed, f.Skipped)
		b.WriteString("Order: zone by zone (nodes without a zone first), then by name\n")
	}
	if len(inFlight) > 0 {
		fmt.Fprintf(&b, "In flight now: %s (wave 1 takes the slots they leave free, or starts when they finish)\n",
			nameList(inFlight, wide))
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

// budgetLine says the strategy and what it resolves to: over the
// workers alone, with spec.controlPlane.
func budgetLine(f forecast.Forecast) string {
	what := "selected"
	if f.ControlPlane != nil {
		what = "worker"
	}
	if f.Strategy != upgradev1alpha1.ConcurrentStrategy {
		return fmt.Sprintf("Sequential: 1 of %d %s %s at a time", f.Selected, what, plural(f.Selected, "node"))
	}
	return fmt.Sprintf("Concurrent: up to %d of %d %s %s unavailable at once", f.MaxUnavailable, f.Selected, what, plural(f.Selected, "node"))
}

// printWaves writes the waves as a table and says how many there are.
// With spec.controlPlane a ROLE column tells the control plane's waves
// from the workers'.
func printWaves(w io.Writer, f forecast.Forecast, wide bool) error {
	cp := f.ControlPlane
	if f.TotalWaves == 0 {
		pending, inFlight := f.Pending, f.InFlight
		if cp != nil {
			pending, inFlight = pending+cp.Pending, inFlight+cp.InFlight
		}
		msg := "No wave: no node can start (see the blockers).\n"
		switch {
		case pending == 0 && inFlight == 0:
			msg = "No wave: every selected node is done.\n"
		case len(f.NeverStarted) == 0:
			msg = "No wave: nothing is left to start beyond the nodes in flight.\n"
		}
		_, err := io.WriteString(w, msg)
		return err
	}
	rows := []string{"WAVE\tNODES\tZONES\tNAMES"}
	if cp != nil {
		rows[0] = "WAVE\tROLE\tNODES\tZONES\tNAMES"
	}
	for _, wave := range f.Waves {
		zones := make([]string, len(wave.Zones))
		for i, z := range wave.Zones {
			zones[i] = dash(z)
		}
		number := strconv.Itoa(wave.Number)
		if cp != nil {
			number += "\t" + map[bool]string{true: "control-plane", false: "worker"}[wave.ControlPlane]
		}
		rows = append(rows, fmt.Sprintf("%s\t%d\t%s\t%s", number, len(wave.Nodes), strings.Join(zones, ","), nameList(wave.Nodes, wide)))
	}
	if err := writeTable(w, rows); err != nil {
		return err
	}
	shown := ""
	if len(f.Waves) < f.TotalWaves {
		shown = fmt.Sprintf(", the first %d shown (--waves)", len(f.Waves))
	}
	if _, err := fmt.Fprintf(w, "%d %s in all%s. A wave starts once the wave before it has finished; the upgrade itself\n"+
		"refills a slot as soon as its node is done, so later waves overlap.\n",
		f.TotalWaves, plural(f.TotalWaves, "wave"), shown); err != nil {
		return err
	}
	if cp == nil || cp.Waves == 0 {
		return nil
	}
	which := fmt.Sprintf("Waves 1 to %d are the control plane's, one node each", cp.Waves)
	if cp.Waves == 1 {
		which = "Wave 1 is the control plane's"
	}
	_, err := fmt.Fprintf(w, "%s; the workers' waves start once every control-plane node is at the target.\n", which)
	return err
}

// nameList joins names, at most namesPerWave of them unless wide.
func nameList(names []string, wide bool) string {
	if wide || len(names) <= namesPerWave {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:namesPerWave], ", ") + fmt.Sprintf(" and %d more", len(names)-namesPerWave)
}
