"""The Jiangsu application form (申报表): its description as data (forms/*.yaml) and the pure
checks a reviewer at the city 工信局 makes on a filled one.

A filled form arrives as rows of cells (bot/forms_io.py reads XLSX and DOCX into them). Each
field is found by its label, verbatim from the form, anywhere in a row; its values are the
cells after the label (a yearly field's by the year columns of the header above it). Every
`Finding` names the section, the field and the year, and quotes the form's own sentence.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, model_validator

from .evaluate import FAIL, OPS, UNKNOWN, WARNING as WARN, CriterionResult, Evaluation, Profile, evaluate, evaluate_many
from .facts import _FULL_WIDTH, FigureReader, average_rate, cn_years, per_10k, read_yaml, round2, validate_facts, window
from .rules import JURISDICTIONS, SOURCE_DIR, WORDS, Ruleset, catalogue, load_rulesets

FORM_DIR = Path(__file__).parent / "forms"
ERROR, WARNING = "error", "warning"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Model):
    text: str
    sets: dict[str, Any] = {}
    # Facts this box asks only a part of (产供销协同 of chain_collaboration, whose 布局合理 and
    # 配套能力 the form does not ask): unticked, they are false; ticked, they stay open.
    part_of: list[str] = []


class Field(_Model):
    id: str
    label: str
    kind: Literal["text", "number", "yearly", "choice", "checklist", "named_count", "long_text",
                  "target", "stages", "statement", "date", "signature"]
    fact: Optional[str] = None
    take: Literal["series", "latest"] = "series"
    integer: bool = False
    min: float = 0
    max: Optional[float] = None
    required: bool = True
    options: list[Option] = []
    count: Optional[str] = None  # a checklist: the fact that counts its ticks
    sets: dict[str, Any] = {}    # facts declared when the field is filled (the opposite when 无)
    text: Any = None             # a statement's text; a target: True when it is a description
    direction: Optional[str] = None  # a plan target's 方向 (主导产业, 创新, ...)
    # The row this one belongs to, where its own label is not unique (联系人 of 集群运营管理机构) or
    # says nothing alone (国家级 of the 荣誉 row): findings name it. A target's is its direction.
    parent: Optional[str] = None
    parts: list[str] = []        # a label made of the form's words (the standards grid)
    total_of: list[str] = []     # the facts the row counts together, its fact among them: the others read as 0
    quote: Optional[str] = None  # what a finding on the field quotes, when not its label

    @property
    def quoted(self) -> str:
        return self.quote or self.label

    @property
    def under(self) -> str | None:
        """The row a finding on this field names besides its label, if any."""
        return self.parent or self.direction

    @model_validator(mode="after")
    def _label_of_parts(self):
        if self.parts and "".join(self.parts) != self.label:
            raise ValueError(f"{self.id}: label {self.label} is not its parts {self.parts}")
        return self


class Section(_Model):
    id: str
    title: str
    fields: list[Field]


class Consistency(_Model):
    kind: Literal["average_of", "per_10k", "not_above", "reduction_of", "union_of", "total_of"]
    quote: str
    field: Optional[str] = None
    fact: Optional[str] = None
    of: Any = None
    bound: Optional[str] = None
    severity: Literal["error", "warning"] = ERROR


class Target(_Model):
    field: str
    rule: Literal["target_at_least", "rising", "growth_at_least", "about", "reduction_about"]
    quote: str
    word: Optional[str] = None
    value: Optional[float] = None
    stages: Optional[str] = None
    baseline_field: Optional[str] = None
    baseline_fact: Optional[str] = None


class Plan(_Model):
    max_chars: int
    length_quote: str
    headings: list[str]
    baseline_quote: str
    about_band: float
    targets: list[Target]


class Promise(_Model):
    quote: str
    fact: str
    false_when: list[Any]


class FormSpec(_Model):
    id: str
    title: str
    source: str
    measure: str
    years: list[str]
    data_year: str
    quotes: dict[str, str]
    units: dict[str, list[str]]  # catalogue unit → the units a cell of its rows may be written with
    sections: list[Section]
    derive: dict[str, dict[str, list[str]]]
    consistency: list[Consistency]
    plan: Plan
    promises: list[Promise]

    def fields(self):
        """(section, field) in the form's order."""
        for section in self.sections:
            for f in section.fields:
                yield section, f

    def field(self, field_id: str) -> Field:
        return next(f for _, f in self.fields() if f.id == field_id)

    def section_of(self, field_id: str) -> Section:
        return next(s for s, f in self.fields() if f.id == field_id)

    def source_text(self) -> str:
        return (SOURCE_DIR / self.source).read_text(encoding="utf-8")

    def quotations(self):
        """(where, text) for every verbatim text the description carries."""
        for section, f in self.fields():
            yield from ((f"{section.id}.{f.id}", part) for part in f.parts or [f.label])
            yield f"{section.id}.{f.id}.quote", f.quoted
            if f.under:
                yield f"{section.id}.{f.id}.under", f.under
            for option in f.options:
                yield f"{f.id}.option", option.text
            if f.kind == "statement":  # XXX stands for the cluster's or city's name
                yield from ((f"{f.id}.text", part) for part in f.text.split(PLACEHOLDER))
        for key, text in self.quotes.items():
            yield f"quotes.{key}", text
        for c in self.consistency:
            yield f"consistency.{c.kind}", c.quote
        plan = self.plan
        yield from (("plan.length", plan.length_quote), ("plan.baseline", plan.baseline_quote))
        yield from (("plan.heading", h) for h in plan.headings)
        yield from ((f"plan.{t.field}", t.quote) for t in plan.targets)
        yield from (("promise", p.quote) for p in self.promises)


@lru_cache(maxsize=None)
def load_form(name: str = "jiangsu-2023") -> FormSpec:
    spec = FormSpec.model_validate(read_yaml(FORM_DIR / f"{name}.yaml"))
    facts = catalogue().facts
    for _, f in spec.fields():
        for fact in [f.fact, f.count, *f.sets, *f.total_of, *(k for o in f.options for k in [*o.sets, *o.part_of])]:
            if fact is not None and fact not in facts:
                raise ValueError(f"form {spec.id}: field {f.id} names an unknown fact {fact}")
    return spec


# --- finding a field in the rows ---------------------------------------------------------

def squeeze(text: Any) -> str:
    """The text without white space: how labels and quotations are compared."""
    return "" if text is None else "".join(str(text).split())


PLACEHOLDER = "XXX"  # the form's stand-in for a name: 我市本次申报的XXX集群, XXX市工业和信息化局
YEAR_HEAD = re.compile(r"^((?:19|20)\d\d)年度?$")  # 2021年, 2021年度


@dataclass
class Located:
    """A field's cells as found: the values after its label, and the header's years."""

    values: list[Any]
    years: dict[str, Any] | None = None  # year → cell, from the year columns of the header above
    head: tuple[str, ...] = ()  # that header's years, in its columns' order
    unit: str | None = None  # the money unit its label was written with, where not the form's (万元 for 亿元)


def year_text(text: str) -> str:
    """A year head as the chat reads a year: ２０２１年 and 二〇二一年 are 2021年."""
    return cn_years(text.translate(_FULL_WIDTH))


def _bare_year(cell: Any) -> int | None:
    """A year written as a number, 2021 or "2021"."""
    if isinstance(cell, str) and len(squeeze(cell)) == 4 and squeeze(cell).isdecimal():
        cell = int(squeeze(cell))
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return cell if type(cell) is int and 1900 <= cell <= 2099 else None


