"""The log lines of the servers (`serve`, `web`, `wecom`, `dingtalk`): text for a terminal,
or one JSON object a line for a log collector (`--log-format json`). Either way the token never appears (TokenFilter),
and nothing at INFO carries what a user typed: the code logs ids, never answers."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket

from bot.delivery import WORKER_ENV  # the worker's name, as in the outbox leases


class JsonFormatter(logging.Formatter):
    def __init__(self):
        super().__init__()
        self.worker = os.environ.get(WORKER_ENV) or f"{socket.gethostname()}:{os.getpid()}"

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 "worker": self.worker}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
