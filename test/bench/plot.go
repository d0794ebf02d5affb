package main

import (
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotRun draws nodes in flight and nodes upgraded over time, one point
// per 250 ms from the first cordon, to a PNG or SVG (by the path's ending).
func plotRun(path, title string, spans []span, maxUnavailable int) error {
	if len(spans) == 0 {
		return nil
	}
	first, last := spans[0].Start, spans[0].End
	for _, s := range spans {
		first, last = minTime(first, s.Start), maxTime(last, s.End)
	}
	var inFlight, upgraded, budget plotter.XYs
	for t := first; !t.After(last.Add(250 * time.Millisecond)); t = t.Add(250 * time.Millisecond) {
		f, u := counts(spans, t)
		x := t.Sub(first).Seconds()
		inFlight = append(inFlight, plotter.XY{X: x, Y: float64(f)})
		upgraded = append(upgraded, plotter.XY{X: x, Y: float64(u)})
		budget = append(budget, plotter.XY{X: x, Y: float64(maxUnavailable)})
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds since the first cordon"
	p.Y.Label.Text = "nodes"
	p.Add(plotter.NewGrid())
	for _, series := range []struct {
		name string
		xys  plotter.XYs
		dash bool
		n    int
	}{{"upgraded", upgraded, false, 0}, {"in flight", inFlight, false, 1}, {"maxUnavailable", budget, true, 2}} {
		line, err := plotter.NewLine(series.xys)
		if err != nil {
			return err
		}
		line.Color = plotColors[series.n]
		line.Width = vg.Points(1.5)
		if series.dash {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(line)
		p.Legend.Add(series.name, line)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return p.Save(8*vg.Inch, 4*vg.Inch, path)
}

// plotColors: upgraded, in flight, the budget.
var plotColors = []color.Color{
	color.RGBA{R: 0x1b, G: 0x9e, B: 0x77, A: 0xff},
	color.RGBA{R: 0xd9, G: 0x5f, B: 0x02, A: 0xff},
	color.RGBA{R: 0x75, G: 0x70, B: 0xb3, A: 0xff},
}