class Table(list):
    """A table's rows, with the name of the sheet it is (None for a Word table)."""

    def __init__(self, rows=(), title: str | None = None):
        super().__init__(rows)
        self.title = title


def sheet_sections(spec: FormSpec, tables: list[list[list[Any]]]) -> list[Section | None] | None:
    """Each table's section, by the name of its sheet (the template names each sheet after its
    section); None when no sheet bears a section's name (a Word document, renamed sheets):
    then every table is read for every field."""
    by_title = {squeeze(s.title[:31]): s for s in spec.sections}  # a sheet's name has 31 characters at most
    sections = [by_title.get(squeeze(getattr(table, "title", None))) for table in tables]
    if not any(sections):
        return None
    # A sheet renamed by the applicant (主导产业, Sheet3) whose labels are those of one section
    # alone, a section without a sheet of its own name, is read as that section (and said so):
    # a copy of a section beside its own sheet, or labels of several (数据来源说明), stay unread.
    claims: dict[int, list[int]] = {}
    for n, table in enumerate(tables):
        if sections[n] is None:
            own = {id(s) for row in table for cell in row if (s := _label_section(spec, cell)) is not None}
            if len(own) == 1:
                claims.setdefault(own.pop(), []).append(n)
    for s in spec.sections:
        if all(s is not x for x in sections) and len(claims.get(id(s), ())) == 1:
            sections[claims[id(s)][0]] = s
    return sections


def _label_section(spec: FormSpec, cell: Any) -> Section | None:
    """The section whose field a cell's text labels, when that label is of one section alone."""
    return _labels_sections(spec).get(squeeze(cell)) if isinstance(cell, str) else None


_LABELS_SECTIONS: dict[int, tuple[FormSpec, dict[str, Section]]] = {}


def _labels_sections(spec: FormSpec) -> dict[str, Section]:
    if id(spec) not in _LABELS_SECTIONS:  # the spec kept beside its map: its id stays its own
        owners: dict[str, dict[int, Section]] = {}
        for s, f in spec.fields():
            owners.setdefault(squeeze(f.label), {})[id(s)] = s
        _LABELS_SECTIONS[id(spec)] = (spec, {label: next(iter(s.values())) for label, s in owners.items()
                                             if label and len(s) == 1})
    return _LABELS_SECTIONS[id(spec)][1]


def renamed_sheets(spec: FormSpec, tables: list[list[list[Any]]], sections) -> list[tuple[str, Section | None]]:
    """(sheet name, the section it is read as, None when not read) of each sheet not named as a
    section of the form."""
    by_title = {squeeze(s.title[:31]) for s in spec.sections}
    return [(table.title, section) for table, section in zip(tables, sections or ())
            if squeeze(table.title) not in by_title]


def locate(spec: FormSpec, tables: list[list[list[Any]]]) -> dict[str, Located]:
    """Each field's cells, from the tables (sheets) in the document's order. A label that
    occurs twice (联系人) is the next field of that label in the form's order. In a workbook
    whose sheets bear the sections' names, a section's fields are read from its own sheet only,
    and a sheet of another name is not read: its labels (a 数据来源说明 repeating the rows)
    never stand in for the form's."""
    by_label: dict[str, list[Field]] = {}
    section_of = {f.id: s for s, f in spec.fields()}
    relabelled: dict[str, str] = {}  # a label with the other money unit (集群总产值（万元）) → that unit
    for _, f in spec.fields():
        by_label.setdefault(squeeze(f.label), []).append(f)
        for unit, label in money_relabels(f):
            by_label.setdefault(label, []).append(f)
            relabelled[label] = unit
    # A label with XXX for a name (XXX市工业和信息化局, the 承诺函's signature): the name written
    # in its place, as the letter asks, is that label filled in.
    named = [(f, re.compile(".+?".join(map(re.escape, squeeze(f.label).split(PLACEHOLDER)))))
             for _, f in spec.fields() if PLACEHOLDER in f.label]
    found: dict[str, Located] = {}
    sections = sheet_sections(spec, tables)
    own: Section | None = None  # the section of the sheet being read, in such a workbook

    def field_at(text: str, first: bool) -> tuple[Field, str, bool] | None:
        """The field a cell names, the label it matched, and whether the cell is the label with
        the name written in place of XXX (then the row's first cell, in its section: a 县级市's
        工业和信息化局 in 一、基本情况 is no 承诺函)."""
        if len(text) > 200:
            return None
        text = text.rstrip("：:").replace("(", "（").replace(")", "）")  # the form's labels: full-width brackets
        mine = lambda f: f.id not in found and (own is None or section_of[f.id] is own)  # noqa: E731
        # The whole cell first, then the cell up to each bracket: a label with a note after it.
        for label in [text] + [text[:i] for i, ch in enumerate(text) if ch == "（" and i]:
            f = next((f for f in by_label.get(label, ()) if mine(f)), None)
            if f is not None:
                return f, label, False
        for f, pattern in named:
            if first and mine(f) and pattern.fullmatch(text) and PLACEHOLDER not in text \
                    and any(section_of[x] is section_of[f.id] for x in found):
                return f, text, True
        return None

    header: dict[str, int] = {}
    for n, table in enumerate(tables):
        if sections is not None:
            own = sections[n]
            if own is None:
                continue
        # A sheet's year row holds for that sheet only; a Word table's goes on into the tables
        # after it, as in one sheet: a table split in two (at a page, 续表) has its years above.
        carried = header if getattr(table, "title", None) is None else {}
        header = _locate_in(table, field_at, found, relabelled, carried)
    return found


def _locate_in(table: list[list[Any]], field_at, found: dict[str, Located], relabelled: dict[str, str],
               header: dict[str, int]) -> dict[str, int]:
    """The fields of one table (field_at: the field a label cell names and the label it matched),
    under the year row `header` until one of its own; the year row in force at its end."""
    pending: Field | None = None
    units: dict[str, str] = {}
    in_place: set[str] = set()  # a label with the name written in place of XXX: its own value
    for row in table:
        texts = [squeeze(c) if isinstance(c, str) else "" for c in row]  # a label is text
        starts = []
        for i, text in enumerate(texts):
            if text and (match := field_at(text, not any(texts[:i]))) is not None:
                starts.append((i, match[0]))
                if match[1] in relabelled:
                    units[match[0].id] = relabelled[match[1]]
                if match[2]:
                    in_place.add(match[0].id)
        years = {m.group(1): i for i, text in enumerate(texts) if text and (m := YEAR_HEAD.match(year_text(text)))}
        if not years and not starts and pending is None:
            # 2021 typed as a number (or without 年): a year row when the years follow one another
            # in a row that has no field's label, not the figures of a field.
            bare = {str(y): i for i, c in enumerate(row) if (y := _bare_year(c)) is not None}
            runs = sorted(map(int, bare))
            if len(runs) >= 2 and runs == list(range(runs[0], runs[0] + len(runs))):
                years = bare
        if years:
            header = years
            # The official form heads some year rows with the field itself (工业软件采购金额):
            # its figures are the next row's, a row without a label.
            heading = [f for _, f in starts if f.kind == "yearly"]
            pending = heading[0] if heading else None
            continue
        if pending is not None and not starts:
            starts = [(-1, pending)]
        pending = None
        for n, (i, f) in enumerate(starts):
            if f.id in found:
                continue  # the same label twice in one row: a merged cell read twice
            end = starts[n + 1][0] if n + 1 < len(starts) else len(row)
            values = list(row[i + 1:end]) + ([row[i]] if f.id in in_place else [])
            located = Located(values)
            if f.kind == "yearly":
                located.years = {y: (row[col] if col < len(row) else None) for y, col in header.items()}
                located.head = tuple(header)
            located.unit = units.get(f.id)
            found[f.id] = located
    return header


