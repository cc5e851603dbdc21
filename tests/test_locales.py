"""The two languages say the same things: the same message keys, the same fields, the same
templates; every key is a string (YAML reads a bare yes/no key as a boolean)."""

from __future__ import annotations

import string

import yaml

from locales import HERE, LANGS, messages


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_and_fields_in_both_languages():
    zh, en = messages("zh"), messages("en")
    assert set(zh) == set(en), set(zh) ^ set(en)
    # A language may leave out the comparison symbol, word, number or unit where its sentence
    # already carries them (inside {requirement}).
    optional = {"op", "word", "threshold", "unit"}
    for key in zh:
        assert fields(zh[key]) ^ fields(en[key]) <= optional, key


def test_keys_are_strings():
    for path in HERE.glob("*/*.yaml"):
        def walk(node, where):
            for key, value in node.items():
                assert isinstance(key, str), (path, where, key)
                if isinstance(value, dict):
                    walk(value, where + [key])
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), [])


def test_same_templates_in_both_languages():
    names = {lang: {p.name for p in (HERE / folder).glob("*.j2")} for lang, folder in LANGS.items()}
    assert names["zh"] == names["en"]
