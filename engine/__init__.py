"""Pure law: the fact catalogue, one ruleset per measure (data), evaluation and the
deadline calendar. No I/O except reading its own data files; no clock (dates are arguments)."""

from .evaluate import (
    FAIL, NA, PASS, UNKNOWN, WARNING, Evaluation, Profile, evaluate, evaluate_many, verdict_of,
)
from .facts import FactError, validate_facts, validate_json
from .rules import (
    JURISDICTION_NAMES, JURISDICTIONS, OTHER_PROVINCES, WORDS, Ruleset, catalogue, certified_together, load_rulesets,
    parse_jurisdictions,
)

__all__ = [
    "FAIL", "NA", "PASS", "UNKNOWN", "WARNING", "Evaluation", "Profile", "evaluate", "evaluate_many",
    "verdict_of", "validate_json",
    "FactError", "validate_facts", "JURISDICTION_NAMES", "JURISDICTIONS", "OTHER_PROVINCES", "WORDS", "Ruleset", "catalogue",
    "certified_together", "load_rulesets", "parse_jurisdictions",
]
