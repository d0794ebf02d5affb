package controller

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

// TestPassTraceLogsOnlySlowPasses: a pass slower than the threshold logs
// each step with its own duration and what it did; a fast one logs
// nothing.
func TestPassTraceLogsOnlySlowPasses(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})

	trace := newPassTrace()
	trace.step("observed", "%d nodes", 3)
	time.Sleep(20 * time.Millisecond)
	trace.step("status written", "")
	trace.logIfSlow(log, time.Hour)
	if len(lines) != 0 {
		t.Fatalf("a fast pass logged %q", lines)
	}

	trace.logIfSlow(log, 10*time.Millisecond)
	if len(lines) != 1 {
		t.Fatalf("a slow pass logged %d lines, want 1: %q", len(lines), lines)
	}
	if !strings.Contains(lines[0], `"msg"="slow reconcile pass"`) ||
		!regexp.MustCompile(`"steps"="observed [0-9]+m?s \(3 nodes\), status written [0-9]+ms"`).MatchString(lines[0]) {
		t.Errorf("the log line %s does not give each step, its duration and what it did", lines[0])
	}
}
