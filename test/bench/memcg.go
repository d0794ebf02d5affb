package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// memoryCgroup is a cgroup with a memory limit for the manager to run in,
// as its Deployment's container does (config/manager: limits.memory): the
// manager sets its Go memory limit from it (cmd/memlimit.go), and the
// kernel ends it if it goes over. The bench's own cgroup is its parent.
type memoryCgroup struct {
	dir   string // the cgroup's directory
	procs string // the file a process joins it by
}

// newMemoryCgroup makes a cgroup named name under the bench's own, limited
// to limit bytes: cgroup v2 (memory.max) where /sys/fs/cgroup is the
// unified hierarchy, else v1's memory controller (memory.limit_in_bytes).
func newMemoryCgroup(name string, limit int64) (*memoryCgroup, error) {
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	v2, v1 := ownCgroups(own)
	var dir, limitFile string
	switch {
	case fileExists("/sys/fs/cgroup/cgroup.controllers") && v2 != "":
		dir, limitFile = filepath.Join("/sys/fs/cgroup", v2, name), "memory.max"
	case v1 != "" && fileExists("/sys/fs/cgroup/memory"):
		dir, limitFile = filepath.Join("/sys/fs/cgroup/memory", v1, name), "memory.limit_in_bytes"
	default:
		return nil, errors.New("no cgroup memory controller found")
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return nil, err
	}
	c := &memoryCgroup{dir: dir, procs: filepath.Join(dir, "cgroup.procs")}
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		_ = c.remove()
		return nil, fmt.Errorf("setting %s: %w", limitFile, err)
	}
	return c, nil
}

// ownCgroups reads /proc/self/cgroup: the unified (v2) path and the v1
// memory controller's path, each empty if absent.
func ownCgroups(data []byte) (v2, v1memory string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			v1memory = parts[2]
		}
	}
	return v2, v1memory
}

// wrap makes cmd join the cgroup before its program starts: a shell
// writes its own pid into the cgroup, then execs the program (same pid).
func (c *memoryCgroup) wrap(cmd *exec.Cmd) {
	args := append([]string{"sh", "-c", `echo $$ > "$0" && exec "$@"`, c.procs, cmd.Path}, cmd.Args[1:]...)
	cmd.Path, cmd.Args = "/bin/sh", args
}

// remove deletes the cgroup once no process is left in it.
func (c *memoryCgroup) remove() error { return os.Remove(c.dir) }

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// deploymentMemoryLimit is the manager container's memory limit in
// config/manager/manager.yaml (a test keeps them the same).
const deploymentMemoryLimit = "256Mi"
