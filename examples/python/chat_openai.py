# OpenAI's Python client against Sightline: chat (plain and streamed) and completions.
# pip install openai
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ.get("URL", "http://localhost:30000") + "/v1", api_key=os.environ.get("API_KEY", "none"))

chat = client.chat.completions.create(
    model="default",
    messages=[{"role": "user", "content": "Tell me a short story."}],
    max_tokens=48,
    temperature=0,
)
print(chat.choices[0].message.content)

for chunk in client.chat.completions.create(
    model="default", messages=[{"role": "user", "content": "Count to five."}], max_tokens=32, stream=True
):
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()

completion = client.completions.create(model="default", prompt="Once upon a time", max_tokens=32, temperature=0)
print(completion.choices[0].text)
