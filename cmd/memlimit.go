package main

import (
	"log/slog"
	"math"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// memoryLimitRatio is the share of the container's memory limit that the
// Go runtime's soft memory limit (GOMEMLIMIT) is set to: the rest is for
// what the runtime does not count, above all the binary's own pages (46
// MiB resident, measured: RssFile of the manager after a run, 18% of the
// Deployment's 256 MiB), and for the time the collector needs to catch
// up. At 90% the heap at its soft limit and the binary together came to
// 259 MiB at 5,000 nodes, over the container's limit.
const memoryLimitRatio = 0.75

// setMemoryLimit sets the Go runtime's soft memory limit to
// memoryLimitRatio of the container's memory limit, read from its cgroup
// (v1 or v2) by provider (memlimit.FromCgroup in the manager). Without
// it the collector lets the heap grow to twice what is live before it
// runs, so a manager well within its limit in live memory would still be
// OOM-killed at the Deployment's 256 MiB: at 5,000 nodes its RSS reached
// 269 MiB. A GOMEMLIMIT set in the environment wins (AUTOMEMLIMIT=off
// turns this off). It returns the limit set, or 0 when there is none.
func setMemoryLimit(log logr.Logger, provider memlimit.Provider) int64 {
	limit, err := memlimit.Set(memlimit.WithRatio(memoryLimitRatio), memlimit.WithProvider(provider),
		memlimit.WithLogger(slog.New(logr.ToSlogHandler(log))))
	if err != nil || limit == math.MaxInt64 {
		return 0 // logged by memlimit
	}
	return limit
}
