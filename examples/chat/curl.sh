#!/bin/sh
# OpenAI chat completion; with IMAGE=photo.png an image part is attached (vision models).
URL=${URL:-http://localhost:30000}
if [ -n "$IMAGE" ]; then
  PART="{\"type\": \"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,$(base64 -w0 "$IMAGE")\"}},"
fi
curl -s "$URL/v1/chat/completions" -H 'Content-Type: application/json' -d "{
  \"model\": \"default\",
  \"messages\": [{\"role\": \"user\", \"content\": [$PART {\"type\": \"text\", \"text\": \"Describe this image in one sentence.\"}]}],
  \"max_tokens\": 48, \"temperature\": 0}"
echo
