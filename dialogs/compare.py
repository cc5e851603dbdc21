"""The measures side by side: every criterion's requirement per measure (`clusterbot rules`),
and the quick questions that find criteria by free text (`研发经费增长要求多少`, `江苏 专利`)."""

from __future__ import annotations

import re

from engine import WORDS, catalogue, load_rulesets
from engine.deadlines import duties
from engine.rules import Criterion, Ruleset, check_facts
from locales import t
from locales.deadlines import duties_block
from locales.explain import label, unit_after

from .reports import pad, text_width

# Words that name a jurisdiction in a question.
JURISDICTION_WORDS = {
    "national": ("国家", "全国", "工信部", "national", "miit", "国家级"),
    "jiangsu": ("江苏", "苏", "jiangsu"),
    "guangdong": ("广东", "粤", "guangdong"),
    "shaanxi": ("陕西", "陕", "shaanxi"),
}


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:.2f}"


def requirement(check, lang: str) -> str:
    """A check in a few words: 高于10%, 近三年每年均40亿元以上, 小巨人+单项冠军合计不少于3家."""
    cat = catalogue()
    kind = check.kind
    if kind in ("threshold", "every_year", "sum"):
        first = check.facts[0] if kind == "sum" else check.fact
        op, _ = WORDS[check.word]
        key = "requirement.threshold_after" if check.word in ("以上", "以下") else "requirement.threshold"
        text = t(lang, key, word=check.word, value=_plain(check.value), unit=unit_after(first, lang),
                 op=t(lang, f"op.{op}"))
        if kind == "every_year":
            return t(lang, "requirement.every_year", requirement=text)
        if kind == "sum":
            labels = "+".join(cat[f].short_label(lang) for f in check.facts)
            return t(lang, "requirement.sum", labels=labels, requirement=text)
        return text
    if kind in ("any_of", "all_of"):
        return t(lang, f"requirement.{kind}_sep").join(_named(sub, lang) for sub in check.checks)
    if kind == "rank_at_least":
        return check.words.get(lang) if check.words else t(lang, f"requirement.rank_at_least_{check.rank}")
    if kind == "level_below":
        return t(lang, "requirement.level_below", bound=cat.option_label("level", check.bound, lang))
    return t(lang, f"requirement.{kind}")


def _named(check, lang: str) -> str:
    """A part of an any_of/all_of with the fact it reads named (“属于禁止、限制和淘汰类产业”须不存在):
    alone in its row the criterion's name says it, beside another part it would not."""
    if check.kind in ("sum", "any_of", "all_of"):  # these name their facts themselves
        return requirement(check, lang)
    return t(lang, "requirement.named", label=catalogue()[check.fact].short_label(lang),
             requirement=requirement(check, lang))


def criterion_requirement(c: Criterion, lang: str) -> str:
    text = requirement(c.check, lang)
    if c.applies_if:
        text += t(lang, "requirement.applies_if", label=label(c.applies_if, lang))
    return text


def topics(rulesets: list[Ruleset]) -> list[str]:
    """Criterion ids of all the measures, ordered by the application form's groups."""
    cat = catalogue()
    order = {f: i for i, f in enumerate(cat.facts)}
    group_order = {g["id"]: i for i, g in enumerate(cat.groups)}
    first_fact: dict[str, str] = {}
    for r in rulesets:
        for c in r.criteria:
            first_fact.setdefault(c.id, check_facts(c.check)[0])
    return sorted(first_fact, key=lambda cid: (group_order[cat[first_fact[cid]].group], order[first_fact[cid]]))


def _find(ruleset: Ruleset, criterion_id: str) -> Criterion | None:
    return next((c for c in ruleset.criteria if c.id == criterion_id), None)


def criteria_side_by_side(rulesets: list[Ruleset], lang: str, fmt: str = "table",
                          only: list[str] | None = None, with_text: bool = False) -> str:
    """Each criterion with every measure's requirement and citation, side by side."""
    ids = only if only is not None else topics(rulesets)
    if fmt == "markdown":
        head = [t(lang, "compare.criterion")] + [r.short.get(lang) for r in rulesets]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for cid in ids:
            cells = [t(lang, f"criterion.{cid}")]
            for r in rulesets:
                c = _find(r, cid)
                cells.append(t(lang, "requirement.absent") if c is None else
                             f"{criterion_requirement(c, lang)}（{c.citation}）" if lang == "zh" else
                             f"{criterion_requirement(c, lang)} ({c.citation})")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
    names = [r.short.get(lang) for r in rulesets]
    width = max(text_width(n) for n in names) + 2
    lines = [t(lang, "compare.heading"), ""]
    for cid in ids:
        lines.append(t(lang, f"criterion.{cid}"))
        for r, name in zip(rulesets, names):
            c = _find(r, cid)
            if c is None:
                lines.append("  " + pad(name, width) + t(lang, "requirement.absent"))
                continue
            lines.append("  " + pad(name, width) + f"{criterion_requirement(c, lang)}  [{c.citation}]")
            if with_text:
                lines.append("  " + " " * width + f"“{c.article_text}”")
        lines.append("")
    return "\n".join(lines).rstrip()


# --- quick questions ---------------------------------------------------------------------