def repeated_rows(spec: FormSpec, tables: list[list[list[Any]]], sections,
                  found: dict[str, Located]) -> list[tuple[Field, list[Any]]]:
    """Rows of a sheet whose label is one already read above it (a second 集群总产值（亿元） row,
    a revision pasted below): the field and that row's values. Only labels the form has once;
    a Word table's merged cells repeat their text in every row, so only sheets are looked at."""
    once: dict[str, Field] = {}
    for label, fields in _fields_by_label(spec).items():
        if len(fields) == 1:
            once[label] = fields[0]
    out = []
    for table, section in zip(tables, sections or ()):
        if section is None or getattr(table, "title", None) is None:
            continue
        seen = set()
        for row in table:
            first = next(((i, c) for i, c in enumerate(row) if isinstance(c, str) and squeeze(c)), None)
            if first is None:
                continue
            label = squeeze(first[1]).rstrip("：:").replace("(", "（").replace(")", "）")
            f = once.get(label)
            if f is None or f.id not in found or spec.section_of(f.id) is not section or label == squeeze(section.title):
                continue  # (承诺函 heads its sheet as the section's title)
            values = [v for v in row[first[0] + 1:] if squeeze(v)]
            if f.id in seen and values:
                out.append((f, values))
            seen.add(f.id)
    return out


def _fields_by_label(spec: FormSpec) -> dict[str, list[Field]]:
    by_label: dict[str, list[Field]] = {}
    for _, f in spec.fields():
        by_label.setdefault(squeeze(f.label), []).append(f)
    return by_label


def cluster_name(tables: list[list[list[Any]]], spec: FormSpec | None = None) -> str:
    """The 集群名称 a filled form gives, as written ("" when it gives none)."""
    value = first_value(locate(spec or load_form(), tables).get("cluster_name"))
    return "" if value is None or isinstance(value, Formula) else str(value).strip()


# --- reading the cells -------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    section: str
    field: str | None
    quote: str
    year: str | None = None
    params: dict = field(default_factory=dict)
    under: str | None = None  # the row the field belongs to (Field.under), where its label is not enough


@dataclass(frozen=True)
class Formula:
    """A formula cell without the value Excel computes and keeps when it saves (the file was
    written by a program and never opened in Excel): nothing to read there."""

    text: str
    cell: str  # where it is: D3

    def __str__(self) -> str:
        return self.text


EMPTY_WORDS = ("无", "/", "—", "-")
# A signature's or a seal's cell that says it is not there, or repeats the form's （签字）.
_NOT_SIGNED = re.compile(r"(?:无|/|—|-|签字|签名|签章|盖章|公章|章)$|未|待|暂未|尚未|没有")  # (无锡市… is a seal)
TICKED, UNTICKED = "☑✓✔√■▣☒⊠", "□☐○"
_MARKS = TICKED + UNTICKED
# A box and the option after it (□是), with a tick written after the option (□是√) when
# nothing but white space, a line's end or the next box follows that tick.
# The box and its option on one line: a tick ending a line (是 √) is never the next line's option's.
_MARK = re.compile(f"([{_MARKS}])[ \u3000]*([^{_MARKS}\\n\\t]+)(?:([{TICKED}])(?=[ \u3000]*(?:[\\n\\t{_MARKS}]|$)))?")
# The boxes after the options (是☑ 否☐, 是：√): each mark is the option just before it.
_MARK_AFTER = re.compile(f"([^{_MARKS}\\n\\t]+?)[ \u3000：:]*([{_MARKS}])")
# A box typed with brackets: [x] (√) 【√】 ticked, [ ] ( ) 【 】 not.
_BRACKET_TICK = re.compile(r"[\[(（【][ \u3000]*[xX×✓✔√☑][ \u3000]*[\])）】]")
_BRACKET_BOX = re.compile(r"[\[(（【][ \u3000]*[\])）】]")


_NOTE = re.compile(r"[（(][^）)]*[）)]")
# A note written after a figure: 52.9 注：含预估 (a note in brackets is _NOTE's).
_AFTER_NOTE = re.compile(r"\s*(?:注|备注|说明)\s*[:：](.*)$", re.S)


@lru_cache(maxsize=None)
def _unit_patterns() -> tuple[re.Pattern, re.Pattern]:
    """A unit written after a figure, of those the form's rows take (its `units`, the words
    the chat reads: 900件, 50000名, 1.2吨/万元; 52.9亿 is 亿元), and a count written in 万 of
    its unit (5.2万人 of employees is 52000 人, as it is written)."""
    spec = load_form()
    words = sorted({w for unit_words in spec.units.values() for w in unit_words}, key=len, reverse=True)
    counts = sorted({w for unit, unit_words in spec.units.items() for w in unit_words
                     if "one_en" in catalogue().units.get(unit, {})}, key=len, reverse=True)  # a count's unit
    return (re.compile(f"({'|'.join(map(re.escape, words))})$"),
            re.compile(f"\\d万(?:{'|'.join(map(re.escape, counts))})$"))
# A sum written in the other of the form's two money units: (written, asked) → power of ten.
_SCALE = {("万元", "yi_yuan"): -4, ("亿元", "wan_yuan"): 4, ("亿", "wan_yuan"): 4}


_MONEY_LABEL = re.compile(r"（(万元|亿元)）$")


def _other_money_units(fact) -> list[tuple[str, int]]:
    """For a fact in 亿元 or 万元: the form's other money unit, and the power of ten from it."""
    return [(unit, power) for (unit, asked), power in _SCALE.items()
            if fact is not None and asked == fact.unit and unit != "亿"]


def money_relabels(f: Field) -> list[tuple[str, str]]:
    """(unit, label) for a money row's label written with the other unit (集群总产值（万元）): read,
    and its figures converted, as a sum written in 万元 where 亿元 is asked is."""
    match = _MONEY_LABEL.search(f.label)
    if match is None:
        return []
    return [(unit, squeeze(f.label[:match.start()] + f"（{unit}）"))
            for unit, _ in _other_money_units(catalogue().facts.get(f.fact))]


