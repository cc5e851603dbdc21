"""The fake Bot API against the real python-telegram-bot stack (long polling and webhook).

Every wait has a timeout; the whole file runs in a few seconds (two tests sit out one
deliberate second each: a 429 retry_after and PTB's back-off after a 5xx in getUpdates).
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import aiohttp
import pytest
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bench.standins.fakebotapi import BotRunner, FakeBotApi, buttons

ALICE = 42

# PTB 22's own RetryAfter.__init__ reads the deprecated int-valued .retry_after.
pytestmark = pytest.mark.filterwarnings("ignore:.*attribute `retry_after`")


@pytest.fixture
def fake():
    with FakeBotApi() as server:
        yield server


# ---- a tiny bot ------------------------------------------------------------------------


async def send_with_retry(send, attempts: int = 3):
    """Await send(); on RetryAfter sleep as long as Telegram asks and try again."""
    for attempt in range(attempts):
        try:
            return await send()
        except RetryAfter as exc:
            if attempt == attempts - 1:
                raise
            # exc._retry_after is a timedelta; the public .retry_after warns in PTB 22.
            await asyncio.sleep(exc._retry_after.total_seconds())


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: greet by name (escaped: user text) and offer two buttons."""
    name = html.escape(update.effective_user.first_name)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Yes", callback_data="yes"),
          InlineKeyboardButton("No", callback_data="no")]]
    )
    await update.effective_message.reply_html(f"Hello <b>{name}</b>. Ready?",
                                              reply_markup=keyboard)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button: answer the query (stops the client's spinner), then edit the message."""
    query = update.callback_query
    if query.data not in ("yes", "no"):
        await query.answer("Unknown button", show_alert=True)
        return
    await query.answer(f"You chose {query.data}")
    await query.edit_message_text(f"You chose {query.data}.")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the text back, riding out flood control."""
    context.bot_data.setdefault("seen", []).append(update.update_id)
    chat_id, text = update.effective_chat.id, update.effective_message.text
    await send_with_retry(lambda: context.bot.send_message(chat_id, text))


async def careless_bold(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bold TEXT: the classic bug, user text pasted into HTML without escaping."""
    await update.effective_message.reply_html(f"<b>{' '.join(context.args)}</b>")


def build_app(fake: FakeBotApi, **timeouts: float) -> Application:
    builder = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
    )
    for name, seconds in timeouts.items():  # e.g. read_timeout=0.3
        getattr(builder, name)(seconds)
    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("bold", careless_bold))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.fixture
def bot(fake):
    with BotRunner(build_app(fake)) as runner:
        yield runner
    assert not fake.unknown_calls, fake.unknown_calls


# ---- the conversation ------------------------------------------------------------------


def test_echo_round_trip(fake, bot):
    update = fake.user_sends(ALICE, "hello 你好", first_name="Alice")
    reply = fake.wait_for_bot_message(ALICE, timeout=5)
    assert reply["text"] == "hello 你好"
    assert reply["from"]["is_bot"] and reply["from"]["username"] == fake.bot_user["username"]
    assert reply["chat"] == {"id": ALICE, "type": "private", "first_name": "Alice"}
    assert reply["message_id"] == update["message"]["message_id"] + 1
    assert [m["text"] for m in fake.messages(ALICE)] == ["hello 你好", "hello 你好"]
    call = fake.calls("sendMessage")[0]
    assert call.params == {"chat_id": ALICE, "text": "hello 你好"}  # int decoded, None dropped
    assert not bot.errors


