"""The measures side by side: every criterion's requirement per measure (`clusterbot rules`),
and the quick questions that find criteria by free text (`研发经费增长要求多少`, `江苏 专利`)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

from engine import JURISDICTION_NAMES, OTHER_PROVINCES, WORDS, catalogue, load_rulesets
from engine.deadlines import duties
from engine.evaluate import term_notices
from engine.rules import Criterion, Ruleset, check_facts
from locales import fmt_date, fmt_list, has, t
from locales.deadlines import duties_block
from locales.explain import label, plain_figure, unit_after

from .reports import pad, text_width

# Words that name a jurisdiction in a question: its id and names.
JURISDICTION_WORDS = {j: (j, *names) for j, names in JURISDICTION_NAMES.items()}


def term_lines(rulesets: list[Ruleset], lang: str, today: dt.date) -> list[str]:
    """A measure listed whose own term has ended by `today` (or not begun), said under its
    criteria as an evaluation says it: Shaanxi's and Guangdong's were read as law in force."""
    return [t(lang, f"compare.{n.kind}", short=r.short.get(lang), document=r.document, citation=n.citation,
              text=n.article_text, date=fmt_date(n.date, lang), today=fmt_date(today, lang))
            for r in rulesets for n in term_notices(r, today)]


def requirement(check, lang: str) -> str:
    """A check in a few words: 高于10%, 近三年每年均40亿元以上, 小巨人+单项冠军合计不少于3家."""
    cat = catalogue()
    kind = check.kind
    if kind in ("threshold", "every_year", "sum"):
        first = check.facts[0] if kind == "sum" else check.fact
        op, _ = WORDS[check.word]
        key = "requirement.threshold_after" if check.word in ("以上", "以下") else "requirement.threshold"
        value = plain_figure(check.value, lang)
        text = t(lang, key, word=check.word, value=value, unit=unit_after(first, lang, figure=value),
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

# Traditional characters an official may type (研發投入, 江蘇和國家的區別) read as the simplified
# ones the articles and the topic words are written in; none of them occurs in a simplified
# question (覆 is left alone: 全覆盖 is a criterion's word). No converter is a dependency.
_TRADITIONAL = str.maketrans(
    "發經費長業產値額總區國蘇廣東陝資務與關於為條準請問麼樣會報銷復複執過數幾個們際輸運環節鏈質滿規則項優專獎勵標據聯網雲應創圖書體認證將實驗號碼單開顯現負責協議調確時間對當點層級縣電腦術設計種類營錢較範劃積龍頭員廠職稅違嚴災險汙氣態測試檢權頻見視讀說話語論題備處決斷選擇別傳統續約變動況覽佈屬這還嗎異儘後來軍佔萬億進廳辦屆綠強轉臺機構誠擁興門檻繳審評獲圍訊儲倉絡簽稱須該撥補貼啓啟獨歷陸爲裏裡纔祇隻餘幣兩歲錄遞齊鑑價効剋團園風戶內",
    "发经费长业产值额总区国苏广东陕资务与关于为条准请问么样会报销复复执过数几个们际输运环节链质满规则项优专奖励标据联网云应创图书体认证将实验号码单开显现负责协议调确时间对当点层级县电脑术设计种类营钱较范划积龙头员厂职税违严灾险污气态测试检权频见视读说话语论题备处决断选择别传统续约变动况览布属这还吗异尽后来军占万亿进厅办届绿强转台机构诚拥兴门槛缴审评获围讯储仓络签称须该拨补贴启启独历陆为里里才只只余币两岁录递齐鉴价效克团园风户内")
# Spaces typed between Chinese characters (江 苏 和 国 家) split the words the question is read by.
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def plain_question(query: str) -> str:
    """A question as it is read (not as it is quoted back): NFKC (full-width letters,
    digits and punctuation), simplified characters, no space between Chinese characters."""
    return _CJK_SPACE.sub("", unicodedata.normalize("NFKC", query).translate(_TRADITIONAL))


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
# 集群 and 申报 (cluster, apply) are in nearly every criterion and question: alone they matched
# 品牌知名度 to 跨县的集群能申报吗.
# 企业 too (中小企业, 高新技术企业, 失信企业): it matched 中小企业产值占比 and 企业上云 to 龙头企业要几家.
# They are cut out of the question before it is read, lest the pairs they make with the words
# beside them count (失信企业能: 业能 is in 高耗能行业能效水平).
_FILLER_WORDS = re.compile("集群|申报|企业")
_FILLER = _bigrams("要求多少是什么怎么样条件标准规定需要哪些有没有门槛认定吗呢啊") | {"集群", "申报", "企业"} | {
    "what", "is", "the", "for", "how", "much", "many", "required", "requirement", "of", "in", "a", "does",
    "cluster", "can", "apply"}


def named_rulesets(query: str) -> list[Ruleset]:
    """The measures a question names, all four when it names none."""
    rulesets, lowered = load_rulesets(), query.lower()
    named = [j for j, words in JURISDICTION_WORDS.items() if any(w in lowered for w in words if len(w) > 1)]
    return [rulesets[j] for j in named] or list(rulesets.values())


# A province named in a question whose measure is not here (浙江, zhejiang): the longest name
# first, an English one as a word (hebei is not in "hebeian").
_OTHER_PROVINCE = re.compile("|".join(
    re.escape(name) if not name.isascii() else rf"\b{re.escape(name)}\b"
    for name in sorted(OTHER_PROVINCES, key=len, reverse=True)))


def uncovered_province(query: str) -> str | None:
    """The first province a question names whose own measure the product has not, as its name
    is written (Zhejiang), None when it names none: the answer, from the four measures here,
    says so first, lest an official read them as that province's."""
    found = _OTHER_PROVINCE.search(query.lower())
    if found is None:
        return None
    return found.group() if not found.group().isascii() else found.group().title()


