"""`clusterbot`: the command line. Each subcommand lives in bot/commands/ and registers itself."""

from __future__ import annotations

import argparse
import os
import sys

from bot.commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clusterbot",
        description="中小企业特色产业集群认定预审助手 / pre-screening assistant for SME characteristic industrial clusters",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
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
