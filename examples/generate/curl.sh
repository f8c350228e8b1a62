#!/bin/sh
# The seed document's /generate request.
curl -s "${URL:-http://localhost:30000}/generate" \
  -H 'Content-Type: application/json' \
  -d '{"text": "The capital of France is", "sampling_params": {"temperature": 0, "max_new_tokens": 32}}'
echo