def search_criteria(query: str, lang: str) -> tuple[list[Ruleset], list[str]]:
    """The measures a question names (all when none) and the criteria it is about, best first."""
    chosen = named_rulesets(query)
    wanted = _bigrams(_FILLER_WORDS.sub(" ", query)) - _FILLER
    for words in JURISDICTION_WORDS.values():
        for w in words:
            wanted -= _bigrams(w)
    if not wanted:
        return chosen, []
    scores: dict[str, float] = {}
    for cid in topics(chosen):
        # its names, and the other words that ask for it (an incident is an accident too)
        texts = [" ".join(t(x, f"{key}.{cid}") for key in ("criterion", "criterion_words")
                          if has(x, f"{key}.{cid}")) for x in ("zh", "en")]
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
    found = sorted((cid for cid, s in scores.items() if s >= best * 0.6), key=lambda cid: -scores[cid])[:6]
    # and every criterion on the same facts: an accident question finds each measure's accident
    # rule, the Jiangsu pledge (larger, 承诺函) as well as the others' 序言 and 第十三条（一）
    facts = {f for r in chosen for c in r.criteria if c.id in found for f in c.facts}
    found += [cid for cid in topics(chosen) if cid not in found
              and any(set(c.facts) & facts for r in chosen if (c := _find(r, cid)))]
    return chosen, found


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
# A month in English: its name or its first three letters (sept too), and no other word: the
# "due" of "due 10 April" is no month.
_MONTH = "|".join([m.lower() for m in _MONTHS] + [m[:3].lower() for m in _MONTHS] + ["sept"])
_CN_NUMBER = "[0-9一二三四五六七八九十]{1,3}"
# A part of a month: its first and last day (31: the month's last, whatever its length).
_PARTS = {"上旬": (1, 10), "初": (1, 10), "中旬": (11, 20), "下旬": (21, 31), "底": (31, 31), "末": (31, 31),
          "early": (1, 10), "beginning of": (1, 10), "mid": (11, 20), "late": (21, 31), "end of": (31, 31)}
# How a question names a day of the year, a part of a month or a month (groups month, day,
# part), read on the lowered NFKC text: it points to the reports due then.
_DATE_FORMS = (
    # 4月10日, 四月十日, 3月底, 4月上旬, 4月份
    rf"(?P<month>{_CN_NUMBER})\s*月份?\s*(?:(?P<day>{_CN_NUMBER})\s*[日号]?"
    rf"|(?P<part>{'|'.join(p for p in _PARTS if not p.isascii())}))?",
    rf"\b(?P<month>{_MONTH})\b\.?\s*(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b",  # April 10(th), Apr. 10
    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\b",  # 10 April, 10th of April
    # end of March, mid-April, in April (not "in April 10": that is the day)
    rf"\b(?:(?P<part>{'|'.join(p for p in _PARTS if p.isascii())})[\s-]*|(?:in|during)\s+)"
    rf"(?P<month>{_MONTH})\b(?!\.?\s*\d{{1,2}}\b)",
    # 4/10, 4.30 only beside a deadline's word: a share (4.30%) or a figure (4.5亿) is no day
    rf"(?<![\d./-])(?P<month>\d{{1,2}})[/.](?P<day>\d{{1,2}})(?![\d./%])"
    rf"(?=\s*[日号]?\s*(?:之?前|截止|到期|要?[交报]|due))",
    rf"(?:\bdue|\bby|\bbefore|截止|截至)\s*(?P<month>\d{{1,2}})[/.](?P<day>\d{{1,2}})(?![\d./%])",
)
# One pattern of them all, each form's groups numbered (month_0, day_0, ...).
_DAY_OF_YEAR = re.compile("|".join(re.sub(r"\(\?P<(\w+)>", rf"(?P<\g<1>_{i}>", form)
                                   for i, form in enumerate(_DATE_FORMS)))