def _bigrams(text: str) -> set[str]:
    """Pairs of adjacent characters of the CJK runs, and the Latin words, of a text."""
    text = text.lower()
    # a Latin word singular: "patent" finds "patents" (the ask hint's own example did not)
    grams = {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
             for w in re.findall(r"[a-z0-9&]+", text)}
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            grams.add(run)
    return grams


# Question words that carry no topic.
_FILLER = _bigrams("要求多少是什么怎么样条件标准规定需要哪些有没有门槛认定吗呢啊") | {
    "what", "is", "the", "for", "how", "much", "many", "required", "requirement", "of", "in", "a", "does"}


def search_criteria(query: str, lang: str) -> tuple[list[Ruleset], list[str]]:
    """The measures a question names (all when none) and the criteria it is about, best first."""
    rulesets = load_rulesets()
    lowered = query.lower()
    named = [j for j, words in JURISDICTION_WORDS.items() if any(w in lowered for w in words if len(w) > 1)]
    chosen = [rulesets[j] for j in named] or list(rulesets.values())
    wanted = _bigrams(query) - _FILLER
    for words in JURISDICTION_WORDS.values():
        for w in words:
            wanted -= _bigrams(w)
    if not wanted:
        return chosen, []
    scores: dict[str, float] = {}
    for cid in topics(chosen):
        texts = [t("zh", f"criterion.{cid}"), t("en", f"criterion.{cid}")]
        for r in chosen:
            c = _find(r, cid)
            if c:
                texts.append(c.article_text)
                texts.extend(catalogue()[f].label(x) for f in c.facts for x in ("zh", "en"))
        name_hits = len(wanted & (_bigrams(texts[0]) | _bigrams(texts[1])))
        all_hits = len(wanted & set().union(*(_bigrams(x) for x in texts)))
        if all_hits:
            scores[cid] = name_hits * 2 + all_hits
    if not scores:
        return chosen, []
    best = max(scores.values())
    # Keep the criteria close to the best match: a question is usually about one topic.
    found = sorted((cid for cid, s in scores.items() if s >= best * 0.6), key=lambda cid: -scores[cid])
    return chosen, found[:6]


# Words that make a question one about the duties of a certified cluster, by topic.
DEADLINE_TOPICS = {
    "annual_report": ("年度报告", "年报", "年度报送", "报送", "信息表", "annual report", "report"),
    "re_review": ("复核", "有效期", "到期", "re-review", "review", "validity", "expire"),
    "duties": ("义务", "撤销", "重大变动", "报备", "虚假", "duty", "duties", "revoke", "revocation", "change"),
}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def question_language(query: str, lang: str) -> str:
    """The language the question is written in: Chinese with any CJK, English with Latin
    words only; otherwise the user's."""
    if re.search(r"[\u4e00-\u9fff]", query):
        return "zh"
    return "en" if re.search(r"[A-Za-z][A-Za-z&]+", query) else lang  # a word of two letters, or R&D


def deadline_answer(query: str, lang: str) -> str | None:
    """A question on annual reports, the re-review or the standing duties, answered from each
    named measure's articles (all four when none is named); None when it asks none of these."""
    lowered = query.lower()
    asked = [topic for topic, words in DEADLINE_TOPICS.items() if any(w in lowered for w in words)]
    if not asked:
        return None
    rulesets = load_rulesets()
    named = [j for j, words in JURISDICTION_WORDS.items() if any(w in lowered for w in words if len(w) > 1)]
    chosen = [rulesets[j] for j in named] or list(rulesets.values())
    lines: list[str] = []
    if "annual_report" in asked:
        lines.append(t(lang, "deadlines.ask.annual_report_heading"))
        for r in chosen:
            missed = r.deadlines.missed.annual_report
            for report in r.deadlines.annual_reports:
                consequence = (t(lang, "deadlines.ask.annual_report_consequence", citation=missed.citation,
                                 text=missed.article_text) if report.revocable else "")
                month_day = (f"{report.month}月{report.day}日" if lang == "zh"
                             else f"{_MONTHS[report.month - 1]} {report.day}")
                lines.append(t(lang, "deadlines.ask.annual_report", measure=r.short.get(lang), month_day=month_day,
                               to=report.to.get(lang),
                               citation=report.citation, text=report.article_text, consequence=consequence))
    if "re_review" in asked:
        lines.append(t(lang, "deadlines.ask.re_review_heading"))
        for r in chosen:
            v, missed = r.deadlines.validity, r.deadlines.missed.re_review
            lines.append(t(lang, "deadlines.ask.re_review", measure=r.short.get(lang), citation=v.citation,
                           text=v.article_text, missed_citation=missed.citation, missed_text=missed.article_text))
    if "duties" in asked:
        lines.append(duties_block(duties(chosen), lang))
    return "\n".join(lines + [t(lang, "deadlines.ask.dates")])


def answer_question(query: str, lang: str) -> str:
    """A quick question answered in its own language: deadlines and duties from the measures'
    articles, otherwise the matching criteria of the measures side by side."""
    lang = question_language(query, lang)
    about_deadlines = deadline_answer(query, lang)
    if about_deadlines is not None:
        return about_deadlines
    rulesets, found = search_criteria(query, lang)
    if not found:
        return t(lang, "compare.no_match", query=query.strip())
    return t(lang, "compare.matches", query=query.strip()) + "\n\n" + criteria_side_by_side(
        rulesets, lang, only=found, with_text=True).split("\n", 2)[2]