def parse_number(value: Any) -> tuple[Decimal | None, str | None]:
    """(the number, None) or (None, why not): 'empty', 'none' (填了“无”) or 'not_number'."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "empty"
    if isinstance(value, bool):
        return None, "not_number"
    if isinstance(value, (int, float)):  # a cell of 1E+400 is read by Excel and openpyxl as inf
        return (Decimal(repr(value)), None) if math.isfinite(value) else (None, "not_number")
    if isinstance(value, Decimal):  # a percentage cell, read as shown (dialogs/form_files.py)
        return (value, None) if value.is_finite() else (None, "not_number")
    if any(not _THOUSANDS.fullmatch(run) for run in _SPACED_DIGITS.findall(str(value).translate(_FULL_WIDTH))):
        return None, "not_number"  # 45 48, 300 320: two figures, never 4548 (1\u00a0234 is one, a format's grouping)
    # The form's own notes stay in a cell of the official form: "900 个（需提供清单及年份）".
    text = _figure_text(value).replace(",", "")
    unit, count_in_wan = _unit_patterns()
    tens_of_thousands = count_in_wan.search(text) is not None
    text = unit.sub("", text)
    if text in EMPTY_WORDS:
        return None, "none"
    try:
        number = Decimal(text[:-1] if tens_of_thousands else text)
    except InvalidOperation:
        return None, "not_number"
    if tens_of_thousands:
        number = Decimal(format(number.scaleb(4), "f"))  # 50000, as a message quotes it, not 5E+4
    return (number, None) if number.is_finite() else (None, "not_number")


_SPACED_DIGITS = re.compile(r"\d(?:[\d.]*\s+[\d.]*)+\d")
_THOUSANDS = re.compile(r"\d{1,3}(?:[\u00a0\u202f]\d{3})+(?:\.\d+)?")  # as a locale's format groups them


def _figure_text(value: Any) -> str:
    """A cell's figure and unit without its notes: 450000（万元） is 450000万元, 48.2（初步统计）
    注：… is 48.2."""
    text = _AFTER_NOTE.sub("", squeeze(value).translate(_FULL_WIDTH))
    return _NOTE.sub(lambda m: m.group(0)[1:-1] if _unit_patterns()[0].fullmatch(m.group(0)[1:-1]) else "", text)


def written_unit(value: Any) -> str | None:
    """The unit written after a figure in its cell (450000万元), if any."""
    if not isinstance(value, str):
        return None
    match = _unit_patterns()[0].search(_figure_text(value))
    return match.group(1) if match else None


def cell_notes(spec: FormSpec, value: Any) -> list[str]:
    """The notes written with a figure (48.2（初步统计）, 52.9 注：含预估) other than the form's own
    (900 个（需提供清单及年份）) and a unit in brackets."""
    if not isinstance(value, str):
        return []
    text = squeeze(value)
    after = _AFTER_NOTE.search(text)
    notes = [m.group(0)[1:-1] for m in _NOTE.finditer(text[:after.start()] if after else text)]
    notes += [after.group(1)] if after and after.group(1) else []
    units = {u for unit_words in spec.units.values() for u in unit_words}
    own = _squeezed_source(spec)
    return [n for n in notes if n and n not in units and f"（{n}）" not in own and f"({n})" not in own]


_SOURCES: dict[str, str] = {}


def _squeezed_source(spec: FormSpec) -> str:
    if spec.source not in _SOURCES:
        _SOURCES[spec.source] = squeeze(spec.source_text())
    return _SOURCES[spec.source]


def _plain(bound: float | Decimal) -> str:
    """A range's end as written: 100000, not 100000.00 or 1E+5."""
    return format((bound if isinstance(bound, Decimal) else Decimal(repr(bound))).normalize(), "f")


def ticks(value: Any, options: list[Option]) -> list[Option] | None:
    """The options ticked in a cell (□ / ☑ lines, or a tick after the option: □是√); a cell
    holding an option's bare text ticks it. None when the cell names nothing the field offers,
    or when it holds boxes and something else besides but no tick read (a mark not known)."""
    text = "" if value is None else str(value)
    text = _BRACKET_BOX.sub("□", _BRACKET_TICK.sub("☑", text))
    pattern, found = _MARK, list(_MARK.finditer(text))
    # an option's text without the form's note after it: □否（如涉及，需提供佐证材料）
    marked = [(m.group(1) in TICKED or m.group(3) is not None, squeeze(_NOTE.sub("", m.group(2)))) for m in found]
    known = {squeeze(o.text) for o in options}
    if not any(line.strip(" \u3000")[:1] in _MARKS for line in text.splitlines() if line.strip(" \u3000")):
        # no line begins with a box: the marks follow their options (是☑ 否☐), when the first does
        after = [(m.group(2) in TICKED, squeeze(_NOTE.sub("", m.group(1).split()[-1] if m.group(1).split() else "")))
                 for m in _MARK_AFTER.finditer(text)]
        if after and after[0][1].rstrip("：:") in known:
            pattern, marked = _MARK_AFTER, [(tick, option.rstrip("：:")) for tick, option in after]
    if not marked:
        bare = [squeeze(part) for part in re.split(r"[\n、,，;；]", text) if squeeze(part)]
        marked = [(True, b) for b in bare]
    chosen = [o for o in options if (True, squeeze(o.text)) in marked]
    if not chosen and any(t not in known for _, t in marked) and squeeze(text) not in EMPTY_WORDS:
        return None
    rest = squeeze(pattern.sub("", text))  # what the boxes and their options leave
    if not chosen and marked and pattern.search(text) and rest and rest not in EMPTY_WORDS:
        return None
    return chosen


# A figure in Chinese numerals and nothing else but its unit: what the chat's reader is given.
_IN_NUMERALS = re.compile(r"(?:百分之)?[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟][零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟点]*"
                          r"(?:%|个|家|人|项|亿元|万元|元|平方公里)?")
_DATE = re.compile(r"((?:19|20)\d\d)\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")


_CN_DIGIT = re.compile("[〇零一二三四五六七八九十廿卅壹贰叁肆伍陆柒捌玖拾]")
_CN_ZERO = re.compile("(?<=[〇零一二三四五六七八九])[○OoＯ]|[○OoＯ](?=[〇零一二三四五六七八九])")  # 二○二四: a circle for 〇


def _cn_numerals(text: str) -> str:
    """Chinese numerals as figures, by cn2an: 二〇二四年三月十五日 → 2024年3月15日."""
    import cn2an  # here: loading it is a tenth of a second, and most dates are in figures

    try:
        # 卅 (30) as 三十: cn2an reads 廿 but not 卅 (三月卅一日)
        return cn2an.transform(_CN_ZERO.sub("〇", text).replace("卅", "三十"), "cn2an")
    except Exception:  # noqa: BLE001 - cn2an's own errors on what is no numeral: no date then
        return text


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = squeeze(value).translate(_FULL_WIDTH)
    match = _DATE.search(text)
    if not match and _CN_DIGIT.search(text):  # 二〇二四年三月十五日, as a seal's date is often written
        match = _DATE.search(_cn_numerals(text))
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def same_cluster(written: str, name: str) -> bool:
    """Whether a name written for a cluster (in the 承诺函) is the form's 集群名称, shortened or
    lengthened (示例县精密机械, 示例市精密机械产业集群): one holds the other, or they share four
    characters or more running (a county's name alone, 示例县, is not enough)."""
    import difflib

    a, b = (squeeze(x).removesuffix("集群") for x in (written, name))
    if not a or not b or a in b or b in a:
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match().size >= 4


def first_value(located: Located | None) -> Any:
    if located is None:
        return None
    return next((v for v in located.values if squeeze(v)), None)