# A date just after 认定 or "certified (on)", or just before 认定, is the day a cluster was
# certified (2024年4月10日认定的集群, certified on 10 April 2024), no report's.
_CERTIFIED_BEFORE = re.compile(r"(?:认定(?:日期|时间)?[是为于在:]?|certifi(?:ed|cation)(?:\s+(?:on|in|date))?[\s:,]*)"
                               r"(?:\d{4}\s*[年/.-]?)?\s*$")
_CERTIFIED_AFTER = re.compile(r"(?:\s*,?\s*\d{4}\s*年?)?\s*(?:被|获|已|正式)?\s*(?:认定|获批|certified)")
# What a question asks of the articles beyond the criteria, by topic: a pattern each, read on
# the lowered question, an English word from its start (\b: "ground" is not in "background").
# 有效 alone is no topic (有效发明专利), nor "valid" (valid invention patents): the validity
# needs 有效期, 有效多久, valid for, how long and the like.
_HOW_LONG = r"有效(多久|多长|几年)|(多久|多长时间?|几年)有效|\bvalid (for|until|till)|\bvalid\W*$|\bhow long"
# What a certified cluster must do (认定以后每年要做什么, 认定后需要干什么): its annual reports
# and its standing duties both answer it.
_AFTER_CERTIFICATION = r"(认定|获批)(以|之)?后.*(做|干)什么|每年.*(做|干)什么"
# Whether it is still valid: a certification's (集群认定还有效吗), or a measure's (陕西还有效吗).
_STILL_VALID = r"还有效|仍然?有效|有效吗"
ASK_TOPICS = {
    # 报送 alone is a report's, unless the question is on the application (申报材料报送给谁)
    "annual_report": re.compile(rf"年度报告|年报|年度报送|^(?!.*申报).*报送|信息表|{_AFTER_CERTIFICATION}|\breport"),
    "re_review": re.compile(rf"复核|有效期|{_HOW_LONG}|{_STILL_VALID}|(多久|多长时间?|几年)复核|到期|过期|\breview|\bvalidity|\bexpir"),
    "revocation": re.compile(r"撤销|取消认定|被取消|摘牌|\brevo[ck]|\bwithdraw|\bgrounds?\b"),
    # the procedure: who applies, to whom the materials go, who certifies (申报材料报送给谁, who
    # do we submit the application to); 申报 alone is no topic (申报条件 asks the criteria), nor is
    # anything on a report (年报报送给谁, submit the annual report: annual_report's)
    "application": re.compile(r"^(?!.*(年报|年度|报告|信息表|\breport)).*(?:申报材料|申报主体|申报单位|申报(程序|流程|渠道|时间)|认定(程序|流程)|"
                              r"(怎么|如何|怎样|向谁|找谁|去哪里?|在哪里?|到哪里?|什么时候|何时)(提交|报送|申报|申请)|"
                              r"(报送|提交|交|报|申报)给(谁|哪)|谁(来|负责)?(组织)?(申报|推荐|受理|初审|认定)|"
                              # when to apply: the measures leave the date to the year's notice
                              r"(申报|申请)(的)?(截止|期限|日期)|截止.*(申报|申请)|(哪些|什么)材料|"
                              r"\bwho (applies|can apply|submits|certifies|recommends)|\bhow (to|do|can|should|does)\b.*\bapply|"
                              r"\bwhere\b.*\b(apply|submit)|\bsubmi(t|ssion)|"
                              r"\bapplication (procedure|process|materials?|form)|\bprocedure|\bto apply\b|\bdocuments?\b|\bpaperwork|"
                              r"\bpublic notice|(申报|申请).*材料|材料.*(申报|申请)|申报表|证明材料|公示)"),
    # a change is a duty when it is major or reported ("change in CO2 emissions" is a criterion)
    "duties": re.compile(rf"义务|重大变动|报备|虚假|{_AFTER_CERTIFICATION}|\bdut(y|ies)\b|\bmajor changes?\b|\bchanges?\b.*\breport|"
                         r"\breport.*\bchanges?\b"),
}
# A question on a measure's own term (广东办法什么时候到期, when does the Guangdong measure
# expire) names the measure and its term, and not the certification: 集群 or 认定 before
# 办法/标准 is the measure's name (特色产业集群认定标准), 集群有效期 the certification's.
_MEASURE = re.compile(r"办法|标准|政策|\bmeasure|\bpolicy|\bregulation")
# 实施, 施行, 生效 name a measure's first day only as a question of when (标准实施, 政策宣贯实施
# are criteria); 管几年, 过了 are how long it runs and whether it has ended.
_TERM = re.compile(rf"到期|过期|过了|失效|有效期|有效到|还有效|仍然?有效|有效吗|期满|届满|废止|管(多久|几年)|{_HOW_LONG}|"
                   r"(何时|什么时候|哪天|哪一天|几号|[日号]|起|开始)(实施|施行|生效)|(实施|施行|生效)(日期|时间|了?吗)|"
                   r"\bexpir|\bvalid through|\bstill valid|\bin force|\bterm\b|\blapse|\b(in|into|take[sn]?|took) effect|"
                   r"\beffective")
