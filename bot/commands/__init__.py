"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, deadlines, evaluate, form, rules, serve

COMMANDS = [chat, serve, evaluate, rules, ask, deadlines, form]
