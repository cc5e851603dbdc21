"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, db, deadlines, dingtalk, evaluate, form, rules, serve, web, wecom

COMMANDS = [chat, serve, web, wecom, dingtalk, evaluate, rules, ask, deadlines, form, db]
