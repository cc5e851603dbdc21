"""Rulesets as data: one YAML file per measure in rulesets/, loaded whole and validated.

A criterion carries its citation, the verbatim article text and one check. A check is a
small named kind (threshold, every_year, sum, any_of, declared, ...) whose parameters sit
beside the text they come from. The comparison word is kept as written (高于, 不低于, ...)
and turned into an operator here, in one table, so a reviewer can see that 高于 became `>`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .facts import Catalogue, load_catalogue, read_yaml

RULESET_DIR = Path(__file__).parent / "rulesets"
SOURCE_DIR = Path(__file__).parent / "sources"

# The comparison words of Chinese legal drafting, read literally (facts.md):
# 以上、以下、不低于、不少于、不超过、至少 include the number; 高于、低于、超过、不满 exclude it.
# 一般不超过 is a soft limit: exceeding it is a warning for the reviewers, not a failure.
WORDS: dict[str, tuple[str, bool]] = {
    "以上": (">=", False),
    "不低于": (">=", False),
    "不少于": (">=", False),
    "至少": (">=", False),
    "高于": (">", False),
    "超过": (">", False),
    "以下": ("<=", False),
    "不超过": ("<=", False),
    "低于": ("<", False),
    "不满": ("<", False),
    "一般不超过": ("<=", True),
}
JURISDICTIONS = ("national", "jiangsu", "guangdong", "shaanxi")
# What each measure is called besides its id, lowered: in -j (江苏, 工信部) and in a question,
# where a name of one character (苏) is not read alone.
JURISDICTION_NAMES = {
    "national": ("国家", "工信部", "全国", "国家级", "miit"),
    "jiangsu": ("江苏", "江苏省", "苏"),
    "guangdong": ("广东", "广东省", "粤"),
    "shaanxi": ("陕西", "陕西省", "陕"),
}

# The provinces whose own measure the product has not (a cluster there is certified by the
# national measure alone; the three provinces' measures are for comparison): read as 其他省份
# in the chat, and said to have no measure here when a quick question names one (浙江 专利).
OTHER_PROVINCES = frozenset(
    "北京 天津 河北 山西 内蒙古 辽宁 吉林 黑龙江 上海 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广西 海南 重庆 四川 "
    "贵州 云南 西藏 甘肃 青海 宁夏 新疆 香港 澳门 台湾".split()
    # in English too (not shanxi: Shaanxi's, 陕西, name misspelt as often as 山西's spelt)
    + [name.replace("_", " ") for name in
       "beijing tianjin hebei inner_mongolia neimenggu liaoning jilin heilongjiang shanghai zhejiang anhui fujian "
       "jiangxi shandong henan hubei hunan guangxi hainan chongqing sichuan guizhou yunnan tibet xizang gansu "
       "qinghai ningxia xinjiang hong_kong macao macau taiwan".split()])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class ThresholdCheck(_Model):
    """A number (or a rate's average, or a derived figure) against a threshold."""
    kind: Literal["threshold"]
    fact: str
    word: str
    value: float


class EveryYearCheck(_Model):
    """Every one of the three latest years of a series against a threshold (近三年…均)."""
    kind: Literal["every_year"]
    fact: str
    word: str
    value: float


class SumCheck(_Model):
    """The sum of several counts against a threshold (企业合计不少于…家)."""
    kind: Literal["sum"]
    facts: list[str]
    word: str
    value: float


class DeclaredCheck(_Model):
    """A yes/no the applicant declares; `declared` must be yes, `declared_not` must be no."""
    kind: Literal["declared", "declared_not"]
    fact: str


class PreferredCheck(_Model):
    """A preference of the measure (重点支持): no gives a warning, never a failure."""
    kind: Literal["preferred"]
    fact: str


class RankCheck(_Model):
    kind: Literal["rank_at_least"]
    fact: str
    rank: str
    # The article's own words when they name more than the least rank (江苏：全省乃至全国前列);
    # otherwise the summary names the rank alone (全省前列).
    words: Optional[Text] = None


class LevelCheck(_Model):
    """The worst incident must stay below `bound`."""
    kind: Literal["level_below"]
    fact: str
    bound: str


class FallingCheck(_Model):
    """持续下降: each of the three latest years strictly below the one before."""
    kind: Literal["falling"]
    fact: str


class AnyOfCheck(_Model):
    kind: Literal["any_of"]
    checks: list["Check"]


class AllOfCheck(_Model):
    """Every part must pass: one requirement that another fact can contradict (符合国家产业政策
    is false for a 禁止、限制和淘汰类 industry)."""
    kind: Literal["all_of"]
    checks: list["Check"]


Check = Annotated[
    Union[ThresholdCheck, EveryYearCheck, SumCheck, DeclaredCheck, PreferredCheck,
          RankCheck, LevelCheck, FallingCheck, AnyOfCheck, AllOfCheck],
    Field(discriminator="kind"),
]
AnyOfCheck.model_rebuild()
AllOfCheck.model_rebuild()


def check_facts(check) -> list[str]:
    """The fact ids a check reads, in order."""
    if isinstance(check, (AnyOfCheck, AllOfCheck)):
        return [f for sub in check.checks for f in check_facts(sub)]
    if isinstance(check, SumCheck):
        return list(check.facts)
    return [check.fact]


class Criterion(_Model):
    id: str
    citation: str
    article_text: str
    check: Check
    applies_if: Optional[str] = None
    exclusion: bool = False  # a 不存在下列情形 item: the text names what must NOT be the case
    reading: Optional[Text] = None
    reading_if_failed: Optional[Text] = None  # the reading's conclusion, said only when the criterion fails
    source: Optional[str] = None  # the shipped text quoted, when not the measure's own (the Jiangsu form)

    def reading_text(self, lang: str, failed: bool) -> str | None:
        """The reading, its conclusion (`reading_if_failed`) said where it fails or where the
        rule itself is described (/why), not of a result that passes or is unknown."""
        if self.reading is None:
            return None
        conclusion = self.reading_if_failed.get(lang) if self.reading_if_failed and failed else ""
        return self.reading.get(lang) + (" " if lang == "en" and conclusion else "") + conclusion

    @cached_property
    def facts(self) -> list[str]:
        found = ([self.applies_if] if self.applies_if else []) + check_facts(self.check)
        return list(dict.fromkeys(found))


class Term(_Model):
    from_: dt.date = Field(alias="from")
    years: Optional[int] = None
    citation: str
    article_text: str

    @property
    def last_day(self) -> dt.date | None:
        """The last day the measure is in force: N years counted from its first day."""
        if self.years is None:
            return None
        return add_years(self.from_, self.years) - dt.timedelta(days=1)


class Quote(_Model):
    citation: str
    article_text: str


class AnnualReport(Quote):
    month: int
    day: int
    to: Text
    # Whether missing it is the revocation item `deadlines.missed.annual_report` names. Jiangsu's
    # 3月底 年度发展报告 to the local authority is a separate duty from the 4月10日 信息表 that
    # 第十四条（三） names, and the measure states no consequence for it.
    revocable: bool = True

    @model_validator(mode="after")
    def _a_real_day(self):
        dt.date(2001, self.month, self.day)  # a date every year has (never 2月29日)
        return self


class Validity(Quote):
    years: int


class Ground(Quote):
    """A ground for revocation, and the facts of the criteria it also covers once certified
    (the accident of （五） that the criteria bar before certification): a question on those
    criteria that asks what then (会怎样, what if) is answered with this ground too. `gist`: the
    ground in a few words, said to an English reader beside the verbatim quotation (and in
    `deadlines -f json`)."""
    gist: Text
    facts: tuple[str, ...] = ()


class Revocation(Quote):
    """The revocation article: its lead-in (…撤销其认定) and every ground （一）–（五）."""
    grounds: tuple[Ground, ...]  # a tuple: a Deadline quoting this stays hashable


class Missed(_Model):
    """The ground a missed date falls under (the ruleset names it by its citation)."""
    annual_report: Ground
    re_review: Ground


class Deadlines(_Model):
    annual_reports: list[AnnualReport]
    validity: Validity
    revocation: Revocation
    missed: Missed

    @model_validator(mode="before")
    @classmethod
    def _missed_are_grounds(cls, data):
        # Each ground's text is written once, in revocation.grounds; `missed` names them.
        grounds = {g["citation"]: g for g in data["revocation"]["grounds"]}
        missed = {}
        for kind, citation in data["missed"].items():
            if citation not in grounds:
                raise ValueError(f"missed.{kind}: {citation} is not one of revocation.grounds")
            missed[kind] = grounds[citation]
        return {**data, "missed": missed}

    @property
    def duties(self) -> list[Quote]:
        """The standing duties of a certified cluster: the grounds no date names (发现虚假申报…,
        重大变动未及时更新报备, 较大及以上…事故)."""
        dated = {self.missed.annual_report.citation, self.missed.re_review.citation}
        return [g for g in self.revocation.grounds if g.citation not in dated]


class Application(_Model):
    """The certification procedure (认定程序): who applies, to whom the materials go, who
    recommends and who certifies; a summary in each language and every step verbatim."""
    summary: Text
    steps: tuple[Quote, ...]


class Ruleset(_Model):
    id: str
    jurisdiction: Literal["national", "jiangsu", "guangdong", "shaanxi"]
    version: str
    title: Text
    short: Text
    issuer: Text  # English with "the", as the reports' `to`: it is named inside sentences
    document: str
    issued: dt.date
    source: str
    term: Term
    deadlines: Deadlines
    application: Application
    criteria: list[Criterion]

    @model_validator(mode="after")
    def _unique_ids(self):
        ids = [c.id for c in self.criteria]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.id}: duplicate criterion ids")
        return self

    @cached_property
    def facts(self) -> list[str]:
        """Every fact this measure reads (in criterion order)."""
        return list(dict.fromkeys(f for c in self.criteria for f in c.facts))

    def source_text(self, source: str | None = None) -> str:
        return (SOURCE_DIR / (source or self.source)).read_text(encoding="utf-8")


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 2月29日 becomes 3月1日 in a common year, so that
    the period still covers whole years (its last day is then 2月28日)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def _validate_against_catalogue(ruleset: Ruleset, cat: Catalogue) -> None:
    levels, ranks = set(cat.level_order), set(cat.rank_order)

    def walk(check, where):
        for fact in check_facts(check):
            if fact not in cat.facts:
                raise ValueError(f"{where}: unknown fact {fact}")
        if hasattr(check, "word") and check.word not in WORDS:
            raise ValueError(f"{where}: unknown comparison word {check.word}")
        if isinstance(check, LevelCheck) and check.bound not in levels:
            raise ValueError(f"{where}: unknown level")
        if isinstance(check, RankCheck) and check.rank not in ranks:
            raise ValueError(f"{where}: unknown rank")
        if isinstance(check, (AnyOfCheck, AllOfCheck)):
            for sub in check.checks:
                walk(sub, where)

    for c in ruleset.criteria:
        walk(c.check, f"{ruleset.id}/{c.id}")
    for g in ruleset.deadlines.revocation.grounds:
        if unknown := set(g.facts) - set(cat.facts):
            raise ValueError(f"{ruleset.id}/{g.citation}: unknown facts {sorted(unknown)}")
        if c.applies_if and cat.facts[c.applies_if].type != "bool":
            raise ValueError(f"{ruleset.id}/{c.id}: applies_if must name a yes/no fact")


