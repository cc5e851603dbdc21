"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, deadlines, evaluate, rules, serve, wecom

COMMANDS = [chat, serve, wecom, evaluate, rules, ask, deadlines]