class _Reader:
    """Turns each field's cells into a value, collecting the findings on the way."""

    def __init__(self, spec: FormSpec, found: dict[str, Located], data_year: str, on: dt.date,
                 figure: FigureReader | None = None):
        self.spec, self.found, self.on, self.figure = spec, found, on, figure
        shift = int(data_year) - int(spec.data_year)
        self.years = [str(int(y) + shift) for y in spec.years]
        self.data_year = data_year
        self.findings: list[Finding] = []
        self.values: dict[str, Any] = {}
        self.heads: set[tuple[str, tuple[str, ...]]] = set()  # the year rows already reported

    def add(self, code: str, f: Field | None, quote: str | None = None, severity: str = ERROR,
            year: str | None = None, section: Section | None = None, **params) -> None:
        section = section or self.spec.section_of(f.id)
        self.findings.append(Finding(code, severity, section.title, f.label if f else None,
                                     quote or self.spec.quotes["required"], year, params, f.under if f else None))

    def fractions(self, f: Field, cells) -> list[bool]:
        """Which of a row's cells (its years) hold a share written as a fraction (0.81 for 81%):
        a plain number, neither a percentage cell (read as shown) nor written with %, that
        Fact.fractions takes for one among the row's figures."""
        fact = catalogue().facts.get(f.fact) if f.fact else None
        figures = {i: n for i, c in enumerate(cells) if (n := parse_number(c)[0]) is not None}
        likely = dict(zip(figures, fact.fractions(figures.values()))) if fact else {}
        return [likely.get(i, False) and not isinstance(c, Decimal) and written_unit(c) != "%"
                for i, c in enumerate(cells)]

    def number(self, f: Field, cell: Any, year: str | None = None, fraction: bool = False) -> float | None:
        if self.formula(f, cell, year):
            return None
        number, why = parse_number(cell)
        fact = catalogue().facts.get(f.fact) if f.fact else None
        in_numerals = self.in_numerals(fact, cell) if why == "not_number" else None
        if in_numerals is not None:  # 三百, 百分之八十点五, 四十五亿: read in the fact's unit, as the chat reads them
            number, why = in_numerals, None
        if why == "none":
            # 填报说明 1: "各必填栏目不得空缺，无相关情况时应填写“无”": none of a count or an amount
            # (总产值 无 is 0, and fails 40亿), 0 % of a share; a growth rate of nothing has no figure
            if f.integer or fact is not None and (fact.unit in ("yi_yuan", "wan_yuan") or fact.share and fact.min >= 0):
                return 0
            return None
        if why == "empty":
            if f.required:
                self.add("required", f, year=year)
            return None
        if why == "not_number":
            self.add("not_number", f, f.quoted, year=year, value=str(cell).strip())
            return None
        if f.integer and number != number.to_integral_value():
            self.add("not_integer", f, f.quoted, year=year, value=str(number))
            return None
        if fraction:  # 0.805 for 80.5%: said as such, and not converted
            self.add("fraction", f, f.quoted, WARNING, year=year, value=str(number), percent=_plain(number.scaleb(2)),
                     evaluated=round2(float(number)))  # as the criterion shows it
        in_cell = written_unit(cell) if in_numerals is None else None  # a numeral's unit is read with it
        if fact is not None and fact.unit and in_cell and in_cell not in self.spec.units.get(fact.unit, ()):
            # 45平方公里 in 集群总产值, 45% in a count: not the row's figure, as the chat refuses it
            self.add("wrong_unit", f, f.quoted, year=year, value=" ".join(str(cell).split()), written=in_cell,
                     asked=catalogue().units[fact.unit]["zh"], unit=fact.unit)
            return None
        located = self.found.get(f.id)
        written = in_cell or (located.unit if located else None)  # in the cell, or the label
        scale = _SCALE.get((written, fact and fact.unit)) if in_numerals is None else None
        if scale:  # 450000万元 where 亿元 is asked: 45亿元
            number = number.scaleb(scale).normalize()
        # 保留小数点后2位 is of the figure in the row's unit: 0.012亿元 in a 万元 row is 120万元
        if not fraction and number.as_tuple().exponent < -2:
            self.add("decimals", f, self.spec.quotes["decimals"], year=year, value=str(number),
                     written=" ".join(str(cell).split()) if scale else None, fact=f.fact)
        # The field's bounds and its fact's: a figure the catalogue refuses (集群总产值 typed in
        # 万元, 450000) would otherwise be dropped from the facts without a word.
        low = max(f.min, fact.min) if fact and fact.min is not None else f.min
        highs = [b for b in (f.max, fact.max if fact else None) if b is not None]
        high = min(highs) if highs else None
        within = lambda n: n >= Decimal(repr(low)) and (high is None or n <= Decimal(repr(high)))  # noqa: E731
        if not within(number):
            params = dict(value=str(cell).strip() if scale else str(number), low=_plain(low),
                          high=_plain(high) if high is not None else None, fact=f.fact)
            # A figure in range once read in the other money unit (450000 in a 亿元 row): said, not converted.
            other = [(unit, number.scaleb(power)) for unit, power in _other_money_units(fact)
                     if not scale and within(number.scaleb(power))]
            if other:
                self.add("range_other_unit", f, f.quoted, year=year, **params, written=other[0][0],
                         converted=_plain(other[0][1]))
            else:
                self.add("range" if high is not None else "below", f, f.quoted, year=year, **params)
            return None
        if fact and fact.implausible(float(number)):
            # In range, but beyond any county cluster (92000 in a 亿元 row is 9.2亿 typed in 万元):
            # noted, evaluated as given, as the chat asks it back.
            params = dict(value=_plain(number), limit=_plain(fact.plausible_max), fact=f.fact)
            other = [(unit, number.scaleb(power)) for unit, power in _other_money_units(fact) if power < 0]
            if other and not scale:
                self.add("implausible_other_unit", f, f.quoted, WARNING, year=year, **params, written=other[0][0],
                         converted=_plain(other[0][1]))
            else:
                self.add("implausible", f, f.quoted, WARNING, year=year, **params)
        for note in cell_notes(self.spec, cell):  # 48.2（初步统计）: read as 48.2, the note shown
            self.add("cell_note", f, f.quoted, WARNING, year=year, value=" ".join(str(cell).split()), note=note,
                     number=_plain(number))
        return int(number) if f.integer else float(number)

    def in_numerals(self, fact, cell: Any) -> Decimal | None:
        """A figure written in Chinese numerals alone, with its unit (三百家, 百分之八十点五, 四十五亿),
        read by the chat's reader in the fact's unit; None for anything else (约三百, 十几家)."""
        if self.figure is None or fact is None or not isinstance(cell, str):
            return None
        text = squeeze(cell).translate(_FULL_WIDTH)
        if not _IN_NUMERALS.fullmatch(text):
            return None
        try:
            value = self.figure(fact, text)
        except ValueError:
            return None
        return Decimal(repr(value)) if math.isfinite(value) else None

    def read(self) -> dict[str, Any]:
        for section, f in self.spec.fields():
            located = self.found.get(f.id)
            if located is None:
                if f.required:
                    self.add("missing_row", f, self.spec.quotes["not_a_page"])
                continue
            if located.unit:  # the row's label names the other money unit: its figures are converted
                self.add("label_unit", f, self.spec.quotes["not_a_page"], WARNING, written=located.unit,
                         asked=_MONEY_LABEL.search(f.label).group(1))
            value = getattr(self, f"read_{f.kind}")(f, located)
            if value is not None:
                self.values[f.id] = value
        return self.values

    def formula(self, f: Field, cell: Any, year: str | None = None) -> bool:
        """Whether the cell is a formula never computed, and if so a finding naming it."""
        if isinstance(cell, Formula):
            self.add("formula", f, f.quoted, year=year, cell=cell.cell, formula=cell.text)
        return isinstance(cell, Formula)

    def read_text(self, f: Field, located: Located) -> str | None:
        value = first_value(located)
        if self.formula(f, value):
            return None
        if value is None:
            if f.required:
                self.add("required", f)
            return None
        return str(value).strip()

    read_long_text = read_text

    def read_signature(self, f: Field, located: Located) -> str | None:
        """A signature or a seal: filled, and not with words that say it is not there (无,
        未盖章, 待签字) nor with the form's own （签字）."""
        value = self.read_text(f, located)
        if value is not None and _NOT_SIGNED.match(squeeze(value).strip("（）()").translate(_FULL_WIDTH)):
            self.add("not_signed", f, f.quoted, value=" ".join(value.split()))
            return None
        return value

    def read_statement(self, f: Field, located: Located) -> str | None:
        return "present"

    def read_date(self, f: Field, located: Located) -> dt.date | None:
        value = first_value(located)
        if self.formula(f, value):
            return None
        if value is None:
            if f.required:
                self.add("required", f)
            return None
        day = parse_date(value)
        if day is None:
            self.add("bad_date", f, f.quoted, value=str(value).strip())
        elif day > self.on:  # signed and sealed on a day still to come
            self.add("future_date", f, f.quoted, day=day, on=self.on)
        elif day < (end := dt.date(int(self.data_year), 12, 31)):
            # before the data's year ended (a letter of an earlier round): its 近三年 not yet over
            self.add("early_date", f, self.spec.quotes["data_year"], WARNING, day=day, end=end)
        return day

    def read_number(self, f: Field, located: Located) -> float | None:
        cell = first_value(located)
        return self.number(f, cell, fraction=self.fractions(f, [cell])[0])

    def read_yearly(self, f: Field, located: Located) -> dict | None:
        years = located.years or {}
        self.head(f, located.head)
        out = {}
        fraction = dict(zip(self.years, self.fractions(f, [years.get(y) for y in self.years])))
        for year in self.years:
            if year in years:
                value = self.number(f, years[year], year, fraction[year])
                if value is not None:
                    out[year] = value
        return out or None

    def head(self, f: Field, head: tuple[str, ...]) -> None:
        """A year row without the form's three years is one finding, naming the years found and
        expected, for the row rather than for every field under it; the years there are read."""
        if set(head) == set(self.years):
            return
        section = self.spec.section_of(f.id)
        if (section.id, head) in self.heads:
            return
        self.heads.add((section.id, head))
        later = any(int(y) > int(self.data_year) for y in head)
        quote = self.spec.quotes["data_year" if later else "not_a_page"]
        self.add("years" if head else "no_years", None, quote, section=section, found=list(head),
                 expected=self.years)

    def read_choice(self, f: Field, located: Located) -> list[Option] | None:
        if self.formula(f, first_value(located)):
            return None
        chosen = ticks(first_value(located), f.options)
        if chosen is None:
            self.unread_ticks(f, first_value(located))
            return None
        if not chosen:
            self.add("required", f)
            return None
        if len(chosen) > 1:
            self.add("several", f, f.quoted, options="、".join(o.text for o in chosen))
            return None
        return chosen

    def read_checklist(self, f: Field, located: Located) -> list[Option]:
        if self.formula(f, first_value(located)):
            return []
        if first_value(located) is None and f.required:  # its boxes deleted: 空缺, where 无 is nothing done
            self.add("required", f)
            return []
        chosen = ticks(first_value(located), f.options)
        if chosen is None:
            self.unread_ticks(f, first_value(located))
            return []
        return chosen

    def unread_ticks(self, f: Field, value: Any) -> None:
        """A cell whose ticks are not read: holding the options, its tick is not one known (a
        picture, a glyph of a font); else it names no option."""
        text = squeeze(value)
        code = "tick_unrecognised" if any(squeeze(o.text) in text for o in f.options) else "unknown_option"
        self.add(code, f, f.quoted, value=" ".join(str(value).split()), options="、".join(o.text for o in f.options))

    def read_named_count(self, f: Field, located: Located) -> dict | None:
        cells = [v for v in located.values if squeeze(v)]
        text = "\n".join(str(v) for v in cells)
        match = re.search(r"数量[：:]\s*([^\s个]*)\s*个?", text)
        count_cell = match.group(1) if match else (cells[0] if cells else None)
        names_match = re.search(r"名称[：:]\s*(.*)", text, re.S)
        names_text = names_match.group(1) if names_match else (str(cells[1]) if len(cells) > 1 else "")
        count = self.number(f.model_copy(update={"integer": True}), count_cell)
        names = [n for n in (squeeze(x) for x in re.split(r"[\n、,，;；]", names_text)) if n and n not in EMPTY_WORDS]
        if count is None:
            return None
        if count != len(names):
            self.add("names_mismatch", f, f.label, count=count, names=len(names))
        return {"count": count, "names": names}

    def read_target(self, f: Field, located: Located) -> dict | None:
        cells = (located.values + [None, None])[:2]
        if f.text:
            if not squeeze(cells[1]):
                self.add("required", f, year="2026")
            return None
        base = self.number(f, cells[0], "2023")
        target = self.number(f, cells[1], "2026")
        return {"base": base, "target": target}

    def read_stages(self, f: Field, located: Located) -> list | None:
        cells = (located.values + [None] * 3)[:3]
        return [self.number(f, c, str(2024 + i)) for i, c in enumerate(cells)]


