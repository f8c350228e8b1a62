# The seed document's examples with Python `requests`: plain and streaming /generate.
import json
import os

import requests

URL = os.environ.get("URL", "http://localhost:30000")

response = requests.post(
    f"{URL}/generate",
    json={"text": "The capital of France is", "sampling_params": {"temperature": 0, "max_new_tokens": 32}},
)
print(response.json())

response = requests.post(
    f"{URL}/generate",
    json={"text": "The capital of France is", "sampling_params": {"temperature": 0, "max_new_tokens": 32}, "stream": True},
    stream=True,
)
prev = 0
for chunk in response.iter_lines(decode_unicode=False):
    chunk = chunk.decode("utf-8")
    if chunk and chunk.startswith("data:"):
        if chunk == "data: [DONE]":
            break
        data = json.loads(chunk[5:].strip("\n"))
        output = data["text"]
        print(output[prev:], end="", flush=True)
        prev = len(output)
print("")
