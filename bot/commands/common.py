"""Arguments several subcommands share."""

from __future__ import annotations

import argparse
import datetime as dt
import gc

from locales import t

# The language of this command line's messages, set by bot.cli.main before parsing.
CLI_LANG = "en"
# Whether the command runs in a process of its own (the console script), set by bot.cli.main:
# only then is the process's heap the command's to freeze.
OWN_PROCESS = False


def cli_t(key: str, **fields) -> str:
    return t(CLI_LANG, f"cli.{key}", **fields)


def serving() -> None:
    """For a command that serves messages from now until it exits, once it has loaded what
    they need (the dialog, the engine, the channel's library): all of that lives as long as
    the process and is put out of the garbage collector's sight (gc.freeze, as bot.cli.main
    does with what the command line loads). A full collection walked it all, some 60 ms
    every few hundred messages: a tenth to a fifth of a message's time on average
    (bench/dialog_bench.py), and the slowest message's whole delay."""
    if OWN_PROCESS:
        gc.freeze()


def stopped() -> None:
    """For a command that stopped on SIGTERM or SIGINT (its loop's handlers): from now until
    the exit a further signal is ignored. asyncio restores the default when its loop closes,
    and the second signal of `timeout` (the process and its group), a few ms after the first,
    then killed an exit already clean (status -15)."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
        signal.signal(sig, signal.SIG_IGN)


def jurisdictions_arg(text: str):
    """--jurisdiction: national|jiangsu|guangdong|shaanxi|all or a measure's name (江苏, 工信部), or a comma list."""
    from engine import load_rulesets, parse_jurisdictions  # here: --help needs no engine

    try:
        names = parse_jurisdictions(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(cli_t("bad_jurisdiction", name=str(exc)))
    rulesets = load_rulesets()
    return [rulesets[n] for n in names]


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(cli_t("bad_date", text=text)) from None


# The evaluation dates: 近三年 of the date must be years a series may give (1900–2099).
EVALUATION_DATES = (dt.date(1903, 1, 1), dt.date(2100, 12, 31))


def evaluation_date_arg(text: str) -> dt.date:
    date = date_arg(text)
    first, last = EVALUATION_DATES
    if not first <= date <= last:
        raise argparse.ArgumentTypeError(cli_t("date_out_of_range", text=text, first=first.isoformat(), last=last.isoformat()))
    return date


def lang_arg(text: str) -> str:
    if text not in ("zh", "en"):
        raise argparse.ArgumentTypeError(cli_t("bad_lang", text=text))
    return text


def add_common(parser: argparse.ArgumentParser, jurisdiction_default: str = "all") -> None:
    parser.add_argument("--jurisdiction", "-j", type=jurisdictions_arg, default=jurisdiction_default,
                        metavar="J", help="national|jiangsu|guangdong|shaanxi|all (or 国家|江苏|广东|陕西), or a comma list (default: %(default)s)")
    parser.add_argument("--lang", type=lang_arg, default="zh", help="zh (default) or en")


def add_channel_options(parser: argparse.ArgumentParser) -> None:
    """The options every chat channel's server takes (wecom, dingtalk)."""
    parser.add_argument("--db", default=None, help="database URL or SQLite file (as for clusterbot chat)")
    parser.add_argument("--reminder-interval", type=positive_seconds, default=60, metavar="SECONDS",
                        help="how often due deadline reminders are looked for (default 60)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number of seconds")
    return value