# --- from the form's values to facts ----------------------------------------------------

def form_facts(spec: FormSpec, values: dict[str, Any], data_year: str) -> dict[str, Any]:
    """The catalogue facts the form's values give. Later fields win (the stated average over
    the yearly rates); a checklist's facts are false when none of its options is ticked."""
    facts: dict[str, Any] = {}
    for _, f in spec.fields():
        value = values.get(f.id)
        if f.kind in ("choice", "checklist"):
            if f.id not in values:
                continue
            for option in f.options:
                for fact in option.sets:
                    facts.setdefault(fact, False)
            for option in value:
                facts.update(option.sets)
            facts.update({fact: False for option in f.options if option not in value for fact in option.part_of})
            if f.count:
                facts[f.count] = len(value)
            continue
        if value is None:
            continue
        if f.sets:
            filled = squeeze(value) not in EMPTY_WORDS
            facts.update({k: (v if filled else not v) for k, v in f.sets.items()})
        if f.fact is None:
            continue
        if f.kind == "yearly":
            if f.take == "latest":
                if data_year in value:
                    facts[f.fact] = value[data_year]
            else:
                facts[f.fact] = value
        elif f.kind == "named_count":
            facts[f.fact] = value["count"]
        else:
            facts[f.fact] = value
        if f.total_of and f.fact in facts:
            facts.update({k: 0 for k in f.total_of if k != f.fact})
    for fact, how in spec.derive.items():
        parts = [_total(values.get(p)) for p in next(iter(how.values()))]
        if fact not in facts and all(p is not None for p in parts):
            facts[fact] = sum(parts) if "sum" in how else max(parts)
    return facts


def _total(value: Any) -> float | None:
    """A field's figure for a sum: a named count's count, a yearly field's years added up."""
    if isinstance(value, dict):
        return value["count"] if "names" in value else sum(value.values())
    return value


# --- the checks -------------------------------------------------------------------------