# With no 办法 or 标准, a measure named by its province alone (广东什么时候失效, 陕西还有效吗) is
# asked of its term by the words no certification is asked by.
_MEASURE_ENDED = re.compile(rf"失效|废止|{_STILL_VALID}|过期|\bstill valid|\bin force")
_REAPPLY = re.compile(r"(再|重新)(次)?(申请|申报)|\bre-?apply|\bapply again")
_CERTIFICATION = re.compile(r"认定(?!.*(办法|标准))|集群(?!.*(办法|标准))|\bcertif|\bcluster(?!.*measure)")
_RE_REVIEW = re.compile(r"复核|\breview")
# A question on a criterion that asks what then, or is about a certified cluster: answered with
# the grounds for revocation on the criterion's facts too (an accident revokes a certification).
_WHAT_THEN = re.compile(r"会怎[样么]|怎么办|后果|影响|处理|处罚|已(被|经|获)?认定|认定后|获得?认定|"
                        r"\bwhat if\b|\bwhat happens|\bconsequence|\bpenalt|\bcertified\b|\bafter certification")


def question_language(query: str, lang: str) -> str:
    """The language the question is written in: Chinese with CJK, English with Latin words
    only; otherwise the user's. An English sentence quoting a Chinese term (how many 专精特新
    enterprises) is English: more words of two letters or more (R&D) than runs of CJK, two at
    least (江苏 patent, jiangsu 专利 stay Chinese)."""
    words = len(re.findall(r"[A-Za-z][A-Za-z&]+", query))
    runs = len(re.findall(r"[\u4e00-\u9fff]+", query))
    if runs and (words < 2 or words <= runs):
        return "zh"
    return "en" if words else lang


def _number(text: str) -> int:
    """1–31 in figures or Chinese numerals (十, 十一, 二十, 三十一)."""
    if text.isdigit():
        return int(text)
    digits = "一二三四五六七八九"
    tens, ten, ones = text.rpartition("十")
    if not ten:
        return digits.index(ones) + 1
    return (digits.index(tens) + 1 if tens else 1) * 10 + (digits.index(ones) + 1 if ones else 0)


def days_of_year(query: str) -> set[tuple[int, int]]:
    """The (month, day)s a question names: 4月10日, 3月底 (the month's last day), April 10, 4/10
    beside a deadline's word; every day of 4月上旬 or of a month named alone (4月份, in April);
    none of a date of certification."""
    text, found = unicodedata.normalize("NFKC", query).lower(), set()
    for m in _DAY_OF_YEAR.finditer(text):
        if _CERTIFIED_BEFORE.search(text, 0, m.start()) or _CERTIFIED_AFTER.match(text, m.end()):
            continue
        named = {key.rpartition("_")[0]: value for key, value in m.groupdict().items() if value}
        try:
            month = (next(i + 1 for i, full in enumerate(_MONTHS) if full.lower().startswith(named["month"]))
                     if named["month"].isalpha() and named["month"].isascii() else _number(named["month"]))
            last = calendar.monthrange(2001, month)[1]
            if "day" in named:
                first = end = dt.date(2001, month, _number(named["day"])).day
            else:  # a part of the month, or all of it
                first, end = _PARTS.get(named.get("part"), (1, 31))
                first, end = min(first, last), min(end, last)
        except ValueError:  # 13月, 2月30日
            continue
        found.update((month, day) for day in range(first, end + 1))
    return found


