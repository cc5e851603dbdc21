"""Three `clusterbot web` processes behind one proxy on one PostgreSQL database give the same
results as one: nine browser sessions (a cookie each, plain HTTP) hold their pages' event
streams on one process and post their messages to the other two, in turn; one process is
killed with SIGKILL mid-run and its pages reconnect to another. Every message is answered
once, in order per user, and each user's deadline reminder arrives, by whichever process
holds the page; a reply is repeated only when it was on its way at the kill (counted)."""

from __future__ import annotations

import re
import threading
import time

from sqlmodel import select

from bench.standins.workers import Page, WebWorker
from bot.web import session_key
from dialogs.messages import Reply
from storage import outbox, repo
from storage.db import make_engine, session
from storage.models import OutboxMessage, User

USERS, PAIRS = 9, 4            # each user: /track, then PAIRS × two /new posted back to back
TURNS = 1 + 2 * PAIRS
# Certified nationally on 2024-06-01: the 30-day reminder of the annual report due 2027-04-30
# falls due at 09:00, a few seconds after the processes start.
NOW = "2027-03-31T08:59:57"
WAIT = 60                      # seconds any one condition may take (a killed process's lease is 15 s)
TRACKED = re.compile(r"已开始跟踪 #1「跟踪(\d+)」")
CREATED = re.compile(r"已创建集群「网页(\d+)-(\d+)」")
REMINDED = re.compile(r"期限提醒：#1「跟踪(\d+)」")


class Browser(Page):
    """A page of the test: what its replies say."""

    def turns(self) -> list[int]:
        """The turns answered, in the order their replies arrived (0: /track, then the /new)."""
        seen = []
        for text in list(self.texts):
            if TRACKED.search(text):
                seen.append(0)
            seen += [1 + int(m.group(2)) for m in CREATED.finditer(text)]
        return seen

    def reminders(self) -> int:
        return sum(1 for text in list(self.texts) if REMINDED.search(text))


def converse(browser: Browser) -> None:
    """/track, then the /new in pairs posted back to back (each to another process: the
    second's reply must still come after the first's), waiting for both before the next."""
    i = browser.i
    browser.say(f"/track 跟踪{i} national 2024-06-01", "t", 0)
    browser.wait_for(lambda b: 0 in b.turns(), "the /track answered")
    for pair in range(PAIRS):
        for k in (2 * pair, 2 * pair + 1):
            browser.say(f"/new 网页{i}-{k}", f"n{k}", k)
        browser.wait_for(lambda b: 2 * pair + 2 in b.turns(), f"pair {pair} answered")