def test_start_command_and_button_press(fake, bot):
    update = fake.user_sends(ALICE, "/start", first_name="<Al & ice>")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    welcome = fake.wait_for_bot_message(ALICE, timeout=5)
    assert welcome["text"] == "Hello <Al & ice>. Ready?"  # tags parsed, entities unescaped
    assert {"type": "bold", "offset": 6, "length": 10} in welcome["entities"]
    assert buttons(welcome) == [("Yes", "yes"), ("No", "no")]

    press = fake.user_presses(ALICE, welcome, "yes")
    edited = fake.wait_for_bot_message(ALICE, timeout=5)
    assert edited["message_id"] == welcome["message_id"] and "edit_date" in edited
    assert edited["text"] == "You chose yes."
    assert "reply_markup" not in edited  # editing without a markup drops the keyboard
    answer = fake.answered_callbacks[0]
    assert answer["callback_query_id"] == press["callback_query"]["id"]
    assert answer["text"] == "You chose yes"
    with pytest.raises(AssertionError, match="no callback button"):
        fake.user_presses(ALICE, edited, "no")  # the button is gone
    assert not bot.errors


def test_command_in_group_with_bot_username(fake, bot):
    group = -1001
    update = fake.user_sends(7, f"/start@{fake.bot_user['username']}", chat_id=group,
                             chat_type="group", chat_title="Cluster office")
    assert update["message"]["entities"][0]["length"] == len(fake.bot_user["username"]) + 7
    reply = fake.wait_for_bot_message(group, timeout=5)
    assert reply["chat"]["type"] == "group" and reply["chat"]["id"] == group
    assert reply["text"].startswith("Hello")


def test_forged_callback_data_reaches_the_bot(fake, bot):
    welcome_update = fake.user_sends(ALICE, "/start")
    welcome = fake.wait_for_bot_message(ALICE, timeout=5)
    fake.inject_update({"callback_query": {
        "id": "forged-1",
        "from": welcome_update["message"]["from"],
        "message": welcome,
        "chat_instance": "1",
        "data": "rm -rf /",
    }})
    fake.wait_until(lambda: len(fake.answered_callbacks) == 1, timeout=5)
    assert fake.answered_callbacks[0]["show_alert"] is True
    fake.assert_no_bot_message(ALICE, within=0.2)


def test_set_my_commands_recorded(fake, bot):
    commands = [BotCommand("start", "Begin"), BotCommand("result", "结果")]
    assert bot.run(bot.application.bot.set_my_commands(commands)) is True
    call = fake.calls("setMyCommands")[0]
    assert call.params["commands"] == [  # sent as a JSON string, decoded by the fake
        {"command": "start", "description": "Begin"},
        {"command": "result", "description": "结果"},
    ]
    assert bot.run(bot.application.bot.get_my_commands()) == tuple(commands)
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        bot.run(bot.application.bot.set_my_commands([BotCommand("Start", "x")]))


# ---- Telegram's refusals ----------------------------------------------------------------


def test_429_retry_after_survived_by_retrying(fake, bot):
    fake.fail_next("sendMessage", status=429, retry_after=1)
    fake.user_sends(ALICE, "ping")
    reply = fake.wait_for_bot_message(ALICE, timeout=5)
    assert reply["text"] == "ping"
    first, second = fake.calls("sendMessage")
    assert (first.status, first.description) == (429, "Too Many Requests: retry after 1")
    assert second.ok and second.time - first.time >= 1.0  # waited as told
    assert not bot.errors


def test_429_window_and_retry_after_seen_by_ptb(fake, bot):
    fake.fail_next("sendMessage", status=429, retry_after=0.5)
    send = bot.application.bot.send_message
    fake.register_user(ALICE)
    with pytest.raises(RetryAfter):
        bot.run(send(ALICE, "one"))
    with pytest.raises(RetryAfter):  # still inside the window: refused again
        bot.run(send(ALICE, "two"))
    fake.wait_until(lambda: not fake.flooded("sendMessage"), timeout=5)  # the window ends
    assert bot.run(send(ALICE, "three")).text == "three"


