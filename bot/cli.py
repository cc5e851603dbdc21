"""`clusterbot`: the command line. Each subcommand lives in bot/commands/ and registers itself.

The subcommands are imported inside `main`, so that a Ctrl-C while they load (the start-up)
ends with a goodbye line like one at any later moment, never a traceback."""

from __future__ import annotations

import argparse
import errno
import gc
import io
import os
import signal
import sys

ARGPARSE_WORDS = argparse._  # argparse's own English (gettext's), for `speak("en")`


def cli_lang(argv: list[str]) -> str:
    """The language of the command line's own messages (errors, --help): --lang's when given;
    else, of a command that speaks its --lang (bot.commands.SPEAK_LANG), Chinese, as what it
    prints once its arguments are read; else Chinese when the locale says zh, English otherwise."""
    from bot.commands import SPEAK_LANG

    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return "zh" if argv[i + 1].startswith("zh") else "en"
        if arg.startswith("--lang="):
            return "zh" if arg[7:].startswith("zh") else "en"
    if next((a for a in argv if not a.startswith("-")), "") in SPEAK_LANG:  # the command: the first word
        return "zh"
    return locale_lang()


def locale_lang() -> str:
    """Chinese when the locale says zh, English otherwise."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):  # the first one set decides, as in POSIX
        if value := os.environ.get(name):
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def speak(lang: str) -> None:
    """argparse words its usage, help and errors through gettext with English as the source:
    in Chinese, it reads them from the locales' argparse table."""
    if lang == "en":  # its own words: no catalog to load (the chat may need the other one)
        argparse._ = ARGPARSE_WORDS
        return
    from locales import messages

    words = {key.removeprefix("argparse."): text for key, text in messages(lang).items()
             if key.startswith("argparse.")}
    argparse._ = lambda text: words.get(text, text)


def translate_help(parser: argparse.ArgumentParser, lang: str) -> None:
    """Each subcommand's --help in the user's language: the help texts are looked up by their
    English, as gettext does (a text without a translation stays English)."""
    if lang == "en":  # the help texts are written in English
        return
    from locales import messages

    words = {key.removeprefix("help_text."): text for key, text in messages(lang).items()
             if key.startswith("help_text.")}

    def walk(p: argparse.ArgumentParser) -> None:
        p.description, p.epilog = words.get(p.description, p.description), words.get(p.epilog, p.epilog)
        for action in p._actions:
            action.help = words.get(action.help, action.help)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    choice.help = words.get(choice.help, choice.help)
                for sub in action.choices.values():
                    walk(sub)

    walk(parser)


def build_parser(lang: str = "en", argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of `clusterbot`. With `argv`, only the command it names is imported and given
    its arguments (a fast start); the others are listed by their one-line help alone."""
    from bot.commands import HELP, command

    parser = argparse.ArgumentParser(
        prog="clusterbot",
        description="中小企业特色产业集群认定预审助手 / pre-screening assistant for SME characteristic industrial clusters",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # The command is the first word that is not an option: the top-level parser has no option
    # taking a value.
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, text in HELP.items():
        if chosen is None or name == chosen:
            command(name).register(subparsers)
        else:
            subparsers.add_parser(name, help=text)
    translate_help(parser, lang)
    return parser


def main(argv: list[str] | None = None) -> int:
    own_process = argv is None  # the console script, not a caller in a process of its own
    argv = sys.argv[1:] if argv is None else argv
    # The locale's until the command line is read, inside the `try` (cli_lang imports the
    # subcommands' list): a Ctrl-C as that import ends is a goodbye line too, not a traceback.
    lang = locale_lang()
    # No garbage collection while the command's modules load, and what they made is frozen
    # (never scanned again, nor at exit): the collector walking the import-time objects was
    # a quarter of the chat's start and quit. The pattern of gc.freeze's documentation.
    if own_process:
        gc.disable()
        # Started with a standard stream closed (<&-, >&-): an empty input, an output to nowhere,
        # here once for every command.
        sys.stdin = sys.stdin or io.StringIO()
        sys.stdout = sys.stdout or open(os.devnull, "w")
        if sys.stdin.isatty() and signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
            # A Ctrl-C at the terminal ends the command even when it was started with SIGINT
            # ignored, as a script's shell starts a job in the background: Python then leaves
            # it ignored, and the chat would not hear the official's Ctrl-C.
            signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        lang = cli_lang(argv)
        from bot.commands import common

        common.CLI_LANG, common.OWN_PROCESS = lang, own_process
        speak(lang)
        args = build_parser(lang, argv).parse_args(argv)
        if own_process:
            gc.freeze()
            gc.enable()
        return args.run(args) or 0
    except KeyboardInterrupt:
        try:
            from locales import t

            message = t(lang, "cli.interrupted")
        except Exception:  # interrupted inside an import (yaml): that module is half made
            message = "Interrupted. Goodbye!" if lang == "en" else "已中断。再见！"
        print("\n" + message, file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:
        # The reader went away (| head): not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EBADF, errno.EIO):
            raise
        from locales import t  # the output could not be written (>/dev/full): said, not a traceback

        print(f"clusterbot: {t(lang, 'cli.cannot_write', reason=os.strerror(exc.errno))}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback for a user, unless asked for one
        if type(exc).__name__ == "DatabaseUnavailable":  # storage.db: --db or CLUSTERBOT_DB is wrong
            from locales import t

            print(f"clusterbot: {t(lang, f'cli.database_{exc.kind}', url=exc.url, reason=exc.reason)}", file=sys.stderr)
            return 2
        if os.environ.get("CLUSTERBOT_DEBUG"):
            raise
        from locales import t

        print(f"clusterbot: {t(lang, 'cli.internal_error', error=f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
        return 70
    finally:
        gc.enable()  # also after --help or a usage error


if __name__ == "__main__":
    sys.exit(main())