@dataclass
class FormReport:
    name: str
    findings: list[Finding]
    facts: dict[str, Any]
    evaluations: list[Evaluation]
    values: dict[str, Any]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def passed(self) -> bool:
        """No error in the form and no criterion of its own measure failed."""
        return not self.errors and self.evaluations[0].verdict != "not_eligible"


def check_form(tables: list[list[list[Any]]], on: dt.date, extra_facts: dict | None = None,
               data_year: str | None = None, spec: FormSpec | None = None,
               figure: FigureReader | None = None) -> FormReport:
    """Every check of a filled form. `extra_facts` are what the form does not ask (the chat's
    answers, say): the form's figures win where both give one. `figure` reads a figure written
    in Chinese numerals (dialogs.parse.read_figure, the engine not depending on the dialogs)."""
    spec = spec or load_form()
    found = locate(spec, tables)
    data_year = data_year or heads_data_year(spec, found, on)
    reader = _Reader(spec, found, data_year, on, figure)
    sections = sheet_sections(spec, tables)
    for sheet, section in renamed_sheets(spec, tables, sections):
        # a sheet the form does not have: one finding, and it is not read; one renamed, read as its section
        params = {"sheet": sheet} if section is None else {"sheet": sheet, "section": section.title}
        reader.findings.append(Finding("extra_sheet" if section is None else "renamed_sheet", WARNING, spec.title,
                                       None, spec.quotes["not_a_page"], params=params))
    for f, again in repeated_rows(spec, tables, sections, found):  # only the first row of a label is read
        first = [squeeze(v) for v in found[f.id].values if squeeze(v)]
        reader.add("repeated_row", f, spec.quotes["not_a_page"],
                   WARNING if [squeeze(v) for v in again] == first else ERROR,
                   values="、".join(" ".join(str(v).split()) for v in again))
    values = reader.read()
    extra = extra_facts or {}
    # The form's figures win over the extra facts; a figure derived from them (a lower bound,
    # a sum) gives way to one known outright.
    given = {k: v for k, v in form_facts(spec, values, data_year).items() if k not in spec.derive or k not in extra}
    # A row counting several facts (单项冠军 of every level) is read whole as its own fact: a split
    # known besides (the chat's national and provincial answers) is kept where it adds up to the row.
    for _, f in spec.fields():
        parts = [extra.get(k) for k in f.total_of]
        if f.fact in given and parts and all(type(p) is int for p in parts) and sum(parts) == given[f.fact]:
            given.update(zip(f.total_of, parts))
    # 近三年 of the form is the three years up to its data year (截止到申报2023年底).
    facts, _ = validate_facts({**extra, **given, "data_year": int(reader.data_year)}, catalogue())
    checks = _Checks(spec, reader, values, facts, on, form_facts(spec, values, data_year))
    checks.consistency()
    checks.plan()
    checks.statements(tables)
    checks.promises()
    checks.answers(extra)
    rulesets = load_rulesets()
    order = [spec.measure] + [j for j in JURISDICTIONS if j != spec.measure]
    evaluations = evaluate_many(Profile(facts, on), [rulesets[j] for j in order], on)
    # The form's own measure: a failed criterion is a finding, a warning (一般不超过, 重点支持) a note.
    # A year that already fails a 近三年每年 criterion is one too when another year was refused (the
    # criterion stays unknown, but cannot pass): on its row and year, as when no year is refused.
    fails_already = [r for r in evaluations[0].with_status(UNKNOWN)
                     if r.criterion.check.kind == "every_year" and r.outcome.failing_years]
    for result in evaluations[0].with_status(FAIL) + fails_already + evaluations[0].with_status(WARN):
        reader.findings.extend(criterion_findings(spec, values, evaluations[0].ruleset, result))
    name = str(values.get("cluster_name") or "")
    return FormReport(name, reader.findings, facts, evaluations, values)


def fields_of_fact(spec: FormSpec, fact: str) -> list[Field]:
    """The form's rows that give a fact, in the form's order."""
    parts = set(next(iter(spec.derive[fact].values()))) if fact in spec.derive else set()
    return [f for _, f in spec.fields()
            if fact in (f.fact, f.count) or fact in f.sets or fact in f.total_of or f.id in parts
            or any(fact in o.sets or fact in o.part_of for o in f.options)]


def criterion_findings(spec: FormSpec, values: dict, ruleset: Ruleset, result: CriterionResult) -> list[Finding]:
    """A failed criterion of the form's own measure as findings on the row that gave its figure,
    one for each failing year of a 近三年每年 criterion, quoting the article; a criterion with a
    warning as one note there."""
    c, o = result.criterion, result.outcome
    rows = [f for fact in c.facts for f in fields_of_fact(spec, fact)]
    sections = {spec.section_of(f.id).title for f in rows}
    row = None
    if hasattr(c.check, "fact") and rows:  # one figure: its row (the last filled, as later rows win: form_facts)
        row = next((f for f in reversed(rows) if f.id in values), rows[0])
        if "max" in spec.derive.get(c.check.fact, {}):  # the larger of its rows (上云, 上标识) is the figure
            row = max((f for f in rows if f.id in values), key=lambda f: _total(values[f.id]), default=row)
        where = spec.section_of(row.id).title
    else:  # several figures (合计, 或者): their section when they share one, else the form
        where = sections.pop() if len(sections) == 1 else spec.title
    params = {"ruleset": ruleset, "result": result}
    severity = WARNING if result.status == WARN else ERROR  # (unknown: a year given fails already)
    one = Finding("criterion", severity, where, row.label if row else None, c.article_text, None, params,
                  row.under if row else None)
    if c.check.kind != "every_year" or not o.failing_years or severity == WARNING:
        return [one]
    return [replace(one, year=str(year), params={**params, "value": value})
            for year, value in o.years if year in o.failing_years]


def heads_data_year(spec: FormSpec, found: dict[str, Located], on: dt.date) -> str:
    """The form's last year of data: its own (截止到申报2023年底), or a later one when every year
    row of the form has the three years up to it and that year is over on `on`: /form writes
    such a form for answers given to a later year, and 近三年 is the latest complete years."""
    heads = {tuple(sorted(located.head)) for located in found.values() if located.years is not None}
    if len(heads) == 1:
        years = [int(y) for y in heads.pop()]
        if (len(years) == len(spec.years) and years == list(range(years[0], years[0] + len(years)))
                and int(spec.data_year) < years[-1] < on.year):
            return str(years[-1])
    return spec.data_year


def _rounded(figure: float) -> float:
    """round2 of a derived figure; one that overflowed (a baseline of 1e-300) stays infinite."""
    return round2(figure) if math.isfinite(figure) else figure


