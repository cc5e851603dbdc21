"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import deadlines, evaluate, rules

COMMANDS = [evaluate, rules, deadlines]