def asked_topics(query: str) -> list[str]:
    """The topics of ASK_TOPICS a question asks, and "measure_term" for a measure's own term."""
    lowered = unicodedata.normalize("NFKC", query).lower()
    asked = [topic for topic, pattern in ASK_TOPICS.items() if pattern.search(lowered)]
    names_a_measure = any(w in lowered for words in JURISDICTION_WORDS.values() for w in words if len(w) > 1)
    if ((_MEASURE.search(lowered) and _TERM.search(lowered)
         or names_a_measure and _MEASURE_ENDED.search(lowered)) and not _CERTIFICATION.search(lowered)):
        # 到期, 有效期, expire are then the measure's, and a date is its first day, not a report's
        # (江苏办法5月1日实施吗)
        return ["measure_term"] + [t for t in asked if t != "re_review" or _RE_REVIEW.search(lowered)]
    if days_of_year(query) and "annual_report" not in asked:
        asked.insert(0, "annual_report")
    if "revocation" in asked and "duties" in asked:  # the duties are among the grounds
        asked.remove("duties")
    return asked


def _annual_reports(chosen: list[Ruleset], query: str, lang: str) -> list[str]:
    """Each measure's reports; only those due on a day the question names, if any is."""
    days = days_of_year(query)
    reports = [(r, report) for r in chosen for report in r.deadlines.annual_reports]
    reports = [(r, report) for r, report in reports if (report.month, report.day) in days] or reports
    lines = [t(lang, "deadlines.ask.annual_report_heading")]
    for r, report in reports:
        missed = r.deadlines.missed.annual_report
        consequence = (t(lang, "deadlines.ask.annual_report_consequence", citation=missed.citation,
                         text=missed.article_text) if report.revocable else "")
        month_day = (f"{report.month}月{report.day}日" if lang == "zh"
                     else f"{_MONTHS[report.month - 1]} {report.day}")
        lines.append(t(lang, "deadlines.ask.annual_report", measure=r.short.get(lang), month_day=month_day,
                       to=report.to.get(lang), citation=report.citation, text=report.article_text,
                       consequence=consequence))
    return lines


def _re_review(chosen: list[Ruleset], lang: str) -> list[str]:
    """Each measure's validity article, and the ground a re-review not applied for falls under."""
    lines = [t(lang, "deadlines.ask.re_review_heading")]
    for r in chosen:
        v, missed = r.deadlines.validity, r.deadlines.missed.re_review
        lines.append(t(lang, "deadlines.ask.re_review", measure=r.short.get(lang), citation=v.citation,
                       text=v.article_text, missed_citation=missed.citation, missed_text=missed.article_text))
    return lines


def _revocation(chosen: list[Ruleset], lang: str) -> list[str]:
    """Every ground of each measure's revocation article, verbatim."""
    lines = [t(lang, "deadlines.ask.revocation_heading")]
    for r in chosen:
        rv = r.deadlines.revocation
        lines.append(t(lang, "deadlines.ask.revocation", measure=r.short.get(lang), citation=rv.citation,
                       text=rv.article_text))
        lines.extend(t(lang, "deadlines.ask.ground", citation=g.citation, text=g.article_text, gist=g.gist.get(lang))
                     for g in rv.grounds)
    return lines


def _application(chosen: list[Ruleset], lang: str) -> list[str]:
    """Each measure's procedure: who applies, to whom, who certifies, and its articles verbatim."""
    lines = [t(lang, "deadlines.ask.application_heading")]
    for r in chosen:
        lines.append(t(lang, "deadlines.ask.application", measure=r.short.get(lang),
                       summary=r.application.summary.get(lang)))
        lines.extend(t(lang, "deadlines.ask.step", citation=s.citation, text=s.article_text)
                     for s in r.application.steps)
    if any(r.jurisdiction == "jiangsu" for r in chosen):  # the one form the project carries
        lines.append(t(lang, "deadlines.ask.application_form"))
    return lines


def _measure_terms(chosen: list[Ruleset], lang: str, today: dt.date) -> list[str]:
    """Each measure's own term: its article, first day and, where it has a term, last day; and
    whether it is in force today (not yet, ended, in force, or in force with no term)."""
    lines = [t(lang, "deadlines.ask.term_heading")]
    for r in chosen:
        term = r.term
        key = "deadlines.ask.term" if term.last_day else "deadlines.ask.term_open"
        notice = term_notices(r, today)  # the evaluation's notices: not_yet_in_force, term_ended
        status = notice[0].kind if notice else "in_force" if term.last_day else "in_force_open"
        fields = dict(start=fmt_date(term.from_, lang), last=fmt_date(term.last_day, lang) if term.last_day else "")
        lines.append(t(lang, key, measure=r.short.get(lang), title=r.title.get(lang), citation=term.citation,
                       text=term.article_text, **fields)
                     + t(lang, f"deadlines.ask.term_status.{status}", today=fmt_date(today, lang), **fields))
    return lines


