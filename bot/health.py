"""What a load balancer or an orchestrator asks a worker, next to its webhook:

- GET /healthz: the process is alive and its event loop answers (liveness);
- GET /readyz: it takes updates: the database answers and it is not shutting down
  (readiness; 503 otherwise, so that the proxy sends updates elsewhere).
"""

from __future__ import annotations

import asyncio
import logging

import tornado.web
from sqlalchemy import text

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0  # seconds the database has to answer


class Alive(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "alive"})


class Ready(tornado.web.RequestHandler):
    def initialize(self, db, stopping: asyncio.Event):
        self.db, self.stopping = db, stopping

    async def get(self):
        if self.stopping.is_set():
            self.set_status(503)
            self.write({"status": "stopping"})
            return
        try:
            await asyncio.wait_for(self.db.run(_ping, self.db.engine), READY_TIMEOUT)
        except Exception as exc:
            log.warning("not ready: the database does not answer: %s", type(exc).__name__)
            self.set_status(503)
            self.write({"status": "database unavailable"})
            return
        self.write({"status": "ready"})


def _ping(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def routes(db, stopping: asyncio.Event) -> list:
    """The two endpoints, for the worker's tornado application."""
    return [(r"/healthz", Alive), (r"/readyz", Ready, {"db": db, "stopping": stopping})]
