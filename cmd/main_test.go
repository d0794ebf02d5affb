package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLeaderElectionFlagsCheck(t *testing.T) {
	s := time.Second
	tests := []struct {
		name                string
		lease, renew, retry time.Duration
		wantErr             bool
	}{
		{"controller-runtime's defaults", defaultLeaseDuration, defaultRenewDeadline, defaultRetryPeriod, false},
		{"longer, consistent", 60 * s, 40 * s, 5 * s, false},
		{"lease not longer than renew", 10 * s, 10 * s, 2 * s, true},
		{"renew not longer than 1.2 retries", 15 * s, 12 * s, 10 * s, true},
		{"renew just longer than 1.2 retries", 15 * s, 12*s + time.Millisecond, 10 * s, false},
		{"zero retry", 15 * s, 10 * s, 0, true},
		{"negative lease", -15 * s, 10 * s, 2 * s, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := leaderElectionFlags{leaseDuration: tt.lease, renewDeadline: tt.renew, retryPeriod: tt.retry}.check()
			if (err != nil) != tt.wantErr {
				t.Errorf("check() = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

// TestManagerEmbedsTimeZones checks that the manager links the time zone
// database: its distroless image has no zoneinfo, and spec.window.timeZone
// is read with time.LoadLocation.
func TestManagerEmbedsTimeZones(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if !slices.Contains(strings.Fields(string(out)), "time/tzdata") {
		t.Fatal("the manager does not import time/tzdata: LoadLocation fails in an image without zoneinfo")
	}
}