def deadline_answer(query: str, lang: str, today: dt.date) -> str | None:
    """A question on annual reports, the re-review, revocation, the standing duties, the
    application procedure or a measure's own term (in force on `today` or not), answered from each named measure's
    articles (all four when none is named); None when it asks none of these."""
    asked = asked_topics(query)
    if not asked:
        return None
    chosen = named_rulesets(query)
    lines: list[str] = []
    if "measure_term" in asked:
        lines += _measure_terms(chosen, lang, today)
        if asked == ["measure_term"]:  # no date of a cluster to look up
            return "\n".join(lines)
    if "annual_report" in asked:
        lines += _annual_reports(chosen, query, lang)
    if "re_review" in asked:
        lines += _re_review(chosen, lang)
    if "revocation" in asked:
        # no measure sets a wait before applying again: said so, not answered by the grounds alone
        if _REAPPLY.search(unicodedata.normalize("NFKC", query).lower()):
            lines.append(t(lang, "deadlines.ask.no_reapply_period"))
        lines += _revocation(chosen, lang)
    if "duties" in asked:
        lines.append(duties_block(duties(chosen), lang))
    if "application" in asked:
        lines += _application(chosen, lang)
        if asked == ["application"]:  # no date of a cluster to look up
            return "\n".join(lines)
    return "\n".join(lines + [t(lang, "deadlines.ask.dates")])


# A question on the criteria as a whole (申报条件是什么, 江苏和国家有什么区别, what are the
# eligibility requirements): one of these words, and no topic of a criterion beside them
# (江苏研发要求和国家有什么区别 asks the R&D criterion). _DIFFERENCE asks only where the
# measures named differ.
_OVERVIEW = re.compile(r"申报条件|认定条件|基本条件|认定标准|(哪些|什么)条件|条件(是什么|有哪些)|"
                       r"\beligib|\bcriteria\b|\bconditions\b|\brequirements\b")
_DIFFERENCE = re.compile(r"区别|差异|差别|不同|异同|对比|比较|不一样|\bdiffer|\bcompar|\bvs\b|\bversus\b")
# The words such a question has besides: stripped, nothing must be left for it to be one.
_OVERVIEW_WORDS = re.compile(
    r"申报|认定|基本|条件|标准|要求|区别|差异|差别|不同|异同|对比|比较|不一样|一样|主要|具体|"
    r"哪些|什么|是|有|的|和|与|跟|同|及|之间|都|吗|呢|啊|请问|[?？,，。、'’\s]|"
    r"\b(what|are|is|s|the|of|for|to|from|with|a|an|and|between|which|main|eligibility|eligible|criteria|conditions?|"
    r"requirements?|differences?|different|differ|compare|compared|comparison|in|vs|versus|how|do|does|measures?)\b")


def _meaning(c: Criterion | None) -> str | None:
    """What a criterion requires, its wording aside: 以上 and 不低于 are both ≥ (WORDS), while
    一般不超过 is not 不超过. Two measures whose criteria mean the same do not differ on it."""
    if c is None:
        return None

    def plain(value):
        if isinstance(value, dict):
            return {k: (WORDS[v] if k == "word" else plain(v)) for k, v in value.items()}
        return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value
    return repr((plain(c.check.model_dump()), c.applies_if))


def overview_answer(query: str, lang: str) -> str | None:
    """A question on the criteria as a whole: every criterion of the measures it names (all four
    when none), side by side; where two or more are named and it asks the difference, only the
    criteria whose requirement differs, each article quoted. None for any other question."""
    lowered = unicodedata.normalize("NFKC", query).lower()
    difference = bool(_DIFFERENCE.search(lowered))
    rest = lowered
    for words in JURISDICTION_WORDS.values():
        for w in sorted(words, key=len, reverse=True):
            rest = rest.replace(w, " ")
    if _OVERVIEW_WORDS.sub("", rest).strip():
        return None  # a topic besides: the criteria search answers it
    # 江苏, 江苏条件, 陕西的标准: a measure named with nothing else, or only a word for its criteria
    named = rest != lowered
    if not (difference or _OVERVIEW.search(lowered) or named):
        return None
    chosen = named_rulesets(query)
    measures = t(lang, "compare.list_sep").join(r.short.get(lang) for r in chosen)
    ids = topics(chosen)
    if difference and len(chosen) > 1:
        differ = [cid for cid in ids if len({_meaning(_find(r, cid)) for r in chosen}) > 1]
        head = t(lang, "compare.differences", measures=measures, same=len(ids) - len(differ))
        return head + "\n\n" + criteria_side_by_side(chosen, lang, only=differ, with_text=True).split("\n", 2)[2]
    head = t(lang, "compare.overview", measures=measures, n=len(ids))
    return head + "\n\n" + criteria_side_by_side(chosen, lang, only=ids, with_text=len(chosen) == 1).split("\n", 2)[2]


