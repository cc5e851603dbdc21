"""What a load balancer or an orchestrator asks a worker, next to its webhook or its page:

- GET /healthz: the process is alive and its event loop answers (liveness);
- GET /readyz: it takes requests: the database answers and it is not shutting down
  (readiness; 503 otherwise, so that the proxy sends requests elsewhere).

`readiness` is the one check; `routes` serves it from a tornado application
(`clusterbot serve`), bot/web.py from its Starlette app (`clusterbot web`).
"""

from __future__ import annotations

import asyncio
import logging

import tornado.web
from sqlalchemy import text

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0  # seconds the database has to answer
ALIVE = {"status": "alive"}


async def readiness(db, stopping: asyncio.Event) -> tuple[int, dict]:
    """The status code and body of /readyz."""
    if stopping.is_set():
        return 503, {"status": "stopping"}
    try:
        await asyncio.wait_for(db.run(_ping, db.engine), READY_TIMEOUT)
    except Exception as exc:
        log.warning("not ready: the database does not answer: %s", type(exc).__name__)
        return 503, {"status": "database unavailable"}
    return 200, {"status": "ready"}


class Alive(tornado.web.RequestHandler):
    def get(self):
        self.write(ALIVE)


class Ready(tornado.web.RequestHandler):
    def initialize(self, db, stopping: asyncio.Event):
        self.db, self.stopping = db, stopping

    async def get(self):
        status, body = await readiness(self.db, self.stopping)
        self.set_status(status)
        self.write(body)


def _ping(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def routes(db, stopping: asyncio.Event) -> list:
    """The two endpoints, for the worker's tornado application."""
    return [(r"/healthz", Alive), (r"/readyz", Ready, {"db": db, "stopping": stopping})]
