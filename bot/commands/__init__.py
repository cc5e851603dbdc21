"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, deadlines, evaluate, form, rules, serve, web

COMMANDS = [chat, serve, web, evaluate, rules, ask, deadlines, form]
