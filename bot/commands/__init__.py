"""The subcommands of `clusterbot`, each a module with `register(subparsers)`."""

from . import evaluate, rules

COMMANDS = [evaluate, rules]
