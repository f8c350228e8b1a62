#!/bin/sh
# /generate with an image: IMAGE=photo.png ./curl.sh (the image goes as a base64 data URI).
# For a Qwen2-VL Hugging Face model use its placeholder instead of the generic marker:
#   <|vision_start|><|image_pad|><|vision_end|>
curl -s "${URL:-http://localhost:30000}/generate" -H 'Content-Type: application/json' -d "{
  \"text\": \"<__media__>\\nDescribe this image in a very short sentence.\",
  \"image_data\": \"data:image/png;base64,$(base64 -w0 "${IMAGE:?set IMAGE=file.png}")\",
  \"sampling_params\": {\"temperature\": 0, \"max_new_tokens\": 32}}"
echo
