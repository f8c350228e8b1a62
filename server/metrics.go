package server

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sightline/sightline/encoders"
)

// metrics are SGLang's Prometheus series (docs/api.md §8), on a registry of
// their own so several servers (tests) can coexist.
type metrics struct {
	reg      *prometheus.Registry
	requests prometheus.Counter
	ttft     prometheus.Histogram
	itl      prometheus.Histogram
	tpot     prometheus.Histogram
	e2e      prometheus.Histogram
}

func newMetrics(model string, eng Engine, emb *encoders.Cache) *metrics {
	labels := prometheus.Labels{"model_name": model, "engine_type": "unified"}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{reg: reg}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Name: "sglang:" + name, Help: help, ConstLabels: labels}
	}
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		o := opts(name, help)
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: o.Name, Help: o.Help, ConstLabels: labels, Buckets: buckets})
	}
	st := eng.Stats()
	m.requests = prometheus.NewCounter(prometheus.CounterOpts(opts("num_requests_total", "Requests received.")))
	lat := []float64{0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 60}
	m.ttft = hist("time_to_first_token_seconds", "Time to first token.", lat)
	m.itl = hist("inter_token_latency_seconds", "Time between output tokens.", lat)
	m.tpot = hist("time_per_output_token_seconds", "Time per output token (older name of inter_token_latency_seconds).", lat)
	m.e2e = hist("e2e_request_latency_seconds", "End-to-end request latency.", lat)
	ratio := func(num, den float64) float64 {
		if den <= 0 {
			return 0
		}
		return num / den
	}
	reg.MustRegister(m.requests, m.ttft, m.itl, m.tpot, m.e2e,
		prometheus.NewCounterFunc(prometheus.CounterOpts(opts("prompt_tokens_total", "Prompt tokens processed.")),
			func() float64 { return float64(st.PromptTokens.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts(opts("generation_tokens_total", "Tokens generated.")),
			func() float64 { return float64(st.GenTokens.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("num_running_reqs", "Running requests.")),
			func() float64 { return float64(st.Running.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("num_queue_reqs", "Queued requests.")),
			func() float64 { return float64(st.Waiting.Load() + st.Submitted.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("num_used_tokens", "KV slots held by running and queued requests (pages × page size); evictable prefix-cache pages are not counted.")),
			func() float64 { return float64(st.UsedTokens.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("token_usage", "Fraction of the KV pool held by running and queued requests (evictable prefix-cache pages are free).")),
			func() float64 { return ratio(float64(st.UsedTokens.Load()), float64(eng.Capacity())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(prometheus.Opts{Name: "sightline:prefix_cache_evictable_tokens",
			Help: "KV slots only the prefix cache holds (reusable, evicted on demand).", ConstLabels: labels}),
			func() float64 { return float64(st.CachedOnlyTokens.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("gen_throughput", "Recent generation throughput (tokens/s).")),
			func() float64 { return math.Float64frombits(st.LastGenThroughput.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("cache_hit_rate", "Prompt tokens served from the prefix cache / prompt tokens.")),
			func() float64 { return ratio(float64(st.CachedTokens.Load()), float64(st.PromptTokens.Load())) }),
	)
	// the KV cache's geometry, for prefix-aware routers (vLLM's cache_config_info shape)
	pages := st.TotalPages.Load()
	pageSize := int64(0)
	if pages > 0 {
		pageSize = int64(eng.Capacity()) / pages
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "sglang:cache_config_info",
		Help: "KV cache configuration (value 1): page size, pages, capacity in tokens.",
		ConstLabels: prometheus.Labels{"model_name": model, "engine_type": "unified", "page_size": fmt.Sprint(pageSize),
			"block_size": fmt.Sprint(pageSize), "num_pages": fmt.Sprint(pages), "max_total_num_tokens": fmt.Sprint(eng.Capacity())}})
	info.Set(1)
	reg.MustRegister(info)
	if emb != nil {
		stat := func(pick func(hits, misses, bytes int) int) func() float64 {
			return func() float64 { return float64(pick(emb.Stats())) }
		}
		o := func(name, help string) prometheus.Opts {
			return prometheus.Opts{Name: "sightline:" + name, Help: help, ConstLabels: labels}
		}
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts(o("mm_embedding_cache_hits_total", "Media spans whose embeddings came from the cache.")),
				stat(func(h, _, _ int) int { return h })),
			prometheus.NewCounterFunc(prometheus.CounterOpts(o("mm_embedding_cache_misses_total", "Media spans that had to be encoded.")),
				stat(func(_, m, _ int) int { return m })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts(o("mm_embedding_cache_bytes", "Bytes of embeddings cached.")),
				stat(func(_, _, b int) int { return b })),
		)
	}
	return m
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// tracker observes one output's latencies.
type tracker struct {
	m     *metrics
	start time.Time
	last  time.Time
	first bool
}

func (m *metrics) track() *tracker {
	m.requests.Inc()
	return &tracker{m: m, start: time.Now()}
}

// tokens records n new tokens arriving now.
func (t *tracker) tokens(n int) {
	if n == 0 {
		return
	}
	now := time.Now()
	if !t.first {
		t.first = true
		t.m.ttft.Observe(now.Sub(t.start).Seconds())
	} else {
		per := now.Sub(t.last).Seconds() / float64(n)
		for i := 0; i < n; i++ {
			t.m.itl.Observe(per)
			t.m.tpot.Observe(per)
		}
	}
	t.last = now
}

func (t *tracker) done() { t.m.e2e.Observe(time.Since(t.start).Seconds()) }
