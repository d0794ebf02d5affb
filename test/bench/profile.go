package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
)

// saveProfile fetches one of the manager's pprof profiles (for example
// "heap", or "profile?seconds=60" for CPU) into path, for
// `go tool pprof -top <manager binary> <path>`.
func saveProfile(ctx context.Context, addr, profile, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/%s", addr, profile), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %s", profile, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