class _Checks:
    def __init__(self, spec: FormSpec, reader: _Reader, values: dict, facts: dict, on: dt.date, own: dict):
        self.spec, self.reader, self.values, self.facts, self.on = spec, reader, values, facts, on
        self.own = own  # the facts from the form alone

    def add(self, code, field_id, quote, severity=ERROR, **params):
        f = self.spec.field(field_id) if field_id else None
        section = self.spec.section_of(field_id) if field_id else self.spec.sections[-1]
        self.reader.add(code, f, quote, severity, section=section, **params)

    def consistency(self) -> None:
        v = self.values
        for c in self.spec.consistency:
            if c.kind == "average_of" and isinstance(v.get(c.of), dict) and v.get(c.field) is not None:
                derived = average_rate(v[c.of], window(int(self.reader.data_year)))
                # The stated average is written with two decimals: one step of rounding apart.
                if derived is not None and abs(derived - v[c.field]) > 0.011:
                    self.add("average_mismatch", c.field, c.quote, c.severity, stated=v[c.field], derived=derived)
            elif c.kind == "per_10k" and all(v.get(x) is not None for x in c.of) and v.get(c.field) is not None:
                derived = per_10k(v[c.of[0]], v[c.of[1]])
                if derived is not None and abs(derived - v[c.field]) > 0.011:
                    self.add("per_10k_mismatch", c.field, c.quote, c.severity, stated=v[c.field], derived=derived)
            elif c.kind == "not_above" and isinstance(v.get(c.field), dict) and isinstance(v.get(c.bound), dict):
                for year, count in v[c.field].items():
                    bound = v[c.bound].get(year)
                    if bound is not None and count > bound:
                        self.reader.add("exceeds", self.spec.field(c.field), c.quote, c.severity, year=year,
                                        value=count, bound=bound, other=self.spec.field(c.bound).label)
            elif c.kind == "reduction_of" and isinstance(v.get(c.of), dict) and v.get(c.field) is not None:
                years = sorted(v[c.of])  # the years the form has: with a column missing, not the three
                series = [v[c.of][y] for y in years]
                if len(series) >= 2 and series[0] > 0:
                    derived = _rounded((series[0] - series[-1]) / series[0] * 100)
                    if abs(derived - v[c.field]) > 0.011:
                        self.add("reduction_mismatch", c.field, c.quote, c.severity, stated=v[c.field],
                                 derived=derived, first=years[0], last=years[-1])
            elif (c.kind == "total_of" and c.fact in self.own and c.fact in self.facts  # (a sum past its range is refused)
                  and self.facts[c.fact] != self.own[c.fact]):
                self.add("total_mismatch", c.field, c.quote, c.severity, total=self.facts[c.fact],
                         parts=self.own[c.fact], label=catalogue()[c.fact].zh)
            elif c.kind == "union_of" and self.facts.get(c.fact) is not None:
                parts = [v.get(p) for p in c.of]
                union = self.facts[c.fact]
                if all(p is not None for p in parts) and not (max(parts) <= union <= min(100, sum(parts))):
                    self.add("union_mismatch", c.of[0], c.quote, c.severity, union=union,
                             low=max(parts), high=min(100, sum(parts)))

    def plan(self) -> None:
        plan, v = self.spec.plan, self.values
        text = v.get("plan_text")
        if text is not None:
            length = len(squeeze(text))
            if length > plan.max_chars:
                self.add("plan_too_long", "plan_text", plan.length_quote, length=length, most=plan.max_chars)
            missing = [h for h in plan.headings if h not in squeeze(text)]
            if missing:
                self.add("headings_missing", "plan_text", plan.length_quote, headings="、".join(missing))
        band = plan.about_band
        for t in plan.targets:
            got = v.get(t.field)
            if not got:
                continue
            base, target = got["base"], got["target"]
            if t.baseline_field and base is not None and v.get(t.baseline_field) is not None \
                    and base != v[t.baseline_field]:
                self.add("baseline_mismatch", t.field, plan.baseline_quote, base=base, own=v[t.baseline_field],
                         other=self.spec.field(t.baseline_field).label)
            if t.baseline_fact and base is not None:
                self._baseline_standard(t, base)
            if t.rule == "rising":
                stages = [s for s in (v.get(t.stages) or []) if s is not None]
                sequence = [x for x in [base, *stages] if x is not None] or []
                if target is not None and not stages:
                    sequence.append(target)
                if any(b >= a for a, b in zip(sequence[1:], sequence)):
                    self.add("not_rising", t.field, t.quote, values="、".join(map(str, sequence)))
                continue
            if target is None:
                continue
            if t.rule == "target_at_least":
                if not OPS[WORDS[t.word][0]](target, t.value):
                    self.add("target_low", t.field, t.quote, target=target, value=t.value)
            elif t.rule == "growth_at_least" and base:
                growth = _rounded(((target / base) ** (1 / 3) - 1) * 100) if target > 0 and base > 0 else None
                if growth is None or not OPS[WORDS[t.word][0]](growth, t.value):
                    self.add("growth_low", t.field, t.quote, base=base, target=target, growth=growth, value=t.value)
            elif t.rule == "about" and target < round2(t.value * (1 - band)):
                self.add("about_low", t.field, t.quote, WARNING, target=target, value=t.value,
                         floor=round2(t.value * (1 - band)))
            elif t.rule == "reduction_about" and base:
                fall = _rounded((base - target) / base * 100)
                if fall < round2(t.value * (1 - band)):
                    self.add("reduction_low", t.field, t.quote, WARNING, base=base, target=target, fall=fall,
                             value=t.value, floor=round2(t.value * (1 - band)))

    def _baseline_standard(self, t: Target, base: float) -> None:
        """基准值须符合认定标准: the form's own measure's criteria on that fact, with the baseline."""
        ruleset = load_rulesets()[self.spec.measure]
        for result in evaluate({**self.facts, t.baseline_fact: base}, ruleset, self.on).results:
            if t.baseline_fact in result.criterion.facts and result.status == FAIL:
                self.add("baseline_standard", t.field, self.spec.plan.baseline_quote, base=base,
                         citation=result.criterion.citation, article=result.criterion.article_text)

    def statements(self, tables: list[list[list[Any]]]) -> None:
        """The 真实性声明 and the 承诺函 carry their text, with a name in place of each XXX:
        one still XXX, or left out, is a finding quoting the sentence."""
        text = "".join(squeeze(c) for table in tables for row in table for c in row)
        for _, f in self.spec.fields():
            if f.kind != "statement":
                continue
            parts = squeeze(f.text).split(PLACEHOLDER)
            match = re.search("(.*?)".join(map(re.escape, parts)), text)
            if f.id not in self.values or not match:
                self.add("statement_missing", f.id, max(f.text.split(PLACEHOLDER), key=len))
            elif any(not name or PLACEHOLDER in name.upper() for name in match.groups()):
                self.add("placeholder", f.id, f.text)
            else:  # 我市本次申报的XXX集群 with another cluster's name (a letter copied from another form)
                own = squeeze(self.values.get("cluster_name"))
                for name in match.groups():
                    if own and not same_cluster(name, own):
                        self.add("promise_name", f.id, f.text, WARNING, written=name + "集群", name=own,
                                 name_label=self.spec.field("cluster_name").label)

    def answers(self, extra: dict) -> None:
        """A box left unticked where the facts known besides (the chat's answers) say yes, or
        fewer ticks than the count they give: a note on the row (the ticks are evaluated)."""
        for _, f in self.spec.fields():
            if f.kind not in ("choice", "checklist") or f.id not in self.values:
                continue
            facts = [k for o in f.options for k in [*o.sets, *o.part_of]] + ([f.count] if f.count else [])
            for fact in dict.fromkeys(facts):
                known, given = extra.get(fact), self.own.get(fact)
                if (given is False and known is True) or (type(known) is int and type(given) is int and given < known):
                    self.add("answer_contradicted", f.id, f.quoted, WARNING, fact=fact, known=known, given=given)

    def promises(self) -> None:
        for p in self.spec.promises:
            value = self.facts.get(p.fact)
            if value is not None and value in p.false_when:
                self.add("promise_false", "promise_text", p.quote, fact=p.fact, value=value)
