package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// build compiles the pause command into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pause")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// kubeadm's upgrade health check runs the pause image with -v and waits
// for its Job to complete.
func TestVersionFlagExits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, build(t), "-v").Output()
	if err != nil {
		t.Fatalf("pause -v did not exit 0 within 5 s: %v", err)
	}
	if !strings.HasPrefix(string(out), "pause") {
		t.Errorf("pause -v printed %q, want a line starting with pause", out)
	}
}

func TestRunsUntilTERM(t *testing.T) {
	cmd := exec.Command(build(t))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("pause exited by itself: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("pause exited with %v on SIGTERM, want 0", err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Signal(os.Kill)
		t.Fatal("pause did not exit on SIGTERM")
	}
}
