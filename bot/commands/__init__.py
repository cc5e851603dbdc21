"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, deadlines, dingtalk, evaluate, rules, serve, wecom

COMMANDS = [chat, serve, wecom, dingtalk, evaluate, rules, ask, deadlines]
