"""What a person would type: a fact's value written as a chat answer, and which question a
reply is asking (recognised by its wording in the locales). One copy, in bench/official.py,
which the benchmarks use from the product's own install."""

from __future__ import annotations

from bench.official import asked_fact, typed_answer as chat_answer  # noqa: F401  (re-exported)
