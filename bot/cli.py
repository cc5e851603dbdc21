"""`clusterbot`: the command line. Each subcommand lives in bot/commands/ and registers itself.

The subcommands are imported inside `main`, so that a Ctrl-C while they load (the start-up)
ends with a goodbye line like one at any later moment, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys


def cli_lang(argv: list[str]) -> str:
    """The language of the command line: --lang, else the locale's (zh, the product's default,
    when it says nothing else)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return "en" if argv[i + 1].startswith("en") else "zh"
        if arg.startswith("--lang="):
            return "en" if arg[7:].startswith("en") else "zh"
    for name in ("CLUSTERBOT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return "zh" if value.lower().startswith("zh") else "en"
    return "zh"


def build_parser() -> argparse.ArgumentParser:
    from bot.commands import COMMANDS

    parser = argparse.ArgumentParser(
        prog="clusterbot",
        description="中小企业特色产业集群认定预审助手 / pre-screening assistant for SME characteristic industrial clusters",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        return args.run(args) or 0
    except KeyboardInterrupt:
        from locales import t

        print("\n" + t(cli_lang(argv), "terminal.interrupted"), file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:
        # The reader went away (| head): not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as exc:  # never a traceback for a user, unless asked for one
        if os.environ.get("CLUSTERBOT_DEBUG"):
            raise
        print(f"clusterbot: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
