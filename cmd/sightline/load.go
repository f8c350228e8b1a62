package main

import (
	"flag"

	"github.com/sightline/sightline/launch"
)

// computeFlags select the compute backend (every model command takes them).
type computeFlags struct {
	backend string
	threads int
	level   string
}

func (c *computeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.backend, "backend", launch.DefaultBackend(), "compute backend: cpu (C kernels, needs cgo) or ref (pure Go)")
	fs.IntVar(&c.threads, "threads", 0, "compute threads (0: one per CPU)")
	fs.StringVar(&c.level, "cpu-level", "", "CPU kernel level: avx512, avx2, scalar (default: best supported)")
}
