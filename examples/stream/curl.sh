#!/bin/sh
# Streaming /generate: server-sent events, cumulative text per frame, then data: [DONE].
curl -sN "${URL:-http://localhost:30000}/generate" \
  -H 'Content-Type: application/json' \
  -d '{"text": "The capital of France is", "sampling_params": {"temperature": 0, "max_new_tokens": 32}, "stream": true}'
