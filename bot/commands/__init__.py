"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import ask, chat, deadlines, dingtalk, evaluate, form, rules, serve, web, wecom

COMMANDS = [chat, serve, web, wecom, dingtalk, evaluate, rules, ask, deadlines, form]
