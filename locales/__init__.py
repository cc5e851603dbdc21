"""Wording of the product, per language: message catalogs (every *.yaml in a language's
folder, merged) and the jinja2 templates of replies and reports.

Chinese (zh, folder zh_CN) is the default; English (en) the second. Article texts are
never translated: they stay verbatim data in the rulesets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

# babel, jinja2 and the engine (for round2) are imported where used: the command line's
# --help and its errors need only the messages; yaml only when a catalog changed (below).

HERE = Path(__file__).parent
LANGS = {"zh": "zh_CN", "en": "en"}
DEFAULT_LANG = "zh"
BABEL_LOCALES = {"zh": "zh_CN", "en": "en"}
# Babel patterns. Chinese is CLDR's long date for zh_CN (2024年6月1日) written out (a test
# holds it to CLDR's): asked for by name ("long"), Babel loaded the locale's CLDR data to look
# it up, 41 M instructions at the first date a command printed (a batch's term notice).
DATE_FORMATS = {"zh": "y年M月d日", "en": "yyyy-MM-dd"}


def normalise_lang(lang: str | None) -> str:
    """'zh', 'zh_CN', 'zh-Hans', '中文' -> 'zh'; 'en', 'en-US', 'English' -> 'en'."""
    text = (lang or "").strip().lower()
    if text.startswith("en") or text in ("英文", "英语"):
        return "en"
    return DEFAULT_LANG


@lru_cache(maxsize=None)
def messages(lang: str) -> dict[str, str]:
    """The merged catalog of a language, flattened to dotted keys (explain.threshold)."""
    return load_catalog(HERE / LANGS[lang], HERE / "__pycache__" / f"{LANGS[lang]}.json")


def load_catalog(folder: Path, kept: Path) -> dict[str, str]:
    """Every *.yaml in `folder`, merged (kept as JSON at `kept`: read_kept)."""
    return read_kept(sorted(folder.glob("*.yaml")), kept, lambda contents: _parse_catalog(folder, contents))


def read_kept(sources: list[Path], kept: Path, parse: Callable[[list[bytes]], Any]) -> Any:
    """`parse` of these files' contents, once per version of the files: the result is kept
    as JSON at `kept` (beside the bytecode, in __pycache__) with a digest of the files, and
    read from there while the digest is the same: that takes a tenth of the time parsing
    YAML does, and needs no yaml, whose import costs as much again. (The engine reads its
    rulesets through it too: this module imports nothing heavy.)"""
    contents = [path.read_bytes() for path in sources]
    digest = hashlib.sha256(b"".join(p.name.encode() + b"\0" + data + b"\0"
                                     for p, data in zip(sources, contents))).hexdigest()
    try:
        cached = json.loads(kept.read_bytes(), object_hook=_from_json)
        if cached["digest"] == digest:
            return cached["data"]
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: parse
        pass
    data = parse(contents)
    _keep(kept, {"digest": digest, "data": data})
    return data


def parse_yaml(content: bytes) -> Any:
    import yaml

    # libyaml's loader where PyYAML was built with it (the wheels are).
    return yaml.load(content.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _parse_catalog(folder: Path, contents: list[bytes]) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, node):
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                walk(name, value)
            else:
                if name in flat:
                    raise ValueError(f"{folder}: message {name} defined twice")
                flat[name] = value

    for content in contents:
        walk("", parse_yaml(content) or {})
    return flat


def _to_json(value):
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"$date": value.isoformat()}  # YAML reads 2023-02-28 as a date
    raise TypeError(f"{type(value).__name__} is not kept as JSON")


def _from_json(obj: dict):
    return dt.date.fromisoformat(obj["$date"]) if len(obj) == 1 and "$date" in obj else obj


def _keep(path: Path, data: dict) -> None:
    """Write `data` as JSON at `path`, whole or not at all (another process may be reading
    it); nothing is kept where the folder cannot be written to, or what JSON would not give
    back the same (a number as a mapping's key, say)."""
    try:
        text = json.dumps(data, ensure_ascii=False, default=_to_json)
        if json.loads(text, object_hook=_from_json) != data:
            return
    except (TypeError, ValueError):
        return
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        if temporary.exists():  # written in part
            temporary.unlink()


def t(lang: str, key: str, **fields) -> str:
    """One message, formatted with str.format fields."""
    text = messages(lang)[key]
    return text.format(**fields) if fields else text


def t_count(lang: str, key: str, n: int, **fields) -> str:
    """A message counting n things, in its singular form (`key`_one) when n takes it: 1 answer kept."""
    return t(lang, f"{key}_one" if plural_form(n, lang) == "one" else key, n=n, **fields)


def has(lang: str, key: str) -> bool:
    return key in messages(lang)


def fmt_number(value, decimals: int = 2, lang: str = "zh") -> str:
    """Figures as the application form writes them: two decimals, integers as integers; in
    English with thousands separators, by Babel (1,234.00: the chat reads them back)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if not isinstance(value, int) and decimals == 2:  # half-up, as the figure compared (engine.facts.round2): 39.995 → 40.00
        from engine.facts import round2

        value = round2(value)
    if lang == "en" and math.isfinite(value):
        import decimal

        import babel.numbers

        pattern = "#,##0" if isinstance(value, int) else "#,##0." + "0" * decimals
        with decimal.localcontext() as context:
            context.prec = 400  # the digits of any float (1e300 from a tiny baseline), not 28
            return babel.numbers.format_decimal(value, format=pattern, locale=BABEL_LOCALES[lang])
    return str(value) if isinstance(value, int) else f"{value:.{decimals}f}"


@lru_cache(maxsize=4096, typed=True)  # typed: True is not 1
def fmt_large(number, lang: str) -> str:
    """A large whole number as each language writes it, by Babel (CLDR): 10万, 1000万, 45亿 in
    Chinese, 100,000 and 4,500,000,000 in English; a fraction stays as fmt_number writes it.
    (Remembered: every question shows its range, and Babel takes 50 µs a number.)"""
    if isinstance(number, bool) or not float(number).is_integer():
        return fmt_number(number, lang=lang)
    import babel.numbers

    if lang == "en":
        return babel.numbers.format_decimal(int(number), locale=BABEL_LOCALES[lang])
    if abs(number) < 10_000:
        return str(int(number))
    return babel.numbers.format_compact_decimal(int(number), locale=BABEL_LOCALES[lang], fraction_digits=2)


def fmt_list(items, lang: str) -> str:
    """Names listed in a sentence: "A and B", "A, B and C" in English (Babel, CLDR's British
    form: no comma before "and"); 甲、乙 in Chinese, as the product lists everywhere."""
    items = list(items)
    if lang != "en":
        return t(lang, "list_sep").join(items)
    import babel.lists

    return babel.lists.format_list(items, locale="en_GB")


def fmt_date(day: dt.date, lang: str) -> str:
    """2024年6月1日 (CLDR's long Chinese date) / 2024-06-01 (unambiguous in English), by Babel."""
    import babel.dates

    return babel.dates.format_date(day, format=DATE_FORMATS[lang], locale=BABEL_LOCALES[lang])


def plural_form(n: int, lang: str) -> str:
    """'one' or 'other' (CLDR plural rules, Babel): 1 day, 2 days; Chinese has one form."""
    import babel

    return babel.Locale.parse(BABEL_LOCALES[lang]).plural_form(abs(n))


def markdown_cell(text) -> str:
    """Text inside a markdown table cell: a pipe escaped, lines joined."""
    return str(text).replace("|", "\\|").replace("\r", "").replace("\n", " ")


@lru_cache(maxsize=None)
def environment(lang: str) -> "jinja2.Environment":
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / LANGS[lang]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # replies are plain text; each channel escapes for its own markup
        auto_reload=False,  # shipped with the code: no look at the file's time on every reply
    )
    env.globals["t"] = lambda key, **kw: t(lang, key, **kw)
    env.globals["lang"] = lang
    env.filters["num"] = lambda value, decimals=2: fmt_number(value, decimals, lang)
    env.filters["cell"] = markdown_cell
    env.filters["date"] = lambda day: fmt_date(day, lang)
    return env


def render(lang: str, template: str, **context) -> str:
    return environment(lang).get_template(template).render(**context).strip("\n")
