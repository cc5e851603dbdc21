"""Arguments several subcommands share."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys

from locales import t

# The language of this command line's messages, set by bot.cli.main before parsing.
CLI_LANG = "en"
# Whether the command runs in a process of its own (the console script), set by bot.cli.main:
# only then is the process's heap the command's to freeze.
OWN_PROCESS = False


def cli_t(key: str, **fields) -> str:
    return t(CLI_LANG, f"cli.{key}", **fields)


def framed_error(lang: str, command: str, message: str) -> str:
    """An error found once the arguments are read: in the run's language (--lang), framed as
    argparse frames its own (one line, `clusterbot deadlines: error: …`)."""
    return (t(lang, "argparse.%(prog)s: error: %(message)s\n")
            % {"prog": f"clusterbot {command}", "message": message}).rstrip("\n")


def cli_list(items) -> str:
    """Names listed in a line of the command line's language (a、b in Chinese, a, b in English)."""
    return t(CLI_LANG, "list_sep").join(items)


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


def jurisdictions_arg(text: str, unknown: str = "bad_jurisdiction"):
    """--jurisdiction: national|jiangsu|guangdong|shaanxi|all or a measure's name (江苏, 工信部), or a
    comma list; `unknown`: the message of a name that is none (what the command takes)."""
    from engine import load_rulesets, parse_jurisdictions  # here: --help needs no engine

    try:
        names = parse_jurisdictions(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(cli_t(unknown, name=str(exc)))
    rulesets = load_rulesets()
    return [rulesets[n] for n in names]


def date_arg(text: str) -> dt.date:
    """A date as the chat's /track reads one: 2024-06-01, and 2024/6/1, 2024年6月1日, 1 June 2024
    (an official types the same date on the command line)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    from dialogs.tracking import parse_date  # here: only a date in another form needs the chat's reader

    try:
        return parse_date(text)
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
    add_log_options(parser)


def add_log_options(parser: argparse.ArgumentParser) -> None:
    """--log-level and --log-format, of every server (serve, web, wecom, dingtalk): bot.logs."""
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--log-format", default="text", choices=["text", "json"],
                        help="json: one object a line (time, level, logger, message, worker), for a log collector")


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(cli_t("server.reminder_interval", text=text))
    return value


def server_fail(command: str, key: str, **fields) -> int:
    """A server's start refused (serve, web, wecom, dingtalk): one line naming the setting and
    what is expected (locales' cli.server.*), in the command line's language; exit status 2."""
    print(f"clusterbot {command}: {cli_t(f'server.{key}', **fields)}", file=sys.stderr)
    return 2


def listen_address(text: str) -> tuple[str, int] | None:
    """--listen HOST:PORT (an IPv6 host in brackets), or None when it is not one."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or int(port) > 65535:
        return None
    return host, int(port)


def cannot_listen(host: str, port: int) -> str | None:
    """Why nothing can listen at host:port (a port another process holds, an address not this
    machine's, a port below 1024 for an unprivileged user), or None: asked before a server
    loads and opens its database, so that a worker given a taken port says so in one line
    instead of its web framework's log and traceback. Bound as the servers bind (SO_REUSEADDR:
    a port whose last connections are closing is free), then let go at once."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def listen_refused(command: str, text: str | None, example: str) -> tuple[str, int] | int:
    """--listen checked: (host, port) when a server can listen there, else the exit status of
    the one-line refusal (server_fail)."""
    address = listen_address(text or "")
    if address is None:
        return server_fail(command, "listen", text=text, example=example)
    reason = cannot_listen(*address)
    if reason:
        return server_fail(command, "address_in_use", host=address[0], port=address[1], reason=reason)
    return address
