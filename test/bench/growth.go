package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// growth reads the results of runs at several sizes (their JSON files)
// and prints, in one Markdown table, how each cost grows with the nodes,
// and plots it (bin/bench -growth a.json,b.json,c.json).
func growth(files []string, plotPath string) error {
	var runs []*result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		r := &result{}
		if err := json.Unmarshal(b, r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b *result) int { return a.Nodes - b.Nodes })
	fmt.Print(growthTable(runs))
	return plotGrowth(plotPath, runs)
}

// growthMetrics are the table's rows and the plot's panels.
var growthMetrics = []struct {
	name, unit string
	value      func(*result) float64
}{
	{"manager peak RSS", "MiB", func(r *result) float64 { return r.PeakRSSMiB }},
	{"manager CPU per upgraded node", "ms", func(r *result) float64 { return ms(r.CPUPerNode) }},
	{"API requests per node, evictions apart", "requests", func(r *result) float64 { return r.RequestsPerNodeTotal }},
	{"reconcile p99", "ms", func(r *result) float64 { return ms(r.ReconcileP99) }},
	{"handoff p99", "ms", func(r *result) float64 { return ms(r.HandoffP99) }},
	{"makespan / lower bound", "ratio", func(r *result) float64 { return r.Ratio }},
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func growthTable(runs []*result) string {
	var b strings.Builder
	b.WriteString("| |")
	for _, r := range runs {
		fmt.Fprintf(&b, " %d nodes, %d pods |", r.Nodes, r.Pods)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(runs)) + "\n")
	for _, m := range growthMetrics {
		fmt.Fprintf(&b, "| %s (%s) |", m.name, m.unit)
		for _, r := range runs {
			fmt.Fprintf(&b, " %.4g |", m.value(r))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// plotGrowth draws one panel per metric against the nodes (log scale).
func plotGrowth(path string, runs []*result) error {
	var rows [][]*plot.Plot
	for i, m := range growthMetrics {
		p := plot.New()
		p.Title.Text = m.name
		p.X.Label.Text = "nodes"
		p.Y.Label.Text = m.unit
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.ConstantTicks(nodeTicks(runs))
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		xys := make(plotter.XYs, 0, len(runs))
		for _, r := range runs {
			xys = append(xys, plotter.XY{X: float64(r.Nodes), Y: m.value(r)})
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		line.Color, points.Color = plotColors[1], plotColors[1]
		line.Width = vg.Points(1.5)
		p.Add(line, points)
		if i%2 == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], p)
	}
	return saveTiles(path, rows, 9*vg.Inch, 9*vg.Inch)
}

func nodeTicks(runs []*result) []plot.Tick {
	ticks := make([]plot.Tick, 0, len(runs))
	for _, r := range runs {
		ticks = append(ticks, plot.Tick{Value: float64(r.Nodes), Label: fmt.Sprint(r.Nodes)})
	}
	return ticks
}

// saveTiles draws rows of plots, aligned, to a PNG.
func saveTiles(path string, rows [][]*plot.Plot, width, height vg.Length) error {
	img := vgimg.New(width, height)
	tiles := draw.Tiles{Rows: len(rows), Cols: len(rows[0]), PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadX: vg.Points(10), PadY: vg.Points(10)}
	for i, cs := range plot.Align(rows, tiles, draw.New(img)) {
		for j := range cs {
			rows[i][j].Draw(cs[j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