def test_html_validation_rejects_what_telegram_rejects(fake, bot):
    send = bot.application.bot.send_message
    fake.register_user(ALICE)
    for bad in ("1 < 2", "<b>open", "<script>x</script>", "<b><i>x</b></i>"):
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            bot.run(send(ALICE, bad, parse_mode=ParseMode.HTML))
    ok = bot.run(send(ALICE, html.escape("1 < 2 & 3"), parse_mode=ParseMode.HTML))
    assert ok.text == "1 < 2 & 3"
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        bot.run(send(ALICE, "x" * 4097))
    assert bot.run(send(ALICE, "字" * 4096)).text == "字" * 4096
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        bot.run(send(999, "nobody there"))


def test_a_bot_that_forgets_to_escape_fails(fake, bot):
    fake.user_sends(ALICE, "/bold 1<2")
    fake.wait_until(lambda: bool(bot.errors), timeout=5)
    assert isinstance(bot.errors[0], BadRequest)
    # PTB strips "Bad Request: " and str.capitalize()s the rest of Telegram's description.
    assert str(bot.errors[0]).startswith("Can't parse entities")
    fake.assert_no_bot_message(ALICE, within=0.1)
    assert "can't parse entities" in fake.describe(ALICE)


def test_unknown_method_and_wrong_token(fake, bot):
    with pytest.raises(EndPointNotFound):
        bot.run(bot.application.bot.do_api_request("sendTelepathy", {"chat_id": 1}))
    assert [c.method for c in fake.unknown_calls] == ["sendTelepathy"]
    assert fake.unknown_calls[0].description == "Not Found: method sendTelepathy"
    fake._unknown.clear()  # seen on purpose; the fixture asserts none are left

    async def get_me_with_wrong_token():
        app = ApplicationBuilder().token("1:wrong").base_url(fake.base_url).build()
        await app.bot.get_me()

    with pytest.raises(InvalidToken):
        asyncio.run(get_me_with_wrong_token())


