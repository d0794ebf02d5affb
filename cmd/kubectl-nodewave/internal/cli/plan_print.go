package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

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
	order := cmp.Or(f.Order, forecast.DefaultOrder)
	if cp := f.ControlPlane; cp != nil {
		fmt.Fprintf(&b, "Control plane first (spec.controlPlane): %d %s, one at a time; the workers start once every one is at the target\n",
			cp.Selected, plural(cp.Selected, "node"))
		fmt.Fprintf(&b, "Control-plane nodes now: %d pending, %d in flight, %d upgraded, %d failed, %d skipped\n",
			cp.Pending, cp.InFlight, cp.Upgraded, cp.Failed, cp.Skipped)
		fmt.Fprintf(&b, "Worker nodes now: %d pending, %d in flight, %d upgraded, %d failed, %d skipped\n",
			f.Pending, f.InFlight, f.Upgraded, f.Failed, f.Skipped)
		fmt.Fprintf(&b, "Order: the control-plane nodes, then the workers; each %s\n", order)
		inFlight = append(slices.Clone(cp.InFlightNodes), inFlight...)
	} else {
		fmt.Fprintf(&b, "Nodes now: %d pending, %d in flight, %d upgraded, %d failed, %d skipped\n",
			f.Pending, f.InFlight, f.Upgraded, f.Failed, f.Skipped)
		fmt.Fprintf(&b, "Order: %s\n", order)
	}
	for _, g := range f.Gates {
		fmt.Fprintf(&b, "Gate before each start (spec.health): %s\n", g)
	}
	for _, h := range f.Hooks {
		fmt.Fprintf(&b, "Hook: %s\n", h)
	}
	if c := f.Canary; c != nil {
		b.WriteString(canaryLine(f, c))
		if now := canaryNow(c, wide); now != "" && f.Pending > 0 {
			fmt.Fprintf(&b, "Canary now: %s\n", now)
		}
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

// canaryLine says what spec.strategy.canary does: its size, alone, then
// the holds before the rest.
func canaryLine(f forecast.Forecast, c *forecast.Canary) string {
	what := "selected"
	if f.ControlPlane != nil {
		what = "worker"
	}
	goes := "go"
	if c.Size == 1 {
		goes = "goes"
	}
	line := fmt.Sprintf("Canary (spec.strategy.canary): the first %d of the %d %s %s %s alone; "+
		"the rest start once every canary node is upgraded and has soaked %s",
		c.Size, f.Selected, what, plural(f.Selected, "node"), goes, c.SoakDuration.Duration)
	if c.Pause {
		line += ", and spec.strategy.canary.pause is false"
	}
	return line + "\n"
}

// canaryNow says where the canary stands now, once it has begun; "" before.
// printPlan prints it only while nodes are pending: with none left, the
// canary holds nothing.
func canaryNow(c *forecast.Canary, wide bool) string {
	nodes := nameList(c.Nodes, wide)
	switch {
	case c.Done:
		return "done: the rest have begun"
	case c.Hold == upgradev1alpha1.ReasonCanaryRunning:
		return fmt.Sprintf("running (CanaryRunning): %s started, not every one upgraded yet; the rest wait for them", nodes)
	case c.Hold == upgradev1alpha1.ReasonCanarySoaking && c.SoakUntil != nil:
		return fmt.Sprintf("soaking (CanarySoaking): %s upgraded, the last at %s; the rest start after its soak, at %s",
			nodes, c.LastUpgraded.Format(time.RFC3339), c.SoakUntil.Format(time.RFC3339))
	case c.Hold == upgradev1alpha1.ReasonCanarySoaking:
		return fmt.Sprintf("soaking (CanarySoaking): %s upgraded; the rest start after its soak", nodes)
	case c.Hold == upgradev1alpha1.ReasonCanaryPaused:
		return fmt.Sprintf("paused (CanaryPaused): %s upgraded and soaked; the rest wait for spec.strategy.canary.pause: false", nodes)
	case c.Hold == upgradev1alpha1.ReasonCanaryFailed:
		return fmt.Sprintf("failed (CanaryFailed): a canary node failed (%s started); the rest do not start (see the blockers)", nodes)
	case len(c.Nodes) == 0:
		return ""
	case c.SoakUntil != nil:
		return fmt.Sprintf("upgraded and soaked: %s; the rest start now", nodes)
	}
	return fmt.Sprintf("%d of %d started: %s; the canary's first wave starts the rest of it", len(c.Nodes), c.Size, nodes)
}

// printWaves writes the waves as a table and says how many there are.
// With spec.controlPlane or spec.strategy.canary a ROLE column tells the
// control plane's waves and the canary's from the workers', and with a
// canary a row for each of its holds (soak, pause) comes before the wave
// that waits it out.
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
	role := cp != nil || f.Canary != nil
	rows := []string{"WAVE\tNODES\tZONES\tNAMES"}
	if role {
		rows[0] = "WAVE\tROLE\tNODES\tZONES\tNAMES"
	}
	for _, wave := range f.Waves {
		for _, hold := range wave.WaitsFor {
			rows = append(rows, holdRow(f.Canary, hold))
		}
		zones := make([]string, len(wave.Zones))
		for i, z := range wave.Zones {
			zones[i] = dash(z)
		}
		number := strconv.Itoa(wave.Number)
		if role {
			switch {
			case wave.ControlPlane:
				number += "\tcontrol-plane"
			case wave.Canary:
				number += "\tcanary"
			default:
				number += "\tworker"
			}
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

// holdRow is the table row of one of the canary's holds (a Wave.WaitsFor
// reason) before the wave that waits it out: no wave, its kind in ROLE,
// what it waits for under NAMES.
func holdRow(c *forecast.Canary, hold string) string {
	kind, what, then := "hold", "the rest wait", ""
	switch hold {
	case upgradev1alpha1.ReasonCanarySoaking:
		kind = "soak"
		what = fmt.Sprintf("the rest wait %s once every canary node is upgraded", c.SoakDuration.Duration)
		if c.Hold == upgradev1alpha1.ReasonCanarySoaking && c.SoakUntil != nil {
			what = fmt.Sprintf("the rest wait for the canary's soak, until %s", c.SoakUntil.Format(time.RFC3339))
		}
	case upgradev1alpha1.ReasonCanaryPaused:
		kind = "pause"
		what, then = "the rest wait for spec.strategy.canary.pause: false", "; the waves below are what happens then"
	}
	return fmt.Sprintf("-\t%s\t-\t-\t%s (%s)%s", kind, what, hold, then)
}

// nameList joins names, at most namesPerWave of them unless wide.
func nameList(names []string, wide bool) string {
	if wide || len(names) <= namesPerWave {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:namesPerWave], ", ") + fmt.Sprintf(" and %d more", len(names)-namesPerWave)
}
