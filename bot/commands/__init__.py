"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, deadlines, evaluate, rules, serve, web

COMMANDS = [chat, serve, web, evaluate, rules, ask, deadlines]