def test_delay_provokes_a_client_timeout_but_the_message_is_sent(fake):
    with BotRunner(build_app(fake, read_timeout=0.3)) as runner:
        fake.register_user(ALICE)
        fake.delay_next("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            runner.run(runner.application.bot.send_message(ALICE, "slow"))
        # Telegram may deliver what the client gave up on: a blind retry sends it twice.
        assert fake.wait_for_bot_message(ALICE, timeout=2)["text"] == "slow"


def test_polling_survives_a_5xx_in_get_updates(fake, bot):
    # PTB's polling loop: NetworkError -> log, wait 1 s (then 1.5x up to 30 s), retry.
    fake.fail_next("getUpdates", status=502)
    fake.user_sends(ALICE, "still there?")  # wakes the pending long poll; next one fails
    assert fake.wait_for_bot_message(ALICE, timeout=5)["text"] == "still there?"
    # the failing poll is the one after the reply: waited for, not assumed done (xdist's load)
    fake.wait_for_call("getUpdates", lambda c: c.status == 502, timeout=5)


def test_duplicate_delivery_reaches_the_handler_twice(fake, bot):
    fake.deliver_twice()
    update = fake.user_sends(ALICE, "once")
    fake.wait_for_bot_message(ALICE, timeout=5)
    fake.wait_for_bot_message(ALICE, timeout=5)  # this echo bot is not idempotent
    seen = bot.application.bot_data["seen"]
    assert seen == [update["update_id"]] * 2


# ---- the wire protocol itself -------------------------------------------------------------


def _api(fake: FakeBotApi, method: str, **params) -> dict:
    """POST form-encoded like PTB; returns the decoded JSON body, error bodies included."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    request = urllib.request.Request(
        f"{fake.base_url}{fake.token}/{method}",
        data=urllib.parse.urlencode(data).encode(),
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:
        return json.load(err)


def test_long_polling_offset_limit_timeout(fake):
    assert _api(fake, "getUpdates", timeout=0)["result"] == []
    started = time.monotonic()
    assert _api(fake, "getUpdates", timeout=0.3)["result"] == []  # waited, then empty
    assert time.monotonic() - started >= 0.3

    # An update arriving during the wait is answered at once.
    threading.Timer(0.1, fake.user_sends, (ALICE, "a")).start()
    started = time.monotonic()
    first = _api(fake, "getUpdates", timeout=5)["result"]
    assert time.monotonic() - started < 2 and first[0]["message"]["text"] == "a"

    fake.user_sends(ALICE, "b")
    fake.user_sends(ALICE, "c")
    uid = first[0]["update_id"]
    assert len(_api(fake, "getUpdates", limit=2)["result"]) == 2  # a and b: unconfirmed
    rest = _api(fake, "getUpdates", offset=uid + 1)["result"]  # confirms a
    assert [u["message"]["text"] for u in rest] == ["b", "c"]
    assert [u["message"]["text"] for u in _api(fake, "getUpdates", offset=-1)["result"]] == ["c"]

    # allowed_updates: a callback_query is dropped when only messages are wanted.
    assert _api(fake, "getUpdates", offset=uid + 3, allowed_updates=["message"])["ok"]
    fake.inject_update({"callback_query": {"id": "q", "from": {"id": 1, "is_bot": False,
                                                              "first_name": "x"},
                                           "chat_instance": "1", "data": "d"}})
    fake.user_sends(ALICE, "d")
    delivered = _api(fake, "getUpdates")["result"]
    assert [sorted(u) for u in delivered] == [["message", "update_id"]]


def test_second_poller_conflicts_and_webhook_blocks_polling(fake):
    results = []
    waiter = threading.Thread(target=lambda: results.append(_api(fake, "getUpdates", timeout=5)))
    waiter.start()
    fake.wait_for_poller(timeout=2)
    assert _api(fake, "getUpdates", timeout=0)["ok"]
    waiter.join(5)
    assert results[0]["error_code"] == 409 and "terminated by other" in results[0]["description"]

    assert _api(fake, "setWebhook", url="http://127.0.0.1:9/hook", secret_token="s3cret")["ok"]
    conflict = _api(fake, "getUpdates")
    assert conflict["error_code"] == 409 and "webhook is active" in conflict["description"]
    info = _api(fake, "getWebhookInfo")["result"]
    assert info["url"] == "http://127.0.0.1:9/hook"
    assert _api(fake, "setWebhook", url="http://x", secret_token="no spaces")["error_code"] == 400
    assert _api(fake, "deleteWebhook")["result"] is True
    assert _api(fake, "getWebhookInfo")["result"]["url"] == ""


def test_edit_rules(fake):
    fake.register_user(ALICE)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = _api(fake, "sendMessage", chat_id=ALICE, text="hi", reply_markup=markup)["result"]
    assert sent["reply_markup"] == markup
    same = _api(fake, "editMessageText", chat_id=ALICE, message_id=sent["message_id"],
                text="hi", reply_markup=markup)
    assert same["error_code"] == 400 and "message is not modified" in same["description"]
    bare = _api(fake, "editMessageReplyMarkup", chat_id=ALICE, message_id=sent["message_id"])
    assert "reply_markup" not in bare["result"]
    too_big = {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]}
    assert "BUTTON_DATA_INVALID" in _api(fake, "sendMessage", chat_id=ALICE, text="t",
                                         reply_markup=too_big)["description"]
    assert _api(fake, "deleteMessage", chat_id=ALICE, message_id=sent["message_id"])["ok"]
    assert _api(fake, "editMessageText", chat_id=ALICE, message_id=sent["message_id"],
                text="x")["description"] == "Bad Request: message to edit not found"
    assert _api(fake, "sendChatAction", chat_id=ALICE, action="typing")["result"] is True
    fake.user_blocks_bot(ALICE)
    assert _api(fake, "sendMessage", chat_id=ALICE, text="hi")["error_code"] == 403


# ---- webhook mode ---------------------------------------------------------------------


def test_webhook_mode_posts_updates_with_the_secret(fake):
    app = build_app(fake)
    with BotRunner(app, mode="webhook", secret_token="s3cret-token") as runner:
        assert fake.webhook["url"] == runner.webhook_url
        assert fake.webhook["secret_token"] == "s3cret-token"
        update = fake.user_sends(ALICE, "via webhook")
        assert fake.wait_for_bot_message(ALICE, timeout=5)["text"] == "via webhook"
        assert fake.webhook_deliveries == [
            {"update_id": update["update_id"], "url": runner.webhook_url,
             "status": 200, "error": None}
        ]

        async def post_without_secret():
            async with (aiohttp.ClientSession() as session,
                        session.post(runner.webhook_url, json=update) as resp):
                return resp.status

        assert asyncio.run(post_without_secret()) == 403
        assert not runner.errors
    assert not fake.calls("getUpdates")


def test_webhook_retries_until_the_bot_listens(fake):
    fake.register_user(ALICE)
    assert _api(fake, "setWebhook", url="http://127.0.0.1:9/nothing-listens")["ok"]
    fake.user_sends(ALICE, "queued")
    fake.wait_until(lambda: len(fake.webhook_deliveries) >= 2, timeout=5)
    assert all(d["status"] is None for d in fake.webhook_deliveries)
    info = _api(fake, "getWebhookInfo")["result"]
    assert info["pending_update_count"] == 1 and "Connection failed" in info["last_error_message"]
    # A polling bot starts by deleting the webhook (PTB's bootstrap), then gets the update.
    with BotRunner(build_app(fake)):
        assert fake.wait_for_bot_message(ALICE, timeout=5)["text"] == "queued"
    assert fake.calls("deleteWebhook")


def test_ptb_webhook_server_when_tornado_is_installed(fake):
    pytest.importorskip("tornado", reason="PTB's own webhook server needs the [webhooks] extra")
    with BotRunner(build_app(fake), mode="webhook", secret_token="tok",
                   ptb_webhook_server=True):
        fake.user_sends(ALICE, "tornado")
        assert fake.wait_for_bot_message(ALICE, timeout=5)["text"] == "tornado"


def test_stop_is_prompt_with_a_long_poll_pending(fake):
    runner = BotRunner(build_app(fake), poll_timeout=30).start()
    fake.wait_for_poller(timeout=5)  # PTB sits in a 30 s long poll
    started = time.monotonic()
    runner.stop()
    assert time.monotonic() - started < 3
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 3


def test_timedelta_poll_timeout_is_sent_as_seconds(fake):
    async def poll_once():
        app = build_app(fake)
        async with app:
            return await app.bot.get_updates(timeout=dtm.timedelta(seconds=0))

    assert asyncio.run(poll_once()) == ()
    assert fake.calls("getUpdates")[-1].params["timeout"] == 0


def test_network_error_on_non_json_502(fake, bot):
    fake.register_user(ALICE)
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        bot.run(bot.application.bot.send_message(ALICE, "x"))


def test_spread_webhook_keeps_each_chats_order_across_workers_and_skips_a_dead_one(fake):
    """Two live receivers and one that refuses connections: every update arrives once at a
    live one, and a chat's updates in order."""
    import http.server
    import socket

    received: list[tuple[int, int, int]] = []  # (port, chat, update_id)
    lock = threading.Lock()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            update = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(0.01)  # a turn takes a while: the next chat's update is sent meanwhile
            with lock:
                received.append((self.server.server_port, update["message"]["chat"]["id"], update["update_id"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    try:
        fake.spread_webhook([f"http://127.0.0.1:{dead}/hook"] + [f"http://127.0.0.1:{s.server_port}/hook"
                                                                 for s in servers], connections=8)
        sent = {chat: [fake.user_sends(chat, f"{chat}-{i}")["update_id"] for i in range(5)]
                for chat in range(500, 510)}
        fake.wait_until(lambda: len(received) == 50, timeout=20)
        for chat, ids in sent.items():
            assert [u for _, c, u in received if c == chat] == ids
        assert {port for port, _, _ in received} == {s.server_port for s in servers}
        assert any(d["status"] is None for d in fake.webhook_deliveries)  # the dead one was tried
    finally:
        for server in servers:
            server.shutdown()
