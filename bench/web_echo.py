"""The floor of bench/web_bench.py: the web chat's shape without the product — a Starlette
app under uvicorn whose /send puts the typed text back on the page's server-sent event
stream. No dialog, no database.

    .venv/bin/python bench/web_echo.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

pages: dict[str, asyncio.Queue] = {}


async def events(request):
    queue = pages.setdefault(request.query_params["user"], asyncio.Queue())

    async def stream():
        yield ": open\n\n"
        while True:
            yield f"data: {json.dumps(await queue.get(), ensure_ascii=False)}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


async def send(request):
    data = await request.json()
    await pages[request.query_params["user"]].put({"text": data["text"], "kind": "question"})
    return JSONResponse({"lang": "zh"})


app = Starlette(routes=[Route("/events", events), Route("/send", send, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", timeout_graceful_shutdown=1)
