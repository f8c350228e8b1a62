package main

import (
	"os"
	"runtime"
	"strings"

	"github.com/sightline/sightline/llm/tensor"
)

// device describes one compute device for /get_server_info.
type device struct {
	Kind     string `json:"kind"` // "cpu" or "gpu"
	Name     string `json:"name"`
	Threads  int    `json:"threads,omitempty"`
	Backend  string `json:"backend,omitempty"`
	MemoryMB uint64 `json:"memory_mb,omitempty"`
}

// detectDevices lists GPUs found through NVML (cgo builds with a driver)
// and the CPU the backend runs on. It never fails.
func detectDevices(be tensor.Backend) []device {
	devs := gpuDevices()
	name := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if i := strings.Index(line, ":"); i >= 0 {
					name = strings.TrimSpace(line[i+1:])
				}
				break
			}
		}
	}
	return append(devs, device{Kind: "cpu", Name: name, Threads: runtime.NumCPU(), Backend: be.Name()})
}
