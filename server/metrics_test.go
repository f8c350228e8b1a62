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
	// 16 pages of 4 tokens, 2 running at most: 6 long requests queue and fill the pool
	ts := start(t, opts{cfg: Config{EnableMetrics: true}, pages: 16, maxRunning: 2})
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
	if labels["page_size"] != "4" || labels["num_pages"] != "16" || labels["model_name"] != "tiny" {
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
			ts.post(t, "/generate", fmt.Sprintf(`{"text": "story %d", "sampling_params": {"max_new_tokens": 40, "ignore_eos": true}}`, i))
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var maxQueue, maxUsage, maxRunning float64
	for busy := true; busy; {
		select {
		case <-done:
			busy = false
		default:
		}
		f := ts.scrape(t)
		maxQueue = max(maxQueue, gauge(t, f, "sglang:num_queue_reqs"))
		maxUsage = max(maxUsage, gauge(t, f, "sglang:token_usage"))
		maxRunning = max(maxRunning, gauge(t, f, "sglang:num_running_reqs"))
		time.Sleep(time.Millisecond)
	}
	if maxQueue < 1 || maxRunning > 2 || maxRunning < 1 || maxUsage != 1 {
		t.Fatalf("under load: queue up to %v, running up to %v, token_usage up to %v", maxQueue, maxRunning, maxUsage)
	}
	ts.idle(t)
	f := ts.scrape(t)
	if q, r, u := gauge(t, f, "sglang:num_queue_reqs"), gauge(t, f, "sglang:num_running_reqs"), gauge(t, f, "sglang:token_usage"); q != 0 ||
		r != float64(ts.eng.Stats().Running.Load()) || r != 0 || u != 0 {
		t.Fatalf("settled: queue %v running %v (engine %d) token_usage %v", q, r, ts.eng.Stats().Running.Load(), u)
	}
}
