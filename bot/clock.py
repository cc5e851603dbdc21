"""The product's one notion of 'now': Asia/Shanghai. Code that depends on time takes a
clock, so tests (and the reminder scheduler's tests) can move time."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """The real clock. `CLUSTERBOT_FAKE_NOW` (ISO time, Asia/Shanghai) starts it at another
    moment from which it runs on: how end-to-end tests run a whole process in the future."""

    def __init__(self, start: dt.datetime | None = None):
        fake = os.environ.get("CLUSTERBOT_FAKE_NOW")
        if start is None and fake:
            start = dt.datetime.fromisoformat(fake)
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=SHANGHAI)
        self._offset = (start - dt.datetime.now(SHANGHAI)) if start else dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(SHANGHAI) + self._offset

    def today(self) -> dt.date:
        return self.now().date()


class ManualClock(Clock):
    """A clock that stands still until moved: for tests."""

    def __init__(self, start: dt.datetime):
        self._now = start if start.tzinfo else start.replace(tzinfo=SHANGHAI)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)

    def advance(self, **delta) -> None:
        self._now += dt.timedelta(**delta)
