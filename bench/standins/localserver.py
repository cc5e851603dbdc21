"""An aiohttp server on 127.0.0.1 in its own thread, for the fake platforms of the WeCom
and DingTalk tests: a subclass adds its routes in `routes(app)`."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class LocalServer:
    def __init__(self):
        self._cond = threading.Condition()  # notified whenever the fake records something
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        assert self._ready.wait(10), "the fake server did not start"
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        self.routes(app)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def run(self, coroutine, timeout: float = 10):
        """Run a coroutine on the server's loop, from the test's thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)
