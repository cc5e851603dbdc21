"""Every quotation of every ruleset is a passage of the shipped source text (white space
ignored), and the shipped sources are the published texts the project was given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import load_rulesets
from engine.rules import SOURCE_DIR

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def quotations(ruleset):
    """(where, text) for every verbatim text a ruleset carries."""
    yield "term", ruleset.term.article_text
    d = ruleset.deadlines
    for i, report in enumerate(d.annual_reports):
        yield f"annual_reports[{i}]", report.article_text
    yield "validity", d.validity.article_text
    yield "revocation", d.revocation.article_text
    for ground in d.revocation.grounds:  # missed.* and the standing duties are among them
        yield ground.citation, ground.article_text
    for step in ruleset.application.steps:
        yield f"application {step.citation}", step.article_text

    for c in ruleset.criteria:
        yield c.id, c.article_text, c.source


@pytest.mark.parametrize("jurisdiction", list(load_rulesets()))
def test_every_quotation_is_in_the_source(jurisdiction):
    """Every ruleset file in engine/rulesets/ is checked, a new one without editing this test."""
    ruleset = load_rulesets()[jurisdiction]
    missing = [where for where, text, *source in quotations(ruleset)
               if squeeze(text) not in squeeze(ruleset.source_text(*source))]
    assert not missing, f"{ruleset.id}: not verbatim: {missing}"


def test_quotations_are_not_empty_and_cite_an_article():
    for ruleset in load_rulesets().values():
        for c in ruleset.criteria:
            assert len(squeeze(c.article_text)) >= 6, c.id
            assert re.match(r"^(第[一二三四五六七八九十]+条(（[一二三四五六七八九十]+）)?|认定标准（2022年版）(序言|[一二三四五六七八])"
                            r"|申报表 承诺函)$", c.citation), c.citation


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_shipped_sources_equal_the_seeds():
    for path in SOURCE_DIR.glob("*.txt"):
        assert path.read_bytes() == (SEEDS / path.name).read_bytes(), path.name


def test_every_quotation_of_the_application_form_is_in_its_text():
    """Labels, options, statements and the sentences findings quote (engine/forms/*.yaml)."""
    from engine.form import load_form

    form = load_form()
    source = squeeze(form.source_text())
    quoted = list(form.quotations())
    assert len(quoted) > 150
    missing = [(where, text) for where, text in quoted if squeeze(text) not in source]
    assert not missing, f"{form.id}: not verbatim: {missing}"
