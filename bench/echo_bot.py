"""A bare python-telegram-bot echo bot, long polling: the floor of the Telegram benchmark.

    python bench/echo_bot.py --token T --api-base-url http://127.0.0.1:PORT/bot

Nothing of clusterbot is imported: what this costs is PTB's own price per message, so
the real bot can be measured as a ratio against it. The token may also come from the
environment (TELEGRAM_BOT_TOKEN) to keep it out of the process list. It never appears
in the logs: httpx logs each request URL (which holds the token) at INFO, and PTB logs
its base URL at DEBUG, so httpx is capped at WARNING and every record passes through a
filter that masks the token.

Ready when it long-polls: a harness on the fake Bot API waits for that with
FakeBotApi.wait_for_poller(). SIGINT/SIGTERM stop it cleanly (run_polling's handlers).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters


class _MaskToken(logging.Filter):
    """Replace the token in every log record's final message (args included)."""

    def __init__(self, token: str):
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg, record.args = message.replace(self._token, "<token>"), None
        if record.exc_info and not record.exc_text:
            # Tracebacks can quote URLs too: format now, masked, and keep only the text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = record.exc_text.replace(self._token, "<token>")
            record.exc_info = None
        return True


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back to the chat it came from."""
    message = update.effective_message
    await context.bot.send_message(message.chat_id, message.text)


def _file_url(api_base_url: str) -> str:
    """http://host:port/bot -> http://host:port/file/bot (Telegram's layout)."""
    head, _, tail = api_base_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}"


def build(token: str, api_base_url: str, poll_timeout: int) -> Application:
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(api_base_url)
        .base_file_url(_file_url(api_base_url))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--token", default=os.environ.get("TELEGRAM_BOT_TOKEN"),
                        help="bot token (default: $TELEGRAM_BOT_TOKEN)")
    parser.add_argument("--api-base-url", default="https://api.telegram.org/bot",
                        help="Bot API base URL; PTB appends TOKEN/METHOD")
    parser.add_argument("--poll-timeout", type=int, default=10,
                        help="getUpdates long-polling timeout in seconds")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token or TELEGRAM_BOT_TOKEN is required")

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_MaskToken(args.token))
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    app = build(args.token, args.api_base_url, args.poll_timeout)
    logging.getLogger("echo_bot").info("polling %s", args.api_base_url)
    app.run_polling(timeout=args.poll_timeout, poll_interval=0,
                    allowed_updates=["message"], drop_pending_updates=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