# A question on what 近三年 means (近三年是指哪三年, which years are the last three years): no
# measure defines it; answered with the product's reading and the years it gives today.
_RECENT_YEARS = re.compile(r"近三年.{0,8}(哪|指的?是|是什么|什么意思|意思|含义|怎么算|如何算|怎样算|怎么理解|如何理解|怎么定|从.{0,4}算)"
                           r"|哪三年|哪几年|\b(last|latest|past|recent) (three|3) years\b.*\b(mean|which|what)"
                           r"|\b(what|which)\b.*\b(last|latest|past|recent) (three|3) years\b|\bwhat does 近三年")


def recent_years_answer(query: str, lang: str, today: dt.date) -> str | None:
    """What 近三年 is read as, with the years it gives on `today`; None for another question."""
    if not _RECENT_YEARS.search(unicodedata.normalize("NFKC", query).lower()):
        return None
    return t(lang, "compare.recent_years", today=fmt_date(today, lang), first=today.year - 3, last=today.year - 1)


# A question on what a comparison word means (高于70%包括70%吗, 一般不超过是什么意思, does above
# 70% include 70%): each word's reading (WORDS, facts.md), then the criteria whose article writes
# it (of the figure named, when one is). The English words officials translate them by.
_WORD_ASKED = re.compile(r"包括|包含|含不含|含本数|是否含|含\s*\d|算不算|算吗|算符合|等于|恰好|正好|什么意思|意思|含义|怎么理解|如何理解|"
                         r"\binclud|\bmean|\bequal|\bexactly")
_ENGLISH_WORDS = {"not less than": "不低于", "no less than": "不低于", "at least": "至少", "not more than": "不超过",
                  "no more than": "不超过", "more than": "超过", "above": "高于", "higher than": "高于",
                  "less than": "低于", "below": "低于", "lower than": "低于"}
_OPERATORS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def _worded(check: dict) -> list[tuple[str, float]]:
    """The (word, value) pairs a check compares by, its branches' too."""
    found = [(check["word"], check["value"])] if "word" in check and "value" in check else []
    for branch in check.get("checks") or ():
        found += _worded(branch)
    return found


# How a figure is computed (年均增速怎么算, 每万人发明专利如何计算, how is the growth rate calculated).
_HOW_COMPUTED = re.compile(r"怎么算|如何算|怎样算|怎么计算|如何计算|怎样计算|计算方法|算法|计算公式|公式|"
                           r"\bhow (is|are|do|does|to)\b.*\b(calculat|comput|work)|\bformula")


def comparison_answer(query: str, lang: str) -> str | None:
    """What the comparison words a question asks about mean, and the criteria written with them."""
    lowered = unicodedata.normalize("NFKC", query).lower()
    rest, words = lowered, []
    for word in sorted(WORDS, key=len, reverse=True) + sorted(_ENGLISH_WORDS, key=len, reverse=True):
        if word in rest:  # 一般不超过 before 不超过; not less than before less than
            rest = rest.replace(word, " ")
            words.append(_ENGLISH_WORDS.get(word, word))
    words = list(dict.fromkeys(words))
    # asked what it means, or the word typed alone or with a figure (高于？, 高于10%)
    if not words or not (_WORD_ASKED.search(lowered) or not re.sub(r"[\s?？。.!！“”\"'‘’\d%]", "", rest)):
        return None
    figures = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", lowered)}
    lines, rulesets = [], named_rulesets(query)
    for word in words:
        op, soft = WORDS[word]
        lines.append(t(lang, "compare.word_" + ("inclusive" if "=" in op else "exclusive"), word=word,
                       op=_OPERATORS[op]) + (t(lang, "compare.word_soft", word=word) if soft else ""))
        ids = [cid for cid in topics(rulesets)
               if any((c := _find(r, cid)) and any(w == word and (not figures or float(v) in figures)
                                                    for w, v in _worded(c.check.model_dump()))
                      for r in rulesets)]
        if ids:
            lines += ["", t(lang, "compare.word_criteria", word=word), ""]
            lines.append(criteria_side_by_side(rulesets, lang, only=ids, with_text=True).split("\n", 2)[2])
        lines.append("")
    return "\n".join(lines).rstrip()


