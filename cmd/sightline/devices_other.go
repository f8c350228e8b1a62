//go:build !cgo || !linux

package main

// gpuDevices: NVML needs cgo on Linux; elsewhere no GPU is reported.
func gpuDevices() []device { return nil }
