package main

import (
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// TestMemoryLimitFromTheContainer: under the Deployment's 256 MiB limit the
// Go runtime's soft limit is 75% of it; GOMEMLIMIT in the environment wins;
// no limit sets none.
func TestMemoryLimitFromTheContainer(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	const mib = 1 << 20
	if got, want := setMemoryLimit(logr.Discard(), memlimit.Limit(256*mib)), int64(256*mib*3/4); got != want {
		t.Fatalf("under a 256 MiB limit: set %d, want %d", got, want)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(256*mib*3/4); got != want {
		t.Fatalf("the runtime's limit is %d, want %d", got, want)
	}

	debug.SetMemoryLimit(before)
	if got := setMemoryLimit(logr.Discard(), func() (uint64, error) { return 0, memlimit.ErrNoLimit }); got != 0 {
		t.Fatalf("without a limit: set %d, want none", got)
	}

	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(100 * mib) // as the runtime did at start
	if got := setMemoryLimit(logr.Discard(), memlimit.Limit(256*mib)); got != 100*mib {
		t.Fatalf("with GOMEMLIMIT=100MiB: %d, want it kept", got)
	}
}
