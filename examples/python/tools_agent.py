"""A tool-calling agent loop with the official `openai` package.

Serve a model that calls tools, with its parser, then run this script:

    sightline serve --model-path Qwen2.5-7B-Instruct --tool-call-parser qwen25
    python examples/python/tools_agent.py [--url http://localhost:30000] [--tool-choice required]

The model is offered a get_weather function; every call it makes is run
locally and the result sent back, until the model answers in text.
"""

import argparse
import json

from openai import OpenAI

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather of a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "enum": ["Paris", "Rome", "Tokyo"]}},
                "required": ["city"],
            },
        },
    }
]


def get_weather(city: str) -> dict:
    return {"city": city, "temp_c": {"Paris": 21, "Rome": 26, "Tokyo": 18}.get(city)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://localhost:30000")
    ap.add_argument("--prompt", default="What is the weather in Paris?")
    ap.add_argument("--tool-choice", default="auto", choices=["auto", "required"])
    args = ap.parse_args()

    client = OpenAI(base_url=args.url + "/v1", api_key="none")
    messages = [{"role": "user", "content": args.prompt}]
    for turn in range(4):
        resp = client.chat.completions.create(
            model="default",
            messages=messages,
            tools=TOOLS,
            tool_choice=args.tool_choice if turn == 0 else "auto",
            max_tokens=256,
            temperature=0,
        )
        choice = resp.choices[0]
        messages.append(choice.message.model_dump(exclude_none=True))
        if choice.finish_reason != "tool_calls":
            reasoning = getattr(choice.message, "reasoning_content", None)
            if reasoning:
                print("reasoning:", reasoning)
            print("answer:", choice.message.content)
            return
        for call in choice.message.tool_calls:
            result = get_weather(**json.loads(call.function.arguments))
            print(f"call {call.function.name}({call.function.arguments}) -> {result}")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    raise SystemExit("no answer after 4 turns")


if __name__ == "__main__":
    main()
