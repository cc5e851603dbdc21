"""How the databases in this folder were made: run from a checkout of main at ac038e8 (the
last schema made by create_all), e.g.

    git archive ac038e8 | tar -x -C /tmp/main && cd /tmp/main && \
        python /path/to/make.py sqlite:///legacy.db postgresql+psycopg://…/legacy

then `sqlite3 legacy.db .dump > sqlite.sql` and `pg_dump --inserts --no-owner … > postgresql.sql`.
A user answers three questions, tracks a certified cluster and has one reply in the outbox."""

import datetime as dt
import sys

from bot.clock import SHANGHAI, ManualClock
from dialogs.conversation import Conversation
from storage import repo
from storage.db import make_engine

for url in sys.argv[1:]:
    conversation = Conversation(make_engine(url), ManualClock(dt.datetime(2024, 6, 1, 10, tzinfo=SHANGHAI)),
                                channel="telegram")
    for update_id, text in enumerate(["/new 示例县机械集群", "全部", "确认", "1", "1", "/skip",
                                      "/track 示例县机械集群 national 2024-06-01"], start=1000):
        conversation.handle("4242", text=text, update_id=str(update_id), chat_id="4242",
                            deliver=lambda s, _user, replies: [repo.enqueue(s, "telegram", "4242", {"op": "send", "text": r.text})
                                                               for r in replies])
