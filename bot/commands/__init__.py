"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, db, deadlines, evaluate, rules, serve

COMMANDS = [chat, serve, evaluate, rules, ask, deadlines, db]