def answers(query: str, lang: str) -> bool:
    """Whether answer_question has an answer for it (the chat answers a question typed in
    place of an answer only then): a deadline, duty, procedure or term topic, the criteria
    as a whole, or a criterion found."""
    query = plain_question(query)
    return bool(_RECENT_YEARS.search(unicodedata.normalize("NFKC", query).lower()) or comparison_answer(query, lang)
                or asked_topics(query) or overview_answer(query, lang) is not None or search_criteria(query, lang)[1])


# How many clusters one county may apply for (一个县可以申报几个集群): no measure limits it.
_HOW_MANY_CLUSTERS = re.compile(r"(几|多少)个集群|集群(的)?(数量|个数)|\bhow many clusters")


def answer_question(query: str, lang: str, today: dt.date) -> str:
    """A quick question answered in its own language: deadlines, duties and the measures'
    terms (as of `today`) from their articles, otherwise the matching criteria side by side."""
    shown, query = query.strip(), plain_question(query)  # quoted back as typed
    lang = question_language(query, lang)
    province = uncovered_province(query)
    if province is not None:
        measures = fmt_list([r.short.get(lang) for r in load_rulesets().values()], lang)
        note = t(lang, "compare.uncovered_province", province=province, measures=measures) + "\n"
        # the rest of the question asked of the measures here (湖北省申报条件是什么: the conditions)
        rest = re.sub(rf"(?i){re.escape(province)}(省|市|自治区|\s+province)?", "", query)
        return note + _answer(shown, rest, lang, today)
    return _answer(shown, query, lang, today)


def _answer(shown: str, query: str, lang: str, today: dt.date) -> str:
    """answer_question's answer to the question read (`query`), quoting it as typed (`shown`)."""
    def with_terms(answer: str, measures) -> str:  # a measure past its own term said under it
        return "\n".join([answer, ""] + term_lines(measures, lang, today)).rstrip()

    recent_years = recent_years_answer(query, lang, today)
    if recent_years is not None:
        return recent_years
    words = comparison_answer(query, lang)
    if words is not None:
        return with_terms(words, named_rulesets(query))
    about_deadlines = deadline_answer(query, lang, today)
    if about_deadlines is not None:
        return about_deadlines
    overview = overview_answer(query, lang)
    if overview is not None:
        return with_terms(overview, named_rulesets(query))
    rulesets, found = search_criteria(query, lang)
    if not found:
        return t(lang, "compare.no_match", query=shown)
    folded = unicodedata.normalize("NFKC", query).lower()
    # what the measures leave unsaid is said first, before the criteria they do set
    limit = t(lang, "compare.no_cluster_limit") + "\n\n" if _HOW_MANY_CLUSTERS.search(folded) else ""
    answer = limit + t(lang, "compare.matches", query=shown) + "\n\n" + criteria_side_by_side(
        rulesets, lang, only=found, with_text=True).split("\n", 2)[2]
    if _WHAT_THEN.search(folded):
        answer += "".join("\n" + line for line in _revocation_on(rulesets, found, lang))
    if _HOW_COMPUTED.search(folded):
        # how a figure the articles do not define is computed: the readings facts.md takes
        facts = {f for r in rulesets for c in r.criteria if c.id in found for f in c.facts}
        kinds = [k for k, wanted in (("rate", any(catalogue()[f].type == "rate" for f in facts)),
                                     ("per_10k", "patents_per_10k" in facts)) if wanted]
        answer += "".join("\n\n" + t(lang, f"compare.computed_{k}") for k in kinds)
    return with_terms(answer, [r for r in rulesets if any(_find(r, cid) for cid in found)])


def _revocation_on(chosen: list[Ruleset], found: list[str], lang: str) -> list[str]:
    """Each measure's grounds for revocation on the facts of the criteria found, verbatim."""
    lines = []
    for r in chosen:
        facts = {f for c in r.criteria if c.id in found for f in c.facts}
        rv = r.deadlines.revocation
        grounds = [g for g in rv.grounds if facts & set(g.facts)]
        if grounds:
            lines.append(t(lang, "deadlines.ask.revocation", measure=r.short.get(lang), citation=rv.citation,
                           text=rv.article_text))
            lines.extend(t(lang, "deadlines.ask.ground", citation=g.citation, text=g.article_text, gist=g.gist.get(lang))
                         for g in grounds)
    return ["", t(lang, "compare.revocation_heading")] + lines if lines else []