@lru_cache(maxsize=None)
def catalogue() -> Catalogue:
    return load_catalogue()


@lru_cache(maxsize=None)
def load_rulesets(folder: Path = RULESET_DIR) -> dict[str, Ruleset]:
    """Every ruleset in the folder, keyed by jurisdiction: a new file needs no registration."""
    cat = catalogue()
    found: dict[str, Ruleset] = {}
    for path in sorted(folder.glob("*.yaml")):
        ruleset = Ruleset.model_validate(read_yaml(path))
        _validate_against_catalogue(ruleset, cat)
        if ruleset.jurisdiction in found:
            raise ValueError(f"two rulesets for {ruleset.jurisdiction}")
        found[ruleset.jurisdiction] = ruleset
    return {j: found[j] for j in JURISDICTIONS if j in found}


def parse_jurisdictions(text: str) -> list[str]:
    """'all' (全部), one measure's id or name (jiangsu, 江苏, 工信部), or a list of them (national,江苏;
    国家，江苏; 国家、江苏; 国家 江苏, as the chat takes them); raises ValueError naming the ones unknown."""
    by_name = {name: j for j, names in JURISDICTION_NAMES.items() for name in (j, *names)}
    names = [part.strip() for part in re.split(r"[,、;\s]", unicodedata.normalize("NFKC", text).lower()) if part.strip()]
    if not names or "all" in names or "全部" in names:
        return list(JURISDICTIONS)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(", ".join(unknown))
    return list(dict.fromkeys(by_name[n] for n in names))


def certified_together(jurisdictions: list[str]) -> bool:
    """Whether one cluster can be certified under all these measures: the national one, one
    province's, or both (a province certifies only its own clusters)."""
    return len([j for j in jurisdictions if j != "national"]) <= 1
