//go:build cgo && linux

package main

import "github.com/NVIDIA/go-nvml/pkg/nvml"

// gpuDevices asks NVML for GPUs; without a driver (libnvidia-ml missing)
// Init fails and there are none.
func gpuDevices() []device {
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		return nil
	}
	defer nvml.Shutdown()
	n, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil
	}
	var out []device
	for i := 0; i < n; i++ {
		d, ret := nvml.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		name, _ := d.GetName()
		mem, ret := d.GetMemoryInfo()
		dev := device{Kind: "gpu", Name: name}
		if ret == nvml.SUCCESS {
			dev.MemoryMB = mem.Total >> 20
		}
		out = append(out, dev)
	}
	return out
}
