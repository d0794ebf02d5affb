// Command pause is the sandbox container of the real nodes' pods: it holds
// the pod's namespaces open, reaps the children that other containers of a
// pod sharing its PID namespace leave behind, and exits on SIGINT or
// SIGTERM; with -v it prints its name and exits, which kubeadm's upgrade
// health check Job relies on. It does what Kubernetes' own pause (a C
// program, build/pause) does; ours is built from source with the Go toolchain, because no
// registry is reachable to pull registry.k8s.io/pause.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && strings.EqualFold(os.Args[1], "-v") {
		fmt.Println("pause (nodewave, hack/ociimage/pause)")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
