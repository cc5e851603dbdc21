"""Arguments several subcommands share."""

from __future__ import annotations

import argparse
import datetime as dt

from engine import load_rulesets, parse_jurisdictions


def jurisdictions_arg(text: str):
    """--jurisdiction: one of national|jiangsu|guangdong|shaanxi|all, or a comma list."""
    try:
        names = parse_jurisdictions(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"unknown jurisdiction {exc}; expected national, jiangsu, guangdong, shaanxi, all or a comma list")
    rulesets = load_rulesets()
    return [rulesets[n] for n in names]


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD") from None


def lang_arg(text: str) -> str:
    if text not in ("zh", "en"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected zh or en")
    return text


def add_common(parser: argparse.ArgumentParser, jurisdiction_default: str = "all") -> None:
    parser.add_argument("--jurisdiction", "-j", type=jurisdictions_arg, default=jurisdiction_default,
                        metavar="J", help="national|jiangsu|guangdong|shaanxi|all, or a comma list (default: %(default)s)")
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
