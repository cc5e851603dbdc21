"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, deadlines, evaluate, rules

COMMANDS = [chat, evaluate, rules, ask, deadlines]