def test_three_web_workers_one_database_a_kill_and_reconnected_pages(postgres, tmp_path):
    db_url = postgres.database()
    key_file = tmp_path / "keys" / "web-session.key"  # created by the three at once
    workers = [WebWorker(f"web{n}", db_url, key_file, tmp_path / f"web{n}.log", "--reminder-interval", "0.5",
                         env={"CLUSTERBOT_FAKE_NOW": NOW}) for n in range(3)]
    changed = threading.Condition()
    browsers: list[Browser] = []
    try:
        for worker in workers:
            worker.launch()
        for worker in workers:
            worker.ready(WAIT)
            assert worker.get("/readyz") == (200, {"status": "ready"})
            assert worker.get("/healthz") == (200, {"status": "alive"})
        browsers = [Browser(i, workers, i % 3, changed, WAIT) for i in range(USERS)]
        for browser in browsers:
            browser.wait_for(lambda b: b.holder is not None, "the page's stream open")
        errors: list[BaseException] = []

        def talk(browser: Browser) -> None:
            try:
                converse(browser)
            except BaseException as exc:  # reported by the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=talk, args=(b,), name=f"user {b.i}") for b in browsers]
        for thread in threads:
            thread.start()
        with changed:  # mid-run: a third of the turns answered
            assert changed.wait_for(lambda: sum(len(set(b.turns())) for b in browsers) >= USERS * TURNS // 3, WAIT)
        killed = [b.i for b in browsers if b.holder is workers[0]]
        workers[0].kill()
        for thread in threads:
            thread.join(WAIT * TURNS)
        assert not errors, errors
        for browser in browsers:
            browser.wait_for(lambda b: b.reminders() >= 1, "the reminder")
        engine = make_engine(db_url)
        deadline = time.monotonic() + WAIT
        while True:  # the outbox drained: nothing more will be sent
            with session(engine) as s:
                if outbox.unfinished_count(s) == 0:
                    break
            assert time.monotonic() < deadline, "the outbox did not drain"
            time.sleep(0.2)
        with session(engine) as s:  # each reply was handed only to a process holding its page
            assert s.exec(select(OutboxMessage.error).where(OutboxMessage.error.is_not(None))).all() == []
        for browser in browsers:
            browser.closing = True
        assert [w.stop() for w in workers[1:]] == [0, 0]  # SIGTERM: a clean stop
    finally:
        for worker in workers:
            worker.kill()
    repeated = {b.i: (len(b.turns()) - len(set(b.turns())), b.reminders() - 1) for b in browsers}
    print(f"\n3 web workers, {USERS} users × {TURNS} turns; the pages of users {killed} were on the killed "
          f"process; repeated (replies, reminders) per user: {repeated}")
    for browser in browsers:
        assert list(dict.fromkeys(browser.turns())) == list(range(TURNS)), (browser.i, browser.texts)
        assert browser.reminders() >= 1
        if browser.i not in killed:
            assert repeated[browser.i] == (0, 0), (browser.i, browser.texts)
    assert all(browsers[i].streams >= 2 for i in killed)  # reconnected to another process
    # Repeated: only what the killed process had written to a page and not yet marked sent.
    assert sum(a + b for a, b in repeated.values()) <= 2 * len(killed)
    with session(make_engine(db_url)) as s:  # each message handled once: one profile per /new
        users = s.exec(select(User).where(User.channel == "web")).all()
        assert len(users) == USERS
        assert all(len(repo.user_profiles(s, user)) == 2 * PAIRS for user in users)
    for worker in workers:
        assert "Traceback" not in worker.log.read_text(errors="replace"), worker.log.read_text(errors="replace")


# --- the parts, on their own ---------------------------------------------------------------------

def test_a_sender_claims_only_the_chats_among_those_it_can_reach(db_url):
    engine = make_engine(db_url)
    with session(engine) as s:
        ids = {chat: outbox.enqueue(s, "web", chat, Reply(chat).to_json()).id for chat in ("a", "b", "c")}
        s.commit()
    with session(engine) as s:
        assert [r.id for r in outbox.claim(s, "w1", ["web"], among=["a", "c"])] == [ids["a"], ids["c"]]
        assert outbox.claim(s, "w2", ["web"], among=[]) == []
        assert [r.id for r in outbox.claim(s, "w2", ["web"], among=["a", "b"])] == [ids["b"]]  # a is w1's


def test_processes_starting_together_agree_on_one_cookie_key(tmp_path):
    path = tmp_path / "keys" / "web-session.key"
    start = threading.Barrier(8)
    keys = []

    def first_start():
        start.wait()
        keys.append(session_key(path))

    threads = [threading.Thread(target=first_start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(keys) == 8 and len(set(keys)) == 1 and keys[0] == path.read_text()
    assert list(path.parent.iterdir()) == [path] and path.stat().st_mode & 0o777 == 0o600


def test_the_listening_connection_opens_with_a_password_libpq_urls_cannot_hold(postgres):
    """A password with a space (percent-encoded in --db): the engine opened, and the LISTEN
    connection, made from the URL rendered again, was refused by libpq every second for ever."""
    import asyncio
    import uuid
    from urllib.parse import quote

    import psycopg
    from sqlalchemy import create_engine

    from bot.web import listen_params

    role, password = f"r_{uuid.uuid4().hex[:8]}", "p@ss w+rd:/#%?é"
    postgres._admin(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    engine = create_engine(f"postgresql+psycopg://{role}:{quote(password, safe='')}@127.0.0.1:{postgres.port}/postgres")
    try:
        params = listen_params(engine)
        assert params["password"] == password

        async def listen() -> int:
            async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as connection:
                await connection.execute("LISTEN clusterbot_web")
                return (await (await connection.execute("SELECT 1")).fetchone())[0]

        assert asyncio.run(listen()) == 1
    finally:
        engine.dispose()
        postgres._admin(f"DROP ROLE {role}")


def test_a_database_gone_is_a_clear_answer_to_every_request_never_a_500(postgres, postgres_template, tmp_path):
    """The database dropped under a running worker (as a server gone): a malformed or too long
    message is refused as always, in the browser's language (the user's own is in the database);
    a page's stream reconnecting with its last event is told to come back (503), and its
    reminder sweep is one log line, and so is its stop: no 500, no traceback."""
    import json

    import httpx

    from locales import t
    from tests.test_web import sse_events

    db_url = postgres.database(template=postgres_template)
    worker = WebWorker("gone", db_url, tmp_path / "web.key", tmp_path / "gone.log", "--reminder-interval", "0.2")
    try:
        worker.start(WAIT)
        with httpx.Client(base_url=worker.base, headers={"Accept-Language": "en-GB,en"}, timeout=15) as client:
            client.get("/")
            with client.stream("GET", "/events") as stream:
                client.post("/send", json={"text": "/new Gone cluster"})
                last, _ = next(sse_events(stream.iter_lines()))
            postgres.drop(db_url)

            def answer(method, path, **kw):
                with httpx.Client(base_url=worker.base, headers={"Accept-Language": "en-GB,en"}, timeout=15,
                                  cookies=client.cookies) as fresh:  # a new connection each
                    response = fresh.request(method, path, **kw)
                    return response.status_code, json.loads(response.text).get("error")

            assert answer("POST", "/send", content=b"not json") == (400, t("en", "web.bad_request"))
            assert answer("POST", "/send", json={"text": "x" * 20000}) == (413, t("en", "dialog.too_long"))
            assert answer("POST", "/upload", content=b"x") == (400, t("en", "web.bad_upload", limit=5))
            assert answer("GET", f"/events?last={last}") == (503, t("en", "web.unavailable"))
            assert answer("POST", "/send", json={"text": "/list"})[0] == 503  # said not saved, as before
            with client.stream("GET", "/events") as stream:  # a page's first stream: its chat swept
                assert stream.status_code == 200
                deadline = time.monotonic() + WAIT
                while "the database refuses writes" not in worker.log.read_text(errors="replace"):
                    assert time.monotonic() < deadline, "the sweep's failure was not logged"
                    time.sleep(0.05)
                assert worker.stop() == 0  # SIGTERM: its marks and leases cannot be written, said in a line
    finally:
        worker.kill()
    log = worker.log.read_text(errors="replace")
    # an answer's status as uvicorn logs it ("POST /send HTTP/1.1" 500), not any " 500": a
    # PostgreSQL on port 50091 is named in the log's lines on the database gone
    assert "Traceback" not in log and not re.search(r'HTTP/[0-9.]+" 500\b', log), log


def test_listening_while_the_database_is_gone_is_one_log_line(postgres, postgres_template, monkeypatch, caplog):
    """The LISTEN connection is tried again every second while the database is gone: a
    warning each time was 3,600 lines an hour per worker; it is said once, as the scheduler's
    jobs say it, until it works again."""
    import asyncio
    import logging

    import psycopg

    from bot import web
    from bot.clock import Clock

    db_url = postgres.database(template=postgres_template)
    chat = web.WebChat(make_engine(db_url), Clock(), "k" * 43)
    postgres.drop(db_url)
    monkeypatch.setattr(web, "LISTEN_RETRY", 0.01)
    tries = []
    connect = psycopg.AsyncConnection.connect

    async def counted(*args, **kwargs):  # the real connect, counted
        tries.append(1)
        return await connect(*args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", counted)

    async def listen_a_while():
        task = asyncio.create_task(chat.listen())
        while len(tries) < 5 and not task.done():
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with caplog.at_level(logging.WARNING):
        asyncio.run(listen_a_while())
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(tries) >= 5 and len(said) == 1 and "web notifications" in said[0], said
    chat.db.executor.shutdown()
