package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape parses /metrics with Prometheus' own text parser.
func (ts *testServer) scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	code, b := ts.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

func gauge(t testing.TB, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil || f.GetType() != dto.MetricType_GAUGE || len(f.Metric) != 1 {
		t.Fatalf("%s: not one gauge: %v", name, f)
	}
	return f.Metric[0].GetGauge().GetValue()
}

// TestMetricsProtocol checks what the Gateway API Inference Extension's
// endpoint picker reads: names and types, queue depth rising under load,
// running requests bounded by --max-running-requests and equal to the
// engine's when settled, KV usage 0 when idle and 1.0 at exhaustion, and
// the cache geometry.
func TestMetricsProtocol(t *testing.T) {
	// 2 running at most: 6 long requests queue
	ts := start(t, opts{cfg: Config{EnableMetrics: true}, pages: 128, maxRunning: 2})
	fams := ts.scrape(t)
	for name, typ := range map[string]dto.MetricType{
		"sglang:num_queue_reqs": dto.MetricType_GAUGE, "sglang:num_running_reqs": dto.MetricType_GAUGE,
		"sglang:token_usage": dto.MetricType_GAUGE, "sglang:cache_config_info": dto.MetricType_GAUGE,
		"sglang:num_requests_total": dto.MetricType_COUNTER, "sglang:time_to_first_token_seconds": dto.MetricType_HISTOGRAM,
		"go_goroutines": dto.MetricType_GAUGE,
	} {
		if f := fams[name]; f == nil || f.GetType() != typ {
			t.Errorf("%s: want a %v, got %v", name, typ, f)
		}
	}
	labels := map[string]string{}
	for _, l := range fams["sglang:cache_config_info"].Metric[0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["page_size"] != "4" || labels["num_pages"] != "128" || labels["model_name"] != "tiny" {
		t.Fatalf("cache_config_info labels %v", labels)
	}
	if u := gauge(t, fams, "sglang:token_usage"); u != 0 {
		t.Fatalf("idle token_usage %v", u)
	}

	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts.post(t, "/generate", fmt.Sprintf(`{"text": "story %d", "sampling_params": {"max_new_tokens": 200, "ignore_eos": true}}`, i))
		}()
	}
	maxQueue, maxRunning := poll(t, ts, &wg, "sglang:num_queue_reqs", "sglang:num_running_reqs")
	if maxQueue < 1 || maxRunning > 2 || maxRunning < 1 {
		t.Fatalf("under load: queue up to %v, running up to %v", maxQueue, maxRunning)
	}
	ts.idle(t)
	f := ts.scrape(t)
	if q, r, u := gauge(t, f, "sglang:num_queue_reqs"), gauge(t, f, "sglang:num_running_reqs"), gauge(t, f, "sglang:token_usage"); q != 0 ||
		r != float64(ts.eng.Stats().Running.Load()) || r != 0 || u != 0 {
		t.Fatalf("settled: queue %v running %v (engine %d) token_usage %v", q, r, ts.eng.Stats().Running.Load(), u)
	}

	// Exhaustion: 2 pages of 256 tokens; a 260-token prompt takes both and
	// decodes 240 tokens inside them, so token_usage reads 1.0 for 240 steps.
	full := start(t, opts{cfg: Config{EnableMetrics: true}, pages: 2, pageSize: 256})
	var one sync.WaitGroup
	one.Add(1)
	go func() {
		defer one.Done()
		full.post(t, "/generate", `{"input_ids": [`+strings.TrimSuffix(strings.Repeat("7, ", 260), ", ")+`], "sampling_params": {"max_new_tokens": 240, "ignore_eos": true}}`)
	}()
	if usage, _ := poll(t, full, &one, "sglang:token_usage", "sglang:num_running_reqs"); usage != 1 {
		t.Fatalf("token_usage peaked at %v with the cache exhausted", usage)
	}
}

// poll scrapes until wg is done and returns the largest values of two gauges.
func poll(t *testing.T, ts *testServer, wg *sync.WaitGroup, a, b string) (maxA, maxB float64) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		f := ts.scrape(t)
		maxA, maxB = max(maxA, gauge(t, f, a)), max(maxB, gauge(t, f, b))
		select {
		case <-done:
			return maxA, maxB
		case <-time.After(time.Millisecond):
		}
	}
}
