package main

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/nodewave/nodewave/internal/metrics"
)

// stateColors are the colours of the dashboard's "Nodes by state" panel,
// in the order of metrics.States.
var stateColors = []color.Color{
	color.RGBA{R: 0x8e, G: 0x8e, B: 0x8e, A: 0xff}, // pending
	color.RGBA{R: 0xe0, G: 0xb4, B: 0x00, A: 0xff}, // cordoned
	color.RGBA{R: 0xff, G: 0x78, B: 0x0a, A: 0xff}, // draining
	color.RGBA{R: 0x1f, G: 0x60, B: 0xc4, A: 0xff}, // upgrading
	color.RGBA{R: 0x8f, G: 0x3b, B: 0xb8, A: 0xff}, // verifying
	color.RGBA{R: 0x37, G: 0x87, B: 0x2d, A: 0xff}, // upgraded
	color.RGBA{R: 0xc4, G: 0x16, B: 0x2a, A: 0xff}, // failed
	color.RGBA{R: 0x70, G: 0x10, B: 0x10, A: 0xff}, // blocked
	color.RGBA{R: 0xc4, G: 0xc4, B: 0xc4, A: 0xff}, // skipped
}

var (
	steps       = []string{metrics.StepDrain, metrics.StepUpgrade, metrics.StepVerify}
	stepColors  = []color.Color{stateColors[2], stateColors[3], stateColors[4]}
	results     = []string{metrics.EvictionEvicted, metrics.EvictionBlocked, metrics.EvictionError, metrics.EvictionDeleted}
	resultColor = []color.Color{stateColors[5], stateColors[2], stateColors[6], stateColors[4]}
)

// plotTimeline draws, from the scrapes of a run, three panels of the
// Grafana dashboard one above the other: nodes by state, the p50 and p90
// of each step's duration (histogram_quantile of the buckets so far), and
// the evictions by result. A PNG.
func plotTimeline(path, title string, samples []metricsSample) error {
	if len(samples) == 0 {
		return nil
	}
	nodes := timePlot(title+": nodes by state (nodewave_nodes)", "nodes")
	for i, state := range metrics.States {
		if err := addLine(nodes, state, stateColors[i], false, samples, func(s metricsSample) float64 {
			if len(s.Nodes) == 0 {
				return math.NaN() // before the first reconcile: no series yet
			}
			return s.Nodes[state]
		}); err != nil {
			return err
		}
	}

	stepPlot := timePlot("step duration, p50 solid and p90 dashed (nodewave_node_upgrade_duration_seconds)", "seconds")
	for i, step := range steps {
		for _, q := range []float64{0.5, 0.9} {
			name := fmt.Sprintf("%s p%.0f", step, q*100)
			if err := addLine(stepPlot, name, stepColors[i], q == 0.9, samples, func(s metricsSample) float64 {
				return quantile(q, s.Steps[step])
			}); err != nil {
				return err
			}
		}
	}

	evictions := timePlot("evictions by result, cumulative (nodewave_evictions_total)", "evictions")
	for i, result := range results {
		if err := addLine(evictions, result, resultColor[i], false, samples, func(s metricsSample) float64 {
			return s.Evictions[result]
		}); err != nil {
			return err
		}
	}
	evictions.X.Label.Text = "seconds since the ClusterUpgrade was created"

	rows := [][]*plot.Plot{{nodes}, {stepPlot}, {evictions}}
	end := samples[len(samples)-1].At.Seconds()
	for _, r := range rows {
		r[0].X.Min, r[0].X.Max = 0, end
		r[0].Y.Max *= 1.4 // room for the legend above the lines
	}
	return saveTiles(path, rows, 8*vg.Inch, 9*vg.Inch)
}

func timePlot(title, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	return p
}

// addLine plots value over the samples' times; a series that is zero or
// undefined throughout is left out, as Grafana hides an empty series.
func addLine(p *plot.Plot, name string, c color.Color, dashed bool, samples []metricsSample, value func(metricsSample) float64) error {
	var xys plotter.XYs
	for _, s := range samples {
		if v := value(s); !math.IsNaN(v) {
			xys = append(xys, plotter.XY{X: s.At.Seconds(), Y: v})
		}
	}
	if !slices.ContainsFunc(xys, func(xy plotter.XY) bool { return xy.Y != 0 }) {
		return nil
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	line.Color = c
	line.Width = vg.Points(1.5)
	if dashed {
		line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(line)
	p.Legend.Add(name, line)
	return nil
}
