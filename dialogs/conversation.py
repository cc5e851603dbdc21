"""The pre-screening conversation, channel-agnostic.

Input: who is speaking and what they sent (text, or the data of a button). Output: the
replies (text, choices, actions, documents). Each message is one database transaction,
committed before the replies are returned: an answer the user sees acknowledged is saved.

States of a profile: naming → choose_measures → asking ⇄ confirm_series → done, with
`picking` for lists the user chooses from (edit, switch, restart).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import unicodedata
from functools import lru_cache
from typing import Any

from engine import FAIL, OTHER_PROVINCES, UNKNOWN, WARNING, catalogue, load_rulesets
from engine.evaluate import Evaluation
from locales import fmt_date, fmt_list, normalise_lang, render, t, t_count
from locales.explain import explain, expected_number, expected_text, label, notice_text, shown_value, value_text
from storage import outbox, repo
from storage.db import session, storage_fault
from storage.prepared import reading, unit
from storage.models import Profile, User
from storage.repo import SKIPPED

from . import forms, tracking
from .messages import MAX_FILE, Attachment, Button, Incoming, Reply, file_stem, merge_steps  # noqa: F401  (re-exported)
from .compare import answer_question, answers, criterion_requirement, search_criteria, topics
from .parse import (NAME_LIMIT, ParseError, Parsed, SUPERSCRIPTS, as_percent, choice_number, clean_name, confirmation,
                    correction,
                    name_cut, normalise,
                    parse_answer, refuse_superscripts, visible, window_years)
from .questions import (
    asked_facts, criteria_reading, evaluate_answers, facts_to_ask, needed, relevant_answered, rulesets_for,
)
from .reports import markdown_report

# Commands: the slash word and its Chinese equivalents (a whole message, or its first word).
COMMANDS = {
    "help": ("/help", "帮助", "?", "？"),
    "back": ("/back", "返回", "上一题", "返回上一题", "回到上一题", "上一步"),  # 返回上一题: the button's label
    "skip": ("/skip", "跳过", "不知道", "不清楚", "不确定", "跳过此题", "跳过本题"),
    "edit": ("/edit", "修改"),
    "why": ("/why", "为什么", "依据"),
    "status": ("/status", "进度", "状态", "查看进度"),
    "result": ("/result", "结果", "评估", "查看结果"),
    "compare": ("/compare", "对比", "比较"),
    "new": ("/new", "新建"),
    "list": ("/list", "列表", "我的集群"),
    "switch": ("/switch", "切换"),
    "export": ("/export", "导出"),
    "form": ("/form", "填表", "申报表"),
    "lang": ("/lang", "语言"),
    "restart": ("/restart", "重新开始", "重来"),
    "measures": ("/measures", "更改办法", "修改办法", "增加办法"),
    "province": ("/province", "所在省份", "省份"),
    "ask": ("/ask", "问", "查询"),
    "start": ("/start", "开始"),
    "cancel": ("/cancel", "取消"),
    "pending": ("/pending", "待定", "回到待定"),
    "focus": ("/focus",),
    # Tracking certified clusters and deadline reminders (dialogs/tracking.py).
    "track": ("/track", "跟踪", "跟踪集群"),
    "deadlines": ("/deadlines", "期限", "我的期限"),
    "remind": ("/remind", "提醒设置"),
    "pause": ("/pause", "暂停提醒"),
    "resume": ("/resume", "恢复提醒"),
    "untrack": ("/untrack", "停止跟踪"),
}
WORD_TO_COMMAND = {word: name for name, words in COMMANDS.items() for word in words}
# English equivalents, read only as a whole message: "skip" or "not sure" may begin a name or an answer.
WHOLE_MESSAGE_COMMANDS = {
    "skip": ("skip", "don't know", "dont know", "do not know", "not sure", "no idea", "i don't know", "i do not know"),
}
WHOLE_MESSAGE_TO_COMMAND = {word: name for name, words in WHOLE_MESSAGE_COMMANDS.items() for word in words}
# A command typed with a Chinese input method on: the slash key gives 、 (／ in full-width
# mode, which NFKC reads as /), and a word typed alone often ends a sentence (跳过。 不知道！).
IME_SLASH = re.compile(r"^、(?=[A-Za-z])")
# Commands that only show something: the question being asked is shown again after them.
INFORMATIONAL = {"why", "status", "compare", "list", "export", "ask", "result", "deadlines", "form"}
CHOICE_TYPES = ("bool", "level", "rank")
# What a profile's pending keeps from question to question (Turn.keep_pending); the rest of a
# confirmation's pending is the figures awaiting it.
KEPT_PENDING = ("focus", "edit_before", "edit_from", "revisit")
MAX_TEXT = 2000  # characters of one message, in every chat kind and channel
# What a group chat may do: quick questions and help; a pre-screening goes to private chat.
GROUP_COMMANDS = {"ask", "help", "start"}
# A button of the prompt shown: c:<profile>:<prompt>:<n>, an answer, or c:<profile>:<prompt>:/skip,
# a question's action; pressed once the prompt is gone, or on a message older than the one
# asking it now, it is refused (`_button_choice`).
CHOICE_PREFIX = "c:"
# A menu item's characters: a button shows one line, so longer labels are cut with …; an
# /edit item keeps its answer whole and cuts what was asked (to no less than MENU_NAME).
MENU_LABEL, MENU_NAME = 60, 30

log = logging.getLogger(__name__)


QUESTION = re.compile(r"[?？]$|多少|什么|哪些|哪个|哪[三几]年|是指|怎么|如何|要求|条件|标准|谁|多久|多长|何时|(?<![十百0-9])几|吗$|"
                      r"^(what|how|which|who|when|where)\b", re.I)


def refused_digits(text: str) -> bool:
    """Superscript or subscript digits, which NFKC would read as plain ones (²: not 2)."""
    return any(ch in SUPERSCRIPTS for ch in text)


def looks_like_question(text: str) -> bool:
    """研发经费增长要求多少, 江苏 专利 条件？: a quick question, not an answer."""
    return bool(QUESTION.search(text.strip()))


# A sentence's end typed after a command alone (跳过。 /status！): no part of its word.
COMMAND_END = "。．.！!，,；;…"
# /edit's question number (7, ７, 第7题, 第 7 题) and what follows it, the new answer: after a
# space or 题, a colon or a comma (7：90平方公里); 790平方公里 is no number and its answer.
EDIT_NUMBER = re.compile(r"(?:第\s*)?([0-9０-９]+)(?:\s*题|(?=[\s:：,，。]|$))[\s:：,，。]*(.*)", re.S)
# A Chinese command word written as Chinese is, without a space before what follows it:
# 修改2 否, 修改第2题, 切换到乙集群. Only these two: 新建 begins place names (新建区).
GLUED = re.compile(r"(修改)\s*(第?\s*[0-9０-９].*)|(切换)(?:到|至)?\s*(\S.*)", re.S)


def command_head(text: str) -> tuple[str, str]:
    """A message's first word as a command's (`/status`, `跳过`) and the rest. The word as a
    Chinese keyboard may type it: a full-width ／ or letters (／ｓｔａｔｕｓ), a full-width space
    after it, a sentence's end after it alone (跳过。), the slash apart (/ status); a slash
    word's case and a Telegram @bot after it do not count."""
    head, rest = (text.strip().split(None, 1) + [""])[:2]  # any space: the full-width one too
    head = IME_SLASH.sub("/", unicodedata.normalize("NFKC", head))  # 、skip: the input method's slash key
    if head == "、" and IME_SLASH.match("、" + unicodedata.normalize("NFKC", rest)):
        head = "/"  # 、 status: that slash apart, as / status
    if head == "/" and rest:
        word, rest = (rest.split(None, 1) + [""])[:2]
        head = "/" + unicodedata.normalize("NFKC", word)
    if not rest:
        head = head.rstrip(COMMAND_END) or head
    return (head.split("@", 1)[0].lower() if head.startswith("/") else head), rest


def search_key(text: str) -> str:
    """A name as a part typed of it is looked for in it: its words run together, width and case
    aside (乙 finds 乙 集群, 占地面积 finds 集群占地面积)."""
    return "".join(normalise(text).lower().split())


def parse_command(text: str) -> tuple[str, str] | None:
    """('skip', '') for '/skip' or '跳过'; ('ask', '专利') for '问 专利'; None for an answer
    (the command's word read by `command_head`)."""
    text = text.strip()
    if not text:
        return None
    whole = " ".join(text.replace("\u2019", "'").rstrip(".!").lower().split())  # don’t (a phone's apostrophe)
    if whole in WHOLE_MESSAGE_TO_COMMAND:
        return (WHOLE_MESSAGE_TO_COMMAND[whole], "")
    head, rest = command_head(text)
    name = WORD_TO_COMMAND.get(head)
    if name is None and head.startswith("/") and not head[1:2].isascii():
        name = WORD_TO_COMMAND.get(head[1:])  # /跳过: a Chinese command word with the slash before it
    if name is None and (glued := GLUED.fullmatch(text)):
        return ("edit", glued.group(2).strip()) if glued.group(1) else ("switch", glued.group(4).strip())
    if name is None and head.startswith("/"):
        return ("unknown", head)
    if name is None:
        return None
    return (name, rest.strip())


class Conversation:
    """The dialog for one channel over one database."""

    def __init__(self, engine, clock, channel: str = "terminal", default_lang: str | None = None,
                 lease: dt.timedelta = outbox.LEASE):
        """`lease`: how long a turn's rows stay leased to the sender a turn names (`receive`)."""
        self.engine, self.clock, self.channel = engine, clock, channel
        self.lease = lease
        self.default_lang = default_lang or "zh"
        # Called after the commit of a turn that planned reminders (a cluster tracked,
        # resumed, its times changed): the process's scheduler sweeps at once.
        self.on_replanned = lambda: None

    def language_of(self, external_id: str) -> str:
        with reading(self.engine) as conn:
            return repo.user_lang(conn, self.channel, str(external_id)) or self.default_lang

    def receive(self, incoming: Incoming, lease_to: str | None = None, marks: list[outbox.Mark] = (),
                leased: list | None = None) -> list[Reply]:
        """One message or button press → the replies, in one transaction: a redelivered
        message is ignored; the turn; each reply written to the outbox for the channel's
        delivery (leased to the sender `lease_to` when given, so that its `flush_chat` needs
        no claim of its own); committed before the replies are returned. `marks`, what the
        sender did with earlier rows, are written first in the same transaction (a press
        looks up the message it was made on) and committed whatever the turn does. A bug in
        the turn rolls it back and the user is told, in their language, that it was not handled.
        `leased`, when given, gets after the commit the rows leased to `lease_to` if they are
        all the chat has to send (outbox.enqueue_turn); left empty, `outbox.leased` tells."""
        try:
            with unit(self.engine) as s:
                outbox.apply_marks(s, marks)
                if incoming.message_id is not None and not repo.first_time(
                        s, incoming.channel, str(incoming.message_id)):
                    s.commit()  # the marks
                    return []  # a redelivered update: handled once already
                replies, replanned, shown = self._turn(s, incoming)
                rows = self._write_outbox(s, incoming, replies, lease_to, shown)
                s.commit()
            if replanned:
                self.on_replanned()
            if leased is not None:
                leased.extend(rows)
            return replies
        except Exception as exc:
            if storage_fault(exc):  # not recorded as handled: the same message may pass once it is mended
                log.error("%s message %s not stored: %s", incoming.channel, incoming.message_id, exc)
                raise
            log.exception("%s message %s not handled", incoming.channel, incoming.message_id)
            return self._apologise(incoming, lease_to, marks)

    def _turn(self, s, incoming: Incoming) -> tuple[list[Reply], bool, dict | None]:
        """The replies, whether the turn planned reminders, and the message pressed as it
        was shown (read when its button was checked)."""
        lang = normalise_lang(incoming.lang) if incoming.lang else self.default_lang
        if incoming.group:
            user = repo.find_user(s, incoming.channel, str(incoming.user_id))
            return in_group(incoming, user.lang if user else lang, self.clock.today()), False, None
        user, profile, drafting = repo.user_turn(s, incoming.channel, str(incoming.user_id),
                                                 incoming.display_name, lang)
        if user.chat_id != str(incoming.chat_id):
            user.chat_id = str(incoming.chat_id)  # where reminders go
        pressed_on = (incoming.channel, incoming.chat_id, incoming.pressed) if incoming.pressed else None
        turn = Turn(s, user, self.clock.today(), now=self.clock.now(), profile=profile, drafting=drafting,
                    pressed_on=pressed_on)
        if incoming.unreadable:
            return turn.unreadable(incoming.unreadable), False, None
        replies = turn.run(incoming.text, incoming.button, incoming.attachment)
        replies = turn.unreadable_notes() + replies
        return replies, turn.replanned, turn.pressed_shown

    def _write_outbox(self, s, incoming: Incoming, replies: list[Reply], lease_to: str | None,
                      shown: dict | None) -> list:
        """The replies as outbox rows. A button's message is updated in place: with the
        updated prompt (`Reply.replace`), or, for an accepted answer, with the choice shown
        (`shown`: the reply that message showed)."""
        rows: list[tuple[Reply, str | None]] = []
        rest = replies
        if incoming.pressed and replies and replies[0].replace:
            rows.append((replies[0], incoming.pressed))
            rest = replies[1:]
        elif (incoming.pressed and (incoming.button or "").startswith(CHOICE_PREFIX)
              and replies and replies[0].kind != "error"):
            if shown is not None:
                question = Reply.from_json(shown)
                label = next((b.label for b in question.choices if b.data == incoming.button), None)
                if label is not None:
                    rows.append((Reply(question.text, kind=question.kind, headings=question.headings,
                                       chosen=label), incoming.pressed))
        rows += [(reply, None) for reply in merge_steps(rest)]
        return outbox.enqueue_turn(s, incoming.channel, incoming.chat_id,
                                   [(reply.to_json(), edit_of) for reply, edit_of in rows], lease_to=lease_to,
                                   lease=self.lease)

    def _apologise(self, incoming: Incoming, lease_to: str | None, marks: list[outbox.Mark]) -> list[Reply]:
        """After a failed turn: the apology, and the message recorded as handled (its
        redelivery would fail the same way), with the marks."""
        with session(self.engine) as s:
            outbox.apply_marks(s, marks)
            user = repo.find_user(s, incoming.channel, str(incoming.user_id))
            lang = user.lang if user else normalise_lang(incoming.lang or self.default_lang)
            reply = Reply(t(lang, "terminal.internal_error"), kind="error")
            if incoming.message_id is not None:
                repo.first_time(s, incoming.channel, str(incoming.message_id))
            outbox.enqueue(s, incoming.channel, incoming.chat_id, reply.to_json(), lease_to=lease_to,
                           lease=self.lease)
            s.commit()
        return [reply]

    def handle(self, external_id: str, text: str | None = None, data: str | None = None,
               display_name: str = "", update_id: str | None = None, chat_id: str | None = None,
               lang: str | None = None, attachment: Attachment | None = None) -> list[Reply]:
        """`receive` for callers that speak in arguments (the tests, the benchmark): a
        private chat on this conversation's channel."""
        return self.receive(Incoming(
            channel=self.channel, user_id=str(external_id), chat_id=str(chat_id if chat_id is not None else external_id),
            text=text, button=data, message_id=None if update_id is None else str(update_id),
            lang=lang, display_name=display_name, attachment=attachment))

    def resume(self, external_id: str, display_name: str = "") -> list[Reply]:
        """On start: greet, and ask again whatever was being asked."""
        return self.handle(external_id, text="/start", display_name=display_name)


def failure_text(lang: str, exc: BaseException) -> str:
    """What a user is told of a message that could not be handled: a database that refuses
    writes (a full disk, a read-only file, a lock held, a server gone) is named, as nothing of
    the message was stored and it may be sent again once mended; anything else is ours."""
    fault = storage_fault(exc)
    return t(lang, f"terminal.storage_{fault}" if fault else "terminal.internal_error")


# The examples of questions.yaml (2023:45 2024:48.2 2025:52.9) are written for 近三年 ending
# in this year; each is shown for the years the answer is read for (a later year, or data_year),
# as the refusals that name 近三年 do, or an official following it is refused.
EXAMPLE_LAST_YEAR = 2025
_EXAMPLE_YEAR = re.compile(r"(?<![\d.])20[0-9]{2}(?![\d.%])")


def example_text(lang: str, fact: str, latest_year: int) -> str:
    """A question's example with its years moved to the 近三年 ending in `latest_year`."""
    text, shift = t(lang, f"question.{fact}.example"), latest_year - EXAMPLE_LAST_YEAR
    return _EXAMPLE_YEAR.sub(lambda m: str(int(m.group()) + shift), text) if shift else text


@lru_cache(maxsize=4096)
def question_text(lang: str, fact: str, index: int, total: int, current: str | None, note: str,
                  latest_year: int = EXAMPLE_LAST_YEAR) -> str:
    """A question's text (第 k/n 题, its group, what is asked, the unit and an example):
    the same few hundred are asked of every official, rendered once each."""
    cat = catalogue()
    spec = cat[fact]
    group = next(g[lang] for g in cat.groups if g["id"] == spec.group)
    return render(lang, "question.j2", index=index, total=total, group=group,
                  text=t(lang, f"question.{fact}.text"), example=example_text(lang, fact, latest_year),
                  expected=expected_text(spec, lang), current=current, note=note, type=spec.type)


_PROVINCE_SUFFIX = re.compile(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区"
                              r"|\s+(?:province|municipality|autonomous region|sar))$")


OTHER_WORDS = frozenset({"other", "其他", "其他省份", "其他省", "other province", "another province"})


def province_named(text: str) -> str | None:
    """The province a name says, in either language (江苏, 江苏省, jiangsu, Jiangsu, 其他省份), a
    province without its measure here (浙江省) being "other"; None when it names none."""
    word = _PROVINCE_SUFFIX.sub("", normalise(text).lower()) or normalise(text).lower()
    for jurisdiction, ruleset in load_rulesets().items():
        if jurisdiction != "national" and word in (jurisdiction, ruleset.short.zh, ruleset.short.en.lower()):
            return jurisdiction
    return "other" if word in OTHER_WORDS or word in OTHER_PROVINCES else None


def doubt_meant(p: dict) -> Any:
    """What a doubted answer most likely meant (Parsed.meant), None for a figure only confirmed;
    of a fraction asked back before `meant` was kept, every figure as the percentage."""
    if "meant" not in p and p.get("doubt") == "fraction":
        return as_percent(p["value"])
    return p.get("meant")


def shorten(text: str, width: int, lang: str) -> str:
    """The text cut to `width` characters, … included: at a word's end (English) or a
    list's separator (Chinese) when one is in its second half."""
    if len(text) <= width:
        return text
    cut, breaks = text[:width - 1], " " if lang == "en" else "、，,/；;"
    if text[width - 1] not in breaks and (at := max(cut.rfind(b) for b in breaks)) > width // 2:
        cut = cut[:at]
    return cut.rstrip(" ,;、，；/（(") + "…"


def too_long(text: str | None) -> bool:
    return len(text or "") > MAX_TEXT


def in_group(incoming: Incoming, lang: str, today: dt.date) -> list[Reply]:
    """A message in a group chat: only what is addressed to the bot is answered, and only
    quick questions and help; nothing is stored."""
    if not incoming.mentioned:
        return []
    if incoming.unreadable:  # a file too large, a photo… addressed to the bot: said, nothing stored
        return [Reply(t(lang, f"dialog.unreadable.{incoming.unreadable}", mb=MAX_FILE // (1024 * 1024)), kind="error")]
    text = (incoming.text or "").strip()
    if too_long(text):
        return [Reply(t(lang, "dialog.too_long"), kind="error")]
    name, arg = parse_command(text) or ("ask", text)
    if name == "ask" and arg:
        return [Reply(answer_question(arg, lang, today))]
    if name in GROUP_COMMANDS:
        return [Reply(t(lang, "group.help"))]
    return [Reply(t(lang, "group.go_private"))]


class Turn:
    """Handling of one message: the session, the user, their active profile."""

    def __init__(self, s, user: User, today: dt.date, now: dt.datetime | None = None,
                 profile: Profile | None = None, drafting: bool = False,
                 pressed_on: tuple[str, str, str] | None = None):
        """`profile`: the user's active profile, read with the user (repo.user_turn);
        `drafting`: whether a guided /track is open (dialogs/tracking.py); `pressed_on`:
        (channel, chat, message id) of the message whose button was pressed, when known."""
        self.s, self.user, self.today = s, user, today
        self.now = now  # aware; for what is planned from this moment (reminders)
        self.lang = user.lang
        self.profile: Profile | None = profile
        self.drafting = drafting
        self._answers: repo.Answers | None = None
        self._saved = 0  # answers saved in this turn: the evaluations below depend on them
        self.pressed = False  # the message is a button press (not typed)
        self.pressed_on = pressed_on
        self.pressed_shown: dict | None = None  # the reply the message pressed showed (`_button_choice`)
        self.replanned = False  # reminders planned in this turn (dialogs/tracking.py)
        self._evaluated: tuple = (None, None, None)
        # The facts saved since the last evaluation of the answers `_changed_in`.
        self._changed: list[str] = []
        self._changed_in: repo.Answers | None = None

    # --- helpers ---------------------------------------------------------------------------

    def t(self, key: str, **fields) -> str:
        return t(self.lang, key, **fields)

    @property
    def answers(self) -> dict[str, Any]:
        if self._answers is None:
            self._answers = repo.current_answers(self.s, self.profile) if self.profile else repo.Answers()
        return self._answers

    @property
    def rulesets(self):
        return rulesets_for(self.profile.measures) if self.profile else ()

    @property
    def latest_year(self) -> int:
        """近三年 ends with the profile's data_year when answered, else the last complete year
        (as the evaluation reads it: engine.Profile)."""
        data_year = self.answers.get("data_year") if self.profile else None
        return data_year if type(data_year) is int else self.today.year - 1

    def pending(self) -> dict:
        return json.loads(self.profile.pending) if self.profile and self.profile.pending else {}

    def set_state(self, state: str, fact: str | None = None, pending: dict | None = None) -> None:
        self.profile.state, self.profile.current_fact = state, fact
        self.profile.pending = json.dumps(pending, ensure_ascii=False) if pending else None
        repo.touch(self.s, self.profile)

    def evaluations(self) -> list[Evaluation]:
        """The chosen measures evaluated on the current answers; computed once per change,
        from the evaluation before it when only answers saved since differ (an answer's
        criteria alone are evaluated again)."""
        answers = self.answers
        key = (self.profile.id if self.profile else None, self.profile.measures if self.profile else "",
               id(answers), self._saved)
        last_key, last = self._evaluated[:2]
        if last_key != key:
            since = ((last, self._changed) if self._changed_in is answers and last_key[:3] == key[:3]
                     and self._changed else None)
            self._evaluated = (key, evaluate_answers(answers, self.rulesets, self.today, since), None)
            self._changed, self._changed_in = [], answers
        return self._evaluated[1]

    def remaining(self) -> list[str]:
        """The questions still worth asking (questions.needed), once per change of answers."""
        evaluations = self.evaluations()
        key, _, found = self._evaluated
        if found is None:
            found = needed(evaluations, self.answers)
            self._evaluated = (key, evaluations, found)
        return list(found)

    def save(self, fact: str, value: Any = None, skipped: bool = False, source: str = "dialog") -> None:
        stored = repo.add_answer(self.s, self.profile, fact, value, skipped, source)
        if stored is None:
            self.answers[fact] = SKIPPED if skipped else value
        else:
            self.answers.set_stored(fact, value, stored)
        self._saved += 1
        self._changed.append(fact)

    def unreadable(self, kind: str) -> list[Reply]:
        """A message the channel could not take (a file too large, a photo or a voice note):
        said in the user's language, and what was being asked is asked again."""
        return [Reply(self.t(f"dialog.unreadable.{kind}", mb=MAX_FILE // (1024 * 1024)), kind="error")] + self.prompt()

    def unreadable_notes(self) -> list[Reply]:
        """A stored answer the catalogue no longer accepts is said, while it stays so."""
        unreadable = getattr(self._answers, "unreadable", [])
        if not unreadable:
            return []
        cat = catalogue()
        items = [self.t("dialog.stored_unreadable_item", value=shown_value(value, dump=True),
                        label=cat[fact].label(self.lang) if fact in cat.facts else fact) for fact, value in unreadable]
        return [Reply(self.t("dialog.stored_unreadable", items=self.t("list_sep").join(items)))]

    # --- dispatch --------------------------------------------------------------------------

    def run(self, text: str | None, data: str | None, attachment: Attachment | None = None) -> list[Reply]:
        if attachment is not None:
            return self.on_attachment(attachment)
        if data is not None:
            if data.startswith("/"):
                text = data
            elif data.startswith(tracking.BUTTON_PREFIX):
                return tracking.on_button(self, data)
            else:
                choice = self._button_choice(data)
                if isinstance(choice, list):
                    return choice  # a stale or foreign button: refused
                text, self.pressed = choice, True
        text = visible(text or "").strip()  # a zero-width space pasted after /skip or 85 is no part of it
        if too_long(text):
            return [Reply(self.t("dialog.too_long"), kind="error")] + self.prompt()
        command = parse_command(text)
        if command and not tracking.is_name_answer(self, text, command):
            tracking.abandon_draft(self, command[0])
            replies = getattr(self, f"cmd_{command[0]}")(command[1])
            if (command[0] in INFORMATIONAL and self.profile is not None and self.profile.state != "done") \
                    or self.drafting:
                # what is asked (a name, the measures too: a number typed after /list chose a
                # measure; the step of a guided /track the command left open) shown again last, once
                if replies[-1:] != (prompt := self.prompt())[-1:]:
                    replies += prompt
            return replies
        if (replies := tracking.on_draft_answer(self, text)) is not None:
            return replies  # an answer to the guided /track
        if self.profile is None:
            return self.outside_profile(text)
        return getattr(self, f"on_{self.profile.state}")(text)

    def _button_choice(self, data: str) -> str | list[Reply]:
        """A button of a prompt carries `c:<profile>:<prompt>:<n>` (a choice, read as the number
        typed) or `c:<profile>:<prompt>:/skip` (an action, read as the command typed); it must
        be this user's active profile and the prompt now shown, on the latest message showing
        it, or it is refused."""
        match = re.fullmatch(r"c:(\d+):([^:]*):(\d+|/[a-z]+)", data)
        if not match:
            return self.stale_button()
        profile_id, token, pressed = int(match.group(1)), match.group(2), match.group(3)
        # The active profile was read with the user (repo.user_turn): no query for it.
        active = self.profile is not None and profile_id == self.profile.id
        if not active and repo.own_profile(self.s, self.user, profile_id, given_up_too=True) is None:
            return [Reply(self.t("dialog.not_yours"), kind="error")]
        if (not active or token != self.prompt_token()
                or self._asked_again_since(f"{CHOICE_PREFIX}{profile_id}:{token}:")):
            return self.stale_button()
        return pressed

    def stale_button(self) -> list[Reply]:
        """A button pressed once its prompt is gone (a question's, or the guided /track's):
        one wording for every such press, then what is asked now."""
        return [Reply(self.t("dialog.stale_button"), kind="error")] + self.prompt()

    def _asked_again_since(self, buttons: str) -> bool:
        """Whether the prompt of the message pressed was sent again in a later message (a
        /back to the same question, the question asked again after a typed answer not read,
        a /status): the same data, live only on the latest. The outbox says which message
        showed what, and a press reads its message anyway (to show the choice in it): one
        statement, on presses only. (A counter in the data would need a write each time a
        question is asked again, typed answers included.) A message not known (no id from
        the channel, its row pruned) is judged by its prompt alone."""
        if self.pressed_on is None:
            return False
        self.pressed_shown, later = outbox.pressed_message(self.s, *self.pressed_on, buttons)
        return later

    def prompt_token(self) -> str:
        return f"{self.profile.state[:8]}-{self.profile.current_fact or ''}"[:40]

    def choice_buttons(self, labels: list[str]) -> list[Button]:
        token = self.prompt_token()
        return [Button(lbl, f"{CHOICE_PREFIX}{self.profile.id}:{token}:{i + 1}") for i, lbl in enumerate(labels)]

    def question_actions(self) -> list[Button]:
        """跳过, 上一题, 依据 under a question: for that question only (a press under an older
        one is refused, as its choices are); typed, /skip /back /why act on the one asked.
        Within Telegram's 64 bytes of callback data: a token of at most 40, the id, 9 more."""
        token = self.prompt_token()
        return [Button(self.t(f"action.{name}"), f"{CHOICE_PREFIX}{self.profile.id}:{token}:/{name}")
                for name in ("skip", "back", "why")]

    # --- prompts ---------------------------------------------------------------------------

    def prompt(self) -> list[Reply]:
        """What the current state asks for."""
        if (asked := tracking.draft_prompt(self)) is not None:
            return asked  # a guided /track is open: its step is the question
        if self.profile is None:
            return [Reply(self.t("dialog.no_profile"), actions=self.start_actions())]
        state = self.profile.state
        if state == "naming":
            return [Reply(self.t("dialog.ask_name"), kind="question")]
        if state == "choose_measures":
            return [self.measure_prompt()]
        if state == "asking":
            return [self.question(self.profile.current_fact)]
        if state == "confirm_series":
            return [Reply(self.confirm_text(self.pending()), choices=self.choice_buttons([self.t("yes"), self.t("no")]),
                          kind="question")]
        if state == "picking":
            return [self.pick_prompt()]
        return [Reply(self.done_text("dialog.done_hint"), actions=self.done_actions())]

    def confirm_text(self, p: dict) -> str:
        """The years of a bare list to confirm, or a doubted figure asked back: of a series, the
        years doubted named when not all are (其中 2024 年), and what was most likely meant; figures
        as exact as typed (0.0045亿元, never 0.00)."""
        fact, value = p["fact"], p["value"]
        if not p.get("doubt"):
            return self.t("dialog.confirm_years", label=label(fact, self.lang), value=value_text(fact, value, self.lang))
        years = (p.get("years") or list(value)) if isinstance(value, dict) else []
        part = (lambda v: {y: v[y] for y in years}) if years else (lambda v: v)  # noqa: E731
        typed, meant = value_text(fact, part(value), self.lang, exact=True), doubt_meant(p)
        some = isinstance(value, dict) and len(years) < len(value)
        if p["doubt"] == "derived":  # the figure it makes with another answer is the one beyond
            figure, derived = p["derived"]
            return self.t("dialog.doubt.derived", label=label(fact, self.lang), value=typed,
                          figure=label(figure, self.lang), derived=value_text(figure, derived, self.lang),
                          limit=value_text(figure, catalogue()[figure].plausible_max, self.lang),
                          inputs=fmt_list((f"“{label(f, self.lang)}”" for f in catalogue().inputs[figure]), self.lang))
        return self.t(f"dialog.doubt.{p['doubt']}", label=label(fact, self.lang),
                      limit=value_text(fact, catalogue()[fact].plausible_max, self.lang),
                      value=value_text(fact, value, self.lang, exact=True), typed=typed,
                      which=self.t("dialog.doubt.some_years", years=self.t("list_sep").join(years)) if some else "",
                      meant=value_text(fact, part(meant), self.lang, exact=True) if meant is not None else "")

    def start_actions(self) -> list[Button]:
        return [Button(self.t("action.new"), "/new"), Button(self.t("action.help"), "/help")]

    def done_actions(self) -> list[Button]:
        pending = [Button(self.t("action.pending", n=len(self.skipped_facts())), "/pending")] if self.skipped_facts() else []
        return pending + [Button(self.t("action.result"), "/result"), Button(self.t("action.compare"), "/compare"),
                          Button(self.t("action.edit"), "/edit"), Button(self.t("action.export"), "/export")]

    def skipped_facts(self) -> list[str]:
        """The questions of the chosen measures skipped (待定), in the form's order."""
        asked = asked_facts(self.rulesets)
        return [f for f in catalogue().facts if f in asked and self.answers.get(f) is SKIPPED]

    def done_text(self, key: str) -> str:
        """'All questions answered', or with pending ones: how many answered, how many pending."""
        skipped = self.skipped_facts()
        if not skipped:
            return self.t(key)
        answered = relevant_answered(self.rulesets, self.answers) - len(skipped)
        return self.t("dialog.done_pending", answered=answered, pending=len(skipped),
                      labels=self.some_labels(skipped))

    def measure_prompt(self, replace: bool = False) -> Reply:
        """The measures as choices. With none ticked, a typed number, list or name chooses at
        once (a press ticks); once some are ticked (✓, and 确定 shown) a number ticks or unticks
        one, typed as pressed, 确定 or its number confirms, 全部 chooses all, and a list or
        names typed choose those: each as the prompt's text says. /cancel is named: a new
        cluster is not made, a change is not made."""
        pending = self.pending()
        selected, ticking = pending.get("selected", []), "selected" in pending
        order = list(load_rulesets())
        names = [("✓ " if j in selected else "") + r.short.get(self.lang) for j, r in load_rulesets().items()]
        names.append(self.t("dialog.all_measures"))
        if ticking:
            names.append(self.t("dialog.confirm_measures", n=len(selected)))
        text = self.t("dialog.tick_measures" if ticking else "dialog.choose_measures", name=self.profile.name,
                      confirm=len(order) + 2)
        if self.profile.measures:
            text += "\n" + self.t("dialog.measures_cancel", measures=self.measure_names(self.profile.measures.split(",")))
        else:
            text += "\n" + self.t("dialog.measures_cancel_new")
        return Reply(text, choices=self.choice_buttons(names), kind="question", replace=replace)

    def measure_names(self, jurisdictions: list[str]) -> str:
        rulesets = load_rulesets()
        return self.t("list_sep").join(rulesets[j].short.get(self.lang) for j in jurisdictions if j in rulesets)

    def question(self, fact: str, note: str = "") -> Reply:
        """A question: progress, group, what is asked, the unit and an example."""
        spec = catalogue()[fact]
        sequence = self.numbered(fact)
        current_text = self.shown(fact) if fact in self.answers else None
        text = question_text(self.lang, fact, sequence.index(fact) + 1, len(sequence), current_text, note,
                             self.latest_year)
        choices = self.choice_buttons(self.option_labels(fact)) if spec.type in CHOICE_TYPES else []
        return Reply(text, choices=choices, actions=self.question_actions(), kind="question")

    def numbered(self, asking: str | None) -> list[str]:
        """The questions as they are numbered (第 k/n 题): those answered, those still worth
        asking and the one asked, in the form's order."""
        asked, position = asked_facts(self.rulesets), catalogue().position
        numbered = {f for f in self.answers if f in asked}
        numbered.update(self.remaining())
        if asking in position:
            numbered.add(asking)
        return sorted(numbered, key=position.__getitem__)

    def option_labels(self, fact: str) -> list[str]:
        spec = catalogue()[fact]
        if spec.type == "bool":
            return [self.t("yes"), self.t("no")]
        items = catalogue().levels if spec.type == "level" else list(reversed(catalogue().ranks))
        return [item[self.lang] for item in items]

    def option_values(self, fact: str) -> list[Any]:
        spec = catalogue()[fact]
        if spec.type == "bool":
            return [True, False]
        items = catalogue().levels if spec.type == "level" else list(reversed(catalogue().ranks))
        return [item["id"] for item in items]

    # --- moving on -------------------------------------------------------------------------

    def advance(self, before: list[str] | None = None) -> list[Reply]:
        """Ask the next question that can still matter, or give the result when none is left."""
        remaining = self.remaining()
        focus = [f for f in self.pending().get("focus", []) if f in remaining]
        # /pending: the skipped questions one by one, each once, before the rest. The one asked
        # stays on the list until it is handled (a /back from it comes back to it); the one
        # just handled leaves it, even skipped again.
        handled = self.profile.current_fact if self.profile.state in ("asking", "confirm_series") else None
        revisit = [f for f in self.pending().get("revisit", []) if self.answers.get(f) is SKIPPED and f != handled]
        if revisit:
            kept = {k: v for k, v in (("focus", focus), ("revisit", revisit)) if v}
            self.set_state("asking", revisit[0], kept or None)
            return [self.question(revisit[0], note=self.t("dialog.pending_note"))]
        if remaining:
            fact = focus[0] if focus else remaining[0]
            self.set_state("asking", fact, {"focus": focus} if focus else None)
            return [self.question(fact)]
        self.set_state("done")
        return [self.result_reply(finished=True)]

    # --- states ----------------------------------------------------------------------------

    def outside_profile(self, text: str) -> list[Reply]:
        if not text:
            return self.cmd_start("")
        return [Reply(answer_question(text, self.lang, self.today), actions=self.start_actions())]

    def on_naming(self, text: str) -> list[Reply]:
        name = clean_name(text, None)
        if not name:
            return [Reply(self.t("dialog.ask_name"), kind="question")]
        name, notes = self.free_name(name)
        self.profile.name = name
        # the cluster active before stays known: /cancel at the measures returns to it
        previous = self.pending().get("previous")
        self.set_state("choose_measures", pending={"previous": previous} if previous else None)
        return notes + [Reply(self.t("dialog.named", name=name)), self.measure_prompt()]

    def free_name(self, name: str) -> tuple[str, list[Reply]]:
        """A name no other cluster of the user has: 戊集群 taken, 戊集群（2） (Ding Cluster (2)), and said so (two of one
        name are told apart only by their dates); at most NAME_LIMIT characters, said when cut."""
        name, cut = name_cut(name)
        notes = [self.name_cut_note(name)] if cut else []
        taken = {normalise(n) for n in repo.profile_names(self.s, self.user)}  # an unnamed one is none
        if normalise(name) not in taken:
            return name, notes
        n, numbered = 2, "{} ({})" if name.isascii() else "{}（{}）"  # Ding Cluster (2), 戊集群（2）
        while normalise(numbered.format(name, n)) in taken:
            n += 1
        free = numbered.format(name, n)
        return free, notes + [Reply(self.t("dialog.name_taken", name=name, new=free))]

    def name_cut_note(self, name: str) -> Reply:
        """That a name was cut to NAME_LIMIT characters, naming what is kept (a cluster's, a tracked one's)."""
        return Reply(self.t("dialog.name_cut", limit=NAME_LIMIT, name=name))

    def is_command_name(self, name: str) -> bool:
        """/skip or 跳过 (跳过。, ／skip: as a command is read) is a command, no cluster's name."""
        head, rest = command_head(name)
        return head.startswith("/") or (not rest and head.lower() in WORD_TO_COMMAND) \
            or name.lower() in WHOLE_MESSAGE_TO_COMMAND

    def on_choose_measures(self, text: str) -> list[Reply]:
        order = list(load_rulesets())
        p = self.pending()
        selected = p.get("selected", [])
        ticking = "selected" in p  # ticks shown once, ticks stay: unticking the last one keeps the menu's way
        number = choice_number(text)
        # +1 / -1 on the ticking menu: that measure ticked / unticked, whatever it was
        sign = re.fullmatch(r"\s*([+＋-])\s*(\d)\s*", text) if ticking else None
        if sign and 1 <= int(sign.group(2)) <= len(order):
            picked, tick = order[int(sign.group(2)) - 1], sign.group(1) != "-"
            selected = [j for j in order if (j == picked and tick) or (j != picked and j in selected)]
            kept = {k: v for k, v in p.items() if k != "selected"}
            self.set_state("choose_measures", pending={**kept, "selected": selected})
            return [self.measure_prompt()]
        if number is not None and 1 <= number <= len(order) and (self.pressed or ticking):
            # a press, or a number typed where the menu shows ticks: one measure ticked or unticked
            picked = order[number - 1]
            selected = [j for j in order if (j in selected) != (j == picked)]
            kept = {k: v for k, v in p.items() if k != "selected"}
            self.set_state("choose_measures", pending={**kept, "selected": selected})
            return [self.measure_prompt(replace=self.pressed)]
        if selected and (number == len(order) + 2 or self.confirms_measures(text, len(selected))):
            chosen = [j for j in order if j in selected]
        else:
            chosen = self.read_measures(text)
        if not chosen:
            return [Reply(self.t("dialog.bad_measures"), kind="error"), self.measure_prompt()]
        before = [j for j in (self.profile.measures or "").split(",") if j and j != "national"]
        if self.profile.province in before and self.profile.province not in chosen:
            # the province's own measure is dropped: the province may have been derived from it,
            # so it is found again from the measures chosen now, or asked (never kept silently)
            self.profile.province = None
        self.profile.measures = ",".join(chosen)
        # a /pending round asked for meanwhile goes on, for the questions these measures ask
        revisit = [f for f in self.pending().get("revisit", []) if f in self.skipped_facts()]
        self.profile.pending = json.dumps({"revisit": revisit}) if revisit else None
        # figures awaiting their confirmation when /measures was asked: asked about again (go_on),
        # with what is kept now
        back, interrupted = p.get("back_to") or {}, None
        if back.get("state") == "confirm_series":
            figures = {k: v for k, v in back["pending"].items() if k not in KEPT_PENDING}
            interrupted = {**back, "pending": {**figures, **self.keep_pending()}}
        names = self.t("list_sep").join(load_rulesets()[j].short.get(self.lang) for j in chosen)
        replies = [Reply(self.t("dialog.measures_chosen", measures=names))]
        kept = relevant_answered(self.rulesets, self.answers)
        if kept:  # measures changed on a cluster with answers: they stay, only what is new is asked
            # counted as /status counts them: a skipped question is pending, not an answer
            skipped = len(self.skipped_facts())
            replies.append(Reply(t_count(self.lang, "dialog.answers_kept_pending" if skipped else "dialog.answers_kept",
                                         kept - skipped, skipped=skipped, new=len(self.remaining()))))
        provincial = [j for j in chosen if j != "national"]
        if self.profile.province is None and len(provincial) == 1:
            self.profile.province = provincial[0]  # one provincial measure: the cluster's province
        elif self.profile.province is None and provincial:
            # asked, not imposed: the questions go on; until answered, results carry the note
            replies.append(self.province_prompt())
        return replies + self.go_on(interrupted)

    # --- the province: another province's measure is for comparison only ---------------------

    def provinces(self) -> list[str]:
        return [j for j in load_rulesets() if j != "national"] + ["other"]

    def province_name(self, province: str) -> str:
        return self.t("dialog.other_province") if province == "other" else load_rulesets()[province].short.get(self.lang)

    def province_prompt(self) -> Reply:
        return Reply(self.t("dialog.ask_province", name=self.profile.name),
                     actions=[Button(self.province_name(p), f"/province {p}") for p in self.provinces()])

    def cmd_province(self, arg: str) -> list[Reply]:
        """/province 江苏 (or jiangsu, 2, 其他): the cluster's province; without one, the choices."""
        if (stop := self.need_profile()) is not None:
            return stop
        options = self.provinces()
        number = choice_number(arg)
        if number is not None and 1 <= number <= len(options):
            province = options[number - 1]
        elif (province := province_named(arg)) is None:
            refused = [Reply(self.t("dialog.bad_province", text=arg.strip()), kind="error")] if arg.strip() else []
            return refused + [self.province_prompt()] + self.prompt_if_asking()
        self.profile.province = province
        replies = [Reply(self.t("dialog.province_set", province=self.province_name(province)))]
        if note := self.comparison_note():
            replies.append(Reply(note))
        return replies + self.prompt_if_asking()

    def typed_province(self, text: str) -> list[Reply] | None:
        """A province's name typed while the province asked is open (several provincial measures,
        none the cluster's yet) answers it, as its buttons do: no question of a cluster takes a
        province's name for an answer (江苏 at 是否定位在县级区划 was refused, the province left unset)."""
        provincial = [r for r in self.rulesets if r.jurisdiction != "national"]
        if self.profile.province is not None or len(provincial) < 2:
            return None
        province = province_named(text)
        return None if province is None else self.cmd_province(province)

    def prompt_if_asking(self) -> list[Reply]:
        """The question being asked again, after something said in between."""
        return self.prompt() if self.profile.state in ("asking", "confirm_series", "picking") else []

    def for_comparison(self, jurisdiction: str, profile: Profile | None = None) -> bool:
        """A provincial measure of another province than the cluster's (the active one's)."""
        province = (profile or self.profile).province if (profile or self.profile) else None
        return jurisdiction != "national" and province is not None and jurisdiction != province

    def measure_name(self, ruleset, profile: Profile | None = None) -> str:
        """A measure's short name, marked when it is only a comparison for the cluster."""
        short = ruleset.short.get(self.lang)
        return short + self.t("dialog.for_comparison") if self.for_comparison(ruleset.jurisdiction, profile) else short

    def comparison_note(self, where: str = "dialog") -> str:
        """Why some results are for comparison; `where` "report": as the exported report says
        it (no 注： before the report's own 注意, no command to send)."""
        provincial = [r for r in self.rulesets if r.jurisdiction != "national"]
        if self.profile.province is None and len(provincial) > 1:
            return self.t(f"{where}.province_unknown", name=self.profile.name)
        others = [r.short.get(self.lang) for r in provincial if self.for_comparison(r.jurisdiction)]
        if not others:
            return ""
        return self.t(f"{where}.comparison_note", name=self.profile.name, province=self.province_name(self.profile.province),
                      measures=fmt_list(others, self.lang))

    def confirms_measures(self, text: str, n: int) -> bool:
        """确定, or the confirming item's label typed (确定（已选 2 个）), in either language."""
        word = normalise(text).lower()
        labels = {normalise(t(lang, "dialog.confirm_measures", n=n)).lower() for lang in ("zh", "en")}
        return word in labels | {"确定", "确认", "confirm", "ok", "done"}

    def read_measures(self, text: str) -> list[str]:
        """'1,2', '江苏 广东', '江苏省', '全部', 'all', a label as shown ('国家（工信部）', '全部四个')
        → jurisdictions, in the product's order."""
        try:
            refuse_superscripts(text)
        except ParseError:
            return []
        text = normalise(text).lower().replace("✓", "").strip()
        order = list(load_rulesets())
        if text in {normalise(t(lang, "dialog.all_measures")).lower() for lang in ("zh", "en")}:
            return order
        for j, r in load_rulesets().items():  # a label as shown, spaces and brackets and all
            if text in (normalise(r.short.zh).lower(), normalise(r.short.en).lower()):
                return [j]
        words = [w.removesuffix("省") if len(w) > 2 else w for w in re.split(r"[\s,;/+和及与]+", text) if w]
        chosen: set[str] = set()
        for word in words:
            if word.isdigit() and 1 <= int(word) <= len(order) + 1:
                chosen.update(order if int(word) == len(order) + 1 else [order[int(word) - 1]])
            elif word in ("全部", "all", "所有", "都", "四个"):
                chosen.update(order)
            else:
                matches = [j for j, r in load_rulesets().items()
                           if word in (j, r.short.zh, r.short.en.lower()) or word in r.short.zh
                           or (len(word) >= 2 and r.short.zh.startswith(word))]
                if len(matches) != 1:
                    return []
                chosen.update(matches)
        return [j for j in order if j in chosen]

    def on_asking(self, text: str) -> list[Reply]:
        fact = self.profile.current_fact
        spec = catalogue()[fact]
        try:
            refuse_superscripts(text)  # ① is 1, but ² is not 2
            if spec.type in CHOICE_TYPES and (number := choice_number(text)) is not None:
                values = self.option_values(fact)
                if not 1 <= number <= len(values):
                    raise ParseError("choice")
                parsed = Parsed(values[number - 1])
            else:
                parsed = self.parse_kept(spec, text)
        except ParseError as exc:
            if (replies := self.typed_province(text)) is not None:
                return replies
            if (replies := self.corrected(fact, text)) is not None:
                return replies
            if looks_like_question(text) and answers(text, self.lang):
                # a quick question in the middle of a question: answered, then asked again
                return [Reply(answer_question(text, self.lang, self.today)), self.question(fact)]
            return [self.refusal(fact, exc), self.question(fact)]
        derived = None if parsed.doubt else self.implausible_derived(fact, parsed.value)
        if parsed.assumed_years or parsed.doubt or derived:
            self.set_state("confirm_series", fact, {"fact": fact, "value": parsed.value,
                                                    "doubt": "derived" if derived else parsed.doubt,
                                                    "years": list(parsed.years), "meant": parsed.meant,
                                                    **({"derived": derived} if derived else {}), **self.keep_pending()})
            return self.prompt()
        return self.accept(fact, parsed.value)

    def parse_kept(self, spec, text: str) -> Parsed:
        """The answer read; figures of some years only, typed to change saved ones (不对，2023年是80%,
        /edit 9 2023年80%), keep the saved figures of the years they do not name."""
        try:
            return parse_answer(spec, text, self.latest_year, this_year=self.today.year)
        except ParseError as exc:
            saved = self.answers.get(spec.id)
            if exc.code != "missing_years" or not isinstance(saved, dict) \
                    or not all(year in saved for year in exc.details["years"]):
                raise
            kept = " ".join(f"{year}:{saved[year]}" for year in exc.details["years"])
            return parse_answer(spec, f"{text} {kept}", self.latest_year, this_year=self.today.year)

    def implausible_derived(self, fact: str, value: Any) -> list | None:
        """[figure id, figure] of a figure this answer makes with one already given, beyond any
        real cluster (Catalogue.implausible_derived); None when none is."""
        cat = catalogue()
        if not any(fact in cat.inputs[spec.id] for spec in cat.derived):
            return None  # most answers: no count a figure is made from
        given = {f: v for f, v in self.answers.items() if v is not SKIPPED}
        given[fact] = value
        found = [[f, figure] for f, figure in cat.implausible_derived(given) if fact in cat.inputs[f]]
        return found[0] if found else None

    def keep_pending(self) -> dict:
        """What survives a question: the focus list, an edit in progress, the question or
        confirmation an /edit or a /back interrupted ("edit_from", for go_on), a /pending round."""
        p = self.pending()
        return {k: p[k] for k in KEPT_PENDING if k in p}

    def refusal(self, fact: str, error: ParseError) -> Reply:
        """What was wrong with the answer; on a question answered before (an edit, a /back),
        that its saved answer stands: said only then, a first answer has none."""
        spec = catalogue()[fact]
        if spec.type in CHOICE_TYPES:
            options = self.t("list_sep").join(f"{i + 1}. {o}" for i, o in enumerate(self.option_labels(fact)))
            text = self.t("dialog.refused_choice", label=spec.label(self.lang), options=options)
        else:
            details = {**window_years(self.latest_year), **error.details}  # the years an example names
            if "years" in details:
                details["years"] = self.t("list_sep").join(details["years"])
            if "items" in details:  # 2024年 的值 101, as evaluate names a refused year; what was not read, quoted
                details["items"] = self.t("list_sep").join(
                    self.t("fact_error.year_value", year=year, value=figure if read else f"“{figure}”")
                    for year, figure, read in details["items"])
                details["number"] = expected_number(spec, self.lang)
            text = self.t(f"dialog.refused.{error.code}", label=spec.label(self.lang),
                          expected=expected_text(spec, self.lang, chat=True), unit=catalogue().unit_label(fact, self.lang),
                          example=example_text(self.lang, fact, self.latest_year), **details)
        if self.answers.get(fact, SKIPPED) is not SKIPPED:
            text += "\n" + self.t("dialog.unchanged", value=self.shown(fact))
        return Reply(text, kind="error")

    def accept(self, fact: str, value: Any) -> list[Reply]:
        """Save an answer, say what it changed, and move on."""
        contradicted = catalogue().contradiction(fact, value, self.answers)
        if contradicted:  # e.g. 符合国家产业政策 for an industry already answered as prohibited
            others = self.t("list_sep").join(self.t("dialog.contradiction_item", label=label(f, self.lang),
                                                    value=value_text(f, v, self.lang)) for f, v in contradicted.items())
            return [Reply(self.t("dialog.contradiction", label=label(fact, self.lang),
                                 value=value_text(fact, value, self.lang), others=others), kind="error"),
                    self.question(fact)]
        pending = self.keep_pending()
        before = self.evaluations()
        asked_before = set(self.numbered(None)) if "edit_before" in pending else set()
        self.save(fact, value, source="edit" if "edit_before" in pending else "dialog")
        after = self.evaluations()
        # as exact as confirmed (0.0045亿元 saved is not said 0.00)
        replies = [Reply(self.t("dialog.saved", label=label(fact, self.lang),
                                value=value_text(fact, value, self.lang, exact=True)))]
        replies += self.news(fact, before, after)
        if "edit_before" in pending:
            replies.append(self.verdict_changes(pending["edit_before"], after, asked_before))
            pending.pop("edit_before")
        interrupted = pending.pop("edit_from", None)
        self.profile.pending = json.dumps(pending) if pending else None
        return replies + self.go_on(interrupted)

    def news(self, fact: str, before: list[Evaluation], after: list[Evaluation]) -> list[Reply]:
        """As soon as an answer makes a criterion fail (or warn), say so with the margin."""
        lines, failed_now = [], set()
        for ev_before, ev_after in zip(before, after):
            statuses = ev_after.statuses
            if (FAIL not in statuses and WARNING not in statuses) or (
                    ev_before.statuses == statuses and not ev_before.waits_for(fact)):
                continue  # most answers make nothing fail or warn: seen at once
            for i, (was, now) in enumerate(zip(ev_before.statuses, ev_after.statuses)):
                # (a preference unanswered warns already: its answer's warning is news too)
                if now in (FAIL, WARNING) and (now != was or fact in ev_before.missing_at(i)):
                    result = ev_after.result_at(i)
                    lines.append(self.t(f"dialog.now_{now}", measure=self.measure_name(ev_after.ruleset),
                                        citation=result.criterion.citation, text=result.criterion.article_text,
                                        explanation=explain(result, self.lang)))
                    if now == FAIL:
                        failed_now.add(ev_after.ruleset.jurisdiction)
        if not lines:
            return []
        # "the others may still pass" only when another chosen measure can
        if failed_now and any(ev.verdict != "not_eligible" and ev.ruleset.jurisdiction not in failed_now
                              for ev in after):
            lines.append(self.t("dialog.go_on"))
        return [Reply("\n".join(lines), kind="info")]

    def verdict_changes(self, before: dict, after: list[Evaluation], asked_before: set[str] = frozenset()) -> Reply:
        """What an edit changed: the verdicts, and the questions it made needed or needless
        (the numbers 第 k/n 题 move with them: 32/40 became 33/41 without a word)."""
        changed = [self.t("dialog.verdict_changed", measure=ev.ruleset.short.get(self.lang),
                          before=self.t(f"verdict.{before[ev.ruleset.jurisdiction]}"),
                          after=self.t(f"verdict.{ev.verdict}"))
                   for ev in after if before.get(ev.ruleset.jurisdiction) not in (None, ev.verdict)]
        lines = changed or [self.t("dialog.verdicts_unchanged")]
        if asked_before:
            asked_now = self.numbered(None)
            if more := [f for f in asked_now if f not in asked_before]:
                lines.append(self.t("dialog.edit_needs_more", labels=self.some_labels(more)))
            if fewer := [f for f in sorted(asked_before, key=catalogue().position.__getitem__) if f not in asked_now]:
                lines.append(self.t("dialog.edit_needs_fewer", labels=self.some_labels(fewer)))
        return Reply("\n".join(lines))

    def on_confirm_series(self, text: str) -> list[Reply]:
        p = self.pending()
        answer = confirmation(text)
        yes, no = answer is True, answer is False
        if doubt_meant(p) is not None and (yes or no):
            # asked "是否应为 85%?" or "是否应为 45亿元?": yes saves what was meant, no the figure as typed
            self.profile.pending = json.dumps(self.keep_pending()) if self.keep_pending() else None
            return self.accept(p["fact"], doubt_meant(p) if yes else p["value"])
        if yes:
            self.profile.pending = json.dumps(self.keep_pending()) if self.keep_pending() else None
            return self.accept(p["fact"], p["value"])
        if answer is None and (replies := self.typed_province(text)) is not None:
            return replies  # the province asked, answered: the confirmation still asked
        if no:
            self.set_state("asking", p["fact"], self.keep_pending())
            return [Reply(self.t("dialog.give_again" if p.get("doubt") else "dialog.give_years",
                             **window_years(self.latest_year))),
                    self.question(p["fact"])]
        self.set_state("asking", p["fact"], self.keep_pending())
        saved = self._saved
        replies = self.on_asking(text)  # a new answer instead of a confirmation
        if self._saved == saved and replies and self.profile.state == "asking" and self.profile.current_fact == p["fact"]:
            # neither a yes, a no nor an answer (a refusal, or a quick question answered): the
            # figures typed are still the ones asked about
            self.set_state("confirm_series", p["fact"], p)
            said = [Reply(self.t("dialog.confirm_yes_no"), kind="error")] if replies[0].kind == "error" else replies[:-1]
            return said + self.prompt()
        return replies

    def on_picking(self, text: str) -> list[Reply]:
        p = self.pending()
        options = p["options"]
        number = choice_number(text)
        if number is None and p["purpose"] == "restart" and (answer := confirmation(text)) is not None:
            # 确定要清空…吗？ answered 是 or 否, as a Chinese official answers such a question
            number = next(i for i, o in enumerate(options, 1) if o["restart"] is answer)
        if number is None or not 1 <= number <= len(options):
            return [Reply(self.t("dialog.pick_number", n=len(options)), kind="error"), self.pick_prompt()]
        chosen = options[number - 1]
        return getattr(self, f"picked_{p['purpose']}")(chosen, p)

    def pick_prompt(self) -> Reply:
        p = self.pending()
        text = self.t(f"dialog.pick_{p['purpose']}") + "\n" + self.t("dialog.pick_cancel")
        # an /edit item is fitted already (its answer kept whole), the others are cut here
        labels = [item["label"] if "fact" in item else shorten(item["label"], MENU_LABEL, self.lang)
                  for item in p["options"]]
        return Reply(text, choices=self.choice_buttons(labels), kind="question")

    def start_pick(self, purpose: str, options: list[dict], back_to: dict) -> list[Reply]:
        self.set_state("picking", None, {"purpose": purpose, "options": options, "back_to": back_to})
        return [self.pick_prompt()]

    def return_from_pick(self, p: dict) -> None:
        back = p.get("back_to") or {}
        while back.get("state") == "picking":  # menus stacked by an earlier version: all left
            back = (back.get("pending") or {}).get("back_to") or {}
        self.set_state(back.get("state", "asking"), back.get("fact"), back.get("pending"))

    def where_we_are(self) -> dict:
        """Where a menu's /cancel returns. A menu opened from another replaces it: one /cancel
        goes back to what was asked before either (menus do not stack)."""
        if self.profile.state == "picking":
            return self.pending().get("back_to") or {}
        return {"state": self.profile.state, "fact": self.profile.current_fact, "pending": self.pending() or None}

    def on_done(self, text: str) -> list[Reply]:
        if (replies := self.typed_province(text)) is not None:
            return replies
        return [Reply(answer_question(text, self.lang, self.today), actions=self.done_actions())]

    # --- commands --------------------------------------------------------------------------

    def cmd_unknown(self, word: str) -> list[Reply]:
        from difflib import get_close_matches  # here: only a mistyped command needs it

        near = get_close_matches(word, [w for w in WORD_TO_COMMAND if w.startswith("/")], n=1, cutoff=0.7)
        text = self.t("dialog.unknown_command_near", command=word, near=near[0]) if near else \
            self.t("dialog.unknown_command", command=word)
        return [Reply(text, kind="error")] + self.prompt()

    def cmd_start(self, _arg: str) -> list[Reply]:
        if self.profile is None:
            return [Reply(self.t("dialog.welcome"), actions=self.start_actions())] + (tracking.draft_prompt(self) or [])
        if self.profile.state == "picking":
            self.return_from_pick(self.pending())
        if self.unnamed():
            return [Reply(self.t("dialog.welcome_naming"))] + self.prompt()
        return [Reply(self.t("dialog.welcome_back", name=self.profile.name))] + self.prompt()

    def cmd_help(self, _arg: str) -> list[Reply]:
        # /quit only ends the terminal's chat: elsewhere it is not a command
        return [Reply(render(self.lang, "help.j2", terminal=self.user.channel == "terminal",
                              **window_years(self.latest_year)))] + (
            self.prompt() if self.profile else [])

    def cmd_new(self, arg: str) -> list[Reply]:
        name = clean_name(arg, None)
        if name and self.is_command_name(name):
            replies = [Reply(self.t("dialog.name_is_command", name=name), kind="error")]
            return replies + (self.prompt() if self.profile is not None else [])
        notes = []
        if name:
            name, notes = self.free_name(name)
        # where /cancel of the new one returns (while it is unnamed, or at its measures): the
        # cluster active before (an unnamed one left for this new one is given up)
        previous = self.drop_unnamed() if self.unnamed() else self.profile
        self.profile = repo.create_profile(self.s, self.user, name, self.lang)
        self._answers = repo.Answers()
        if previous is not None:
            self.profile.pending = json.dumps({"previous": previous.id})
        if name:
            return notes + [Reply(self.t("dialog.named", name=name)), self.measure_prompt()]
        return [Reply(self.t("dialog.ask_name"), kind="question")]

    def unnamed(self) -> bool:
        """A /new still waiting for its name: not a cluster yet."""
        return self.profile is not None and self.profile.state == "naming"

    def drop_unnamed(self) -> Profile | None:
        """The new cluster given up (deleted: it holds nothing, not even measures); the cluster
        active before it."""
        previous = repo.own_profile(self.s, self.user, self.pending().get("previous"))
        self.profile.deleted = True
        self.s.add(self.profile)
        return previous

    def cancel_new(self) -> list[Reply]:
        """/cancel while naming a new cluster, or choosing its first measures: it is not made
        (it holds nothing but a name); back to the one active before."""
        previous = self.drop_unnamed()
        self.user.active_profile_id = previous.id if previous else None
        self.profile, self._answers = previous, None
        if previous is None:
            return [Reply(self.t("dialog.new_cancelled"))] + self.prompt()
        if previous.state == "picking":
            self.return_from_pick(self.pending())
        return [Reply(self.t("dialog.new_cancelled_back", name=previous.name))] + self.prompt()

    def cmd_list(self, _arg: str) -> list[Reply]:
        profiles = repo.user_profiles(self.s, self.user)
        if not profiles:
            return [Reply(self.t("dialog.no_profiles"), actions=self.start_actions())]
        lines = [self.t("dialog.list_heading")]
        for i, p in enumerate(profiles):
            lines.append(self.profile_line(i + 1, p, profiles))
        return [Reply("\n".join(lines))]

    def profile_line(self, n: int, p: Profile, profiles: list[Profile] = ()) -> str:
        answers = repo.current_answers(self.s, p)
        rulesets = rulesets_for(p.measures)
        verdicts = self.t("list_sep").join(
            f"{self.measure_name(ev.ruleset, p)} {self.t('verdict.' + ev.verdict)}"
            for ev in evaluate_answers(answers, rulesets, self.today)) or self.t("dialog.no_measures")
        marker = self.t("dialog.active_marker") if self.profile and p.id == self.profile.id else ""
        twins = [q for q in profiles if q.name == p.name]
        if len(twins) > 1:  # the same name twice: told apart by when each was begun, and its measures
            marker = self.t("dialog.twin_marker", created=fmt_date(p.created_at.date(), self.lang),
                            measures=self.t("list_sep").join(r.short.get(self.lang) for r in rulesets)
                            or self.t("dialog.no_measures")) + marker
        read = asked_facts(rulesets)  # answered: a skip (待定) is not, as /status counts
        return self.t("dialog.list_item", n=n, name=p.name or "—", marker=marker, verdicts=verdicts,
                      answered=sum(1 for f, v in answers.items() if f in read and v is not SKIPPED))

    def cmd_switch(self, arg: str) -> list[Reply]:
        profiles = repo.user_profiles(self.s, self.user)
        if not profiles:
            return [Reply(self.t("dialog.no_profiles"), actions=self.start_actions())]
        options = [{"id": p.id, "label": self.profile_line(i + 1, p, profiles).split(". ", 1)[-1]}
                   for i, p in enumerate(profiles)]
        number, word = choice_number(arg), clean_name(arg)
        notes = []
        if word:
            match = ([profiles[number - 1]] if number is not None and 1 <= number <= len(profiles)
                     else [p for p in profiles if p.name in (word, normalise(word))])
            key = "dialog.switch_twins"
            if not match and number is None:  # 乙 for 乙集群, 甲集群 for 甲 集群: the names that hold it
                bare = search_key(word)
                match = [p for p in profiles if bare in search_key(p.name or "")]
                key = "dialog.switch_several"
            if len(match) == 1:
                return self.switch_to(match[0])
            if match:  # a name two clusters share: which one is asked, never guessed
                ids = {p.id for p in match}
                options = [o for o in options if o["id"] in ids]
                notes = [Reply(self.t(key, n=len(match), name=word))]
            else:  # no such cluster: said, not a menu as if it had been understood
                notes = [Reply(self.t("dialog.switch_none_number" if number is not None else "dialog.switch_none",
                                      n=number, name=word, total=len(profiles)), kind="error")]
        if self.profile is None:
            self.profile = profiles[-1]
            self.user.active_profile_id = self.profile.id
        return notes + self.start_pick("switch", options, self.where_we_are())

    def picked_switch(self, chosen: dict, p: dict) -> list[Reply]:
        self.return_from_pick(p)
        target = repo.own_profile(self.s, self.user, chosen["id"])
        if target is None:
            return [Reply(self.t("dialog.not_yours"), kind="error")]
        return self.switch_to(target)

    def switch_to(self, target: Profile) -> list[Reply]:
        if self.unnamed() and self.profile.id != target.id:
            self.drop_unnamed()  # left without a name: given up
        self.user.active_profile_id = target.id
        self.profile, self._answers = target, None
        if target.state == "picking":
            self.return_from_pick(self.pending())
        return [Reply(self.t("dialog.switched", name=target.name))] + self.prompt()

    def need_profile(self) -> list[Reply] | None:
        if self.profile is None:
            return [Reply(self.t("dialog.no_profile"), actions=self.start_actions())]
        if self.unnamed():
            return self.prompt()  # the name is what is missing first
        if not self.profile.measures:
            return [Reply(self.t("dialog.choose_first"))] + self.prompt()
        return None

    def cmd_skip(self, _arg: str) -> list[Reply]:
        if self.profile is None or self.profile.state not in ("asking", "confirm_series"):
            return [Reply(self.t("dialog.nothing_to_skip"))] + self.prompt()
        fact = self.profile.current_fact
        if fact in self.answers and self.answers[fact] is not SKIPPED:
            # reached by /back or /edit: skipping it keeps what is saved and moves on
            interrupted = self.leave_question()
            return [Reply(self.t("dialog.kept", label=label(fact, self.lang), value=self.shown(fact)))] + self.go_on(interrupted)
        self.save(fact, skipped=True, source="edit" if "edit_before" in self.pending() else "dialog")
        interrupted = self.leave_question()
        return [Reply(self.t("dialog.skipped_fact", label=label(fact, self.lang)))] + self.go_on(interrupted)

    def leave_question(self) -> dict | None:
        """Leave the question asked without answering it: an edit in progress ends. Returns the
        confirmation the edit interrupted, if any (for go_on)."""
        pending = self.keep_pending()
        pending.pop("edit_before", None)
        interrupted = pending.pop("edit_from", None)
        self.profile.pending = json.dumps(pending) if pending else None
        return interrupted

    def go_on(self, interrupted: dict | None) -> list[Reply]:
        """After an edit, a /back from figures awaiting their confirmation or a change of the
        measures made there: what it interrupted is asked again (the figures are saved only once
        confirmed), unless that question became needless; else the progress goes on."""
        fact = interrupted and interrupted["fact"]
        if fact and (fact in self.remaining() or (fact in self.answers and fact in asked_facts(self.rulesets))):
            self.set_state(interrupted["state"], interrupted["fact"], interrupted.get("pending"))
            return self.prompt()
        return self.advance()

    def cmd_back(self, _arg: str) -> list[Reply]:
        """The previous question in the form's order (among those answered), like a form:
        from a question reached by /back, the one before it. From a menu, from what it was opened
        on; figures awaiting their confirmation are kept, asked about again once the question
        gone back to is left (go_on)."""
        if (stop := self.need_profile()) is not None:
            return stop
        if self.profile.state in ("picking", "choose_measures") and self.pending().get("back_to"):
            self.return_from_pick(self.pending())  # the menu left as /cancel leaves it
        current = self.profile.current_fact if self.profile.state in ("asking", "confirm_series") else None
        earlier = self.answered_before(current)
        if not earlier:
            return [Reply(self.t("dialog.no_previous"))] + self.prompt()
        kept, note = self.keep_pending(), self.t("dialog.back_note")
        if self.profile.state == "confirm_series":
            p = self.pending()
            kept["edit_from"] = self.where_we_are()
            note = self.t("dialog.back_note_unconfirmed", label=label(p["fact"], self.lang),
                          value=value_text(p["fact"], p["value"], self.lang, exact=True))
        self.set_state("asking", earlier[-1], kept)
        return [self.question(earlier[-1], note=note)]

    def answered_before(self, current: str | None) -> list[str]:
        """The questions answered before `current` in the form's order (all when None)."""
        order = catalogue().facts
        position = list(order).index
        asked = asked_facts(self.rulesets)
        return [f for f in order if f in self.answers and f in asked
                and (current is None or position(f) < position(current))]

    def corrected(self, fact: str, text: str) -> list[Reply] | None:
        """不对，是90 typed at a question: the answer before it changed, as /edit N 90 does (the
        question then asked again); 不对 alone opens it, but not on a choice, where it may
        mean no. None when the text is no correction or nothing was answered before."""
        new = correction(text)
        earlier = self.answered_before(fact) if new is not None else []
        if not earlier or (not new and catalogue()[fact].type in CHOICE_TYPES):
            return None
        return self.edit_question(self.numbered(fact).index(earlier[-1]) + 1, new)

    def cmd_edit(self, arg: str) -> list[Reply]:
        if (stop := self.need_profile()) is not None:
            return stop
        asked = asked_facts(self.rulesets)
        facts = [f for f in catalogue().facts if f in self.answers and f in asked]
        if not facts:
            return [Reply(self.t("dialog.nothing_to_edit"))] + self.prompt()
        options = [{"fact": f, "label": self.edit_label(f)} for f in facts]
        if arg.strip():
            # /edit 7, /edit 第7题 (as the question was numbered), or /edit 7 90平方公里: a
            # question's number, and its new answer after it
            numbered = EDIT_NUMBER.fullmatch(arg.strip()) if not refused_digits(arg) else None
            if numbered is not None:
                answer = numbered.group(2).strip()
                return self.edit_question(int(unicodedata.normalize("NFKC", numbered.group(1))),
                                          answer if normalise(answer) else "")
            # /edit 占地面积, /edit 占地面积 90平方公里: the question whose name holds the words,
            # as by its number; of several answered ones, which is asked
            asking = self.profile.current_fact if self.profile.state in ("asking", "confirm_series") else None
            sequence = self.numbered(asking)
            # the name is the longest run of first words a question's name holds (total output
            # 45, 48, 52: total output, not total), the rest the answer
            words = arg.split()
            for name, answer in [(arg, "")] + [(" ".join(words[:k]), " ".join(words[k:]))
                                                for k in range(len(words) - 1, 0, -1)]:
                word = search_key(name)
                held = [n for n, f in enumerate(sequence, 1) if word in search_key(label(f, self.lang))]
                answered = [n for n in held if sequence[n - 1] in self.answers]
                for several in (answered, [] if answered else held):
                    # of several, the one whose name begins with the words is the one named (集群总产值,
                    # not …占集群总产值比例), answered or, when none is, not yet
                    first = [n for n in several if search_key(label(sequence[n - 1], self.lang)).startswith(word)]
                    if len(several) > 1 and len(first) == 1:
                        several[:] = first
                if len(answered) == 1 or (not answered and len(held) == 1):
                    return self.edit_question((answered or held)[0], answer)  # one not answered: said so
                if answered and not answer:
                    chosen = {sequence[n - 1] for n in answered}
                    return self.start_pick("edit", [o for o in options if o["fact"] in chosen], self.where_we_are())
                if answered:  # several answered, and an answer for one of them: which is not guessed
                    return [Reply(self.t("dialog.edit_several", n=len(answered), name=clean_name(name)),
                                  kind="error")] + self.prompt()
                if held:
                    break
            return [Reply(self.t("dialog.edit_usage", arg=clean_name(arg)), kind="error")] + self.prompt()
        return self.start_pick("edit", options, self.where_we_are())

    def edit_question(self, number: int, answer: str = "") -> list[Reply]:
        """/edit 7: question 7 as numbered when asked (第 7 题); /edit 7 90平方公里 gives it its
        new answer at once, read as the question's answer is. One not answered yet, or no such
        question, is said to be so, and what was asked is asked again: no menu whose numbers the
        next answer would be taken for."""
        asking = self.profile.current_fact if self.profile.state in ("asking", "confirm_series") else None
        sequence = self.numbered(asking)
        if not 1 <= number <= len(sequence):
            shown = str(number) if len(str(number)) <= 12 else str(number)[:12] + "…"
            return [Reply(self.t("dialog.edit_no_such", n=shown, total=len(sequence)), kind="error")] + self.prompt()
        fact = sequence[number - 1]
        if fact not in self.answers and not (answer and fact == asking and self.profile.state == "asking"):
            key = "dialog.edit_unanswered." + ("now" if fact == asking else "later")
            return [Reply(self.t(key, n=number, label=label(fact, self.lang)), kind="error")] + self.prompt()
        if not answer:
            return self.picked_edit({"fact": fact}, {})
        if fact != asking or self.profile.state != "asking":
            self.picked_edit({"fact": fact}, {})
        return self.on_asking(answer)  # refused, the question stays open as /edit 7 leaves it

    def edit_label(self, fact: str) -> str:
        """An answer on the /edit menu: what was asked, cut with … when the whole would not
        fit a button, and always the current answer."""
        value, sep = self.shown(fact), "：" if self.lang == "zh" else ": "
        room = max(MENU_LABEL - len(sep) - len(value), MENU_NAME)
        return shorten(label(fact, self.lang), room, self.lang) + sep + value

    def shown(self, fact: str) -> str:
        value = self.answers[fact]
        return self.t("dialog.skipped") if value is SKIPPED else value_text(fact, value, self.lang, exact=True)

    def picked_edit(self, chosen: dict, p: dict) -> list[Reply]:
        before = {ev.ruleset.jurisdiction: ev.verdict for ev in self.evaluations()}
        # what the edit interrupts is asked again after it, with a /pending round or a focus
        # still to come: the question (one reached by /back too) or the figures awaiting their
        # confirmation (typed, not saved yet)
        came_from = (p.get("back_to") if "back_to" in p else self.where_we_are()) or {}
        was = came_from.get("pending") or {}
        kept = {k: was[k] for k in ("focus", "revisit") if k in was}
        if came_from.get("state") in ("asking", "confirm_series") and came_from.get("fact") != chosen["fact"]:
            kept["edit_from"] = came_from
        self.set_state("asking", chosen["fact"], {**kept, "edit_before": before})
        return [self.question(chosen["fact"], note=self.t("dialog.edit_note"))]

    def cmd_cancel(self, _arg: str) -> list[Reply]:
        if tracking.cancel_draft(self):
            return [Reply(self.t("tracking.cancelled"))] + self.prompt()
        if self.unnamed():
            return self.cancel_new()
        if self.profile is not None and self.profile.state == "choose_measures":
            return self.cancel_measures()
        if self.profile is not None and self.profile.state == "picking":
            self.return_from_pick(self.pending())
            return self.prompt()
        if self.profile is not None and self.profile.state in ("asking", "confirm_series") \
                and self.profile.current_fact in self.answers:
            # an edit (or a question reached by /back) is left as it was: back to the progress
            return [Reply(self.t("dialog.edit_cancelled"))] + self.go_on(self.leave_question())
        if self.profile is not None and self.profile.state == "confirm_series":
            # figures awaiting their confirmation: dropped, said so, and the question asked again
            # (the confirmation was shown again without a word, as if /cancel were not heard)
            p = self.pending()
            self.set_state("asking", p["fact"], self.keep_pending())
            return [Reply(self.t("dialog.confirm_cancelled", label=label(p["fact"], self.lang),
                                 value=value_text(p["fact"], p["value"], self.lang, exact=True)))] + self.prompt()
        # a question being answered: nothing is open to cancel, said so (it was shown again without a word)
        return [Reply(self.t("dialog.nothing_to_cancel"))] + self.prompt()

    def cancel_measures(self) -> list[Reply]:
        """/cancel at the measures: a new cluster's first choice gives the cluster up; a change
        (/measures, /restart's) keeps the measures chosen and returns to what was asked."""
        if not self.profile.measures and not self.answers:
            return self.cancel_new()
        if not self.profile.measures:  # answers but no measures (none is left so now): choose first
            return [Reply(self.t("dialog.choose_first"))] + self.prompt()
        back = self.pending().get("back_to")
        replies = [Reply(self.t("dialog.measures_unchanged", measures=self.measure_names(self.profile.measures.split(","))))]
        if back and back.get("state") in ("asking", "confirm_series", "done"):
            self.set_state(back["state"], back.get("fact"), back.get("pending"))
            return replies + self.prompt()
        self.profile.pending = None
        return replies + self.advance()

    def cmd_restart(self, _arg: str) -> list[Reply]:
        if (stop := self.need_profile()) is not None:
            return stop
        options = [{"restart": True, "label": self.t("dialog.restart_yes")},
                   {"restart": "measures", "label": self.t("dialog.restart_measures")},
                   {"restart": False, "label": self.t("dialog.restart_no")}]
        return self.start_pick("restart", options, self.where_we_are())

    def picked_restart(self, chosen: dict, p: dict) -> list[Reply]:
        if chosen["restart"] == "measures":
            self.return_from_pick(p)
            return self.cmd_measures("")
        if not chosen["restart"]:
            self.return_from_pick(p)
            return self.prompt()
        for fact in list(self.answers):
            self.save(fact, source="restart")
        self._answers = repo.Answers()
        self.set_state("choose_measures")
        return [Reply(self.t("dialog.restarted", name=self.profile.name)), self.measure_prompt()]

    def cmd_measures(self, arg: str) -> list[Reply]:
        """Change the chosen measures, answers kept: only what an added measure still needs is asked."""
        if self.profile is None:
            return [Reply(self.t("dialog.no_profile"), actions=self.start_actions())]
        if self.profile.state == "picking":
            self.return_from_pick(self.pending())
        if self.unnamed() or self.profile.state == "choose_measures":
            return self.prompt()  # the name first (a cluster without one would be lost from /list); or shown already
        selected = [m for m in self.profile.measures.split(",") if m]
        # where /cancel returns, the measures unchanged
        self.set_state("choose_measures", pending={"back_to": self.where_we_are(),
                                                   **({"selected": selected} if selected else {})})
        if arg.strip():  # /measures 国家 江苏: as typed at the menu (names choose, a number ticks)
            return [Reply(self.t("dialog.change_measures"))] + self.on_choose_measures(arg)
        return [Reply(self.t("dialog.change_measures")), self.measure_prompt()]

    def cmd_why(self, _arg: str) -> list[Reply]:
        if self.profile is None or not self.profile.current_fact:
            return [Reply(self.t("dialog.why_nothing"))] + self.prompt()
        fact = self.profile.current_fact
        items = [{"measure": self.measure_name(r), "citation": c.citation, "text": c.article_text,
                  "requirement": criterion_requirement(c, self.lang), "document": r.document,
                  "reading": c.reading_text(self.lang, failed=True)}  # the rule, how a failure is read included
                 for r, c in criteria_reading(fact, self.rulesets)]
        return [Reply(render(self.lang, "why.j2", label=label(fact, self.lang), items=items))]

    def cmd_status(self, _arg: str) -> list[Reply]:
        if (stop := self.need_profile()) is not None:
            return stop
        evaluations = self.evaluations()
        remaining = self.remaining()
        pending = len(self.skipped_facts())
        done = relevant_answered(self.rulesets, self.answers) - pending
        measures, actions = [], []
        for ev in evaluations:
            open_facts = facts_to_ask(ev.missing, self.answers) if ev.verdict == "undetermined" else []
            measures.append({"short": self.measure_name(ev.ruleset), "verdict": self.t(f"verdict.{ev.verdict}"),
                             # two criteria of one article (认定标准一) name it once
                             "failed": list(dict.fromkeys(r.criterion.citation for r in ev.with_status(FAIL))),
                             "open": self.some_labels(open_facts)})
            if open_facts and len(evaluations) > 1:
                actions.append(Button(self.t("action.focus", measure=ev.ruleset.short.get(self.lang),
                                             n=len(open_facts)), f"/focus {ev.ruleset.jurisdiction}"))
        text = render(self.lang, "status.j2", name=self.profile.name, done=done, pending=pending,
                      total=done + pending + len(remaining), measures=measures)
        if note := self.comparison_note():
            text += "\n" + note
        if pending:
            actions.append(Button(self.t("action.pending", n=pending), "/pending"))
        return [Reply(text, actions=actions)]

    def cmd_pending(self, _arg: str) -> list[Reply]:
        """Return to the skipped (待定) questions, one after the other."""
        if (stop := self.need_profile()) is not None:
            return stop
        skipped = self.skipped_facts()
        if not skipped:
            return [Reply(self.t("dialog.no_pending"))] + self.prompt()
        if self.profile.state == "picking":
            self.return_from_pick(self.pending())
        if self.profile.state in ("asking", "confirm_series"):
            # the skipped question being asked (reached by /back) is not asked twice
            skipped = [f for f in skipped if f != self.profile.current_fact]
            if not skipped:
                return self.prompt()
        # what the state holds stays (a figure awaiting its confirmation, the measures ticked)
        self.profile.pending = json.dumps({**self.pending(), "revisit": skipped}, ensure_ascii=False)
        return self.advance() if self.profile.state == "done" else [
            Reply(t_count(self.lang, "dialog.pending_later", len(skipped)))] + self.prompt()

    def some_labels(self, facts: list[str], most: int = 8) -> str:
        """Fact labels for a sentence, the first few and how many more."""
        labels = [label(f, self.lang) for f in facts]
        text = self.t("dialog.label_sep").join(labels[:most])
        return text + (self.t("dialog.and_more", n=len(labels) - most) if len(labels) > most else "")

    def cmd_focus(self, arg: str) -> list[Reply]:
        """Ask first the questions that could still change one measure's verdict."""
        if (stop := self.need_profile()) is not None:
            return stop
        named = [arg.strip()] if arg.strip() in load_rulesets() else self.read_measures(arg)  # jiangsu, 江苏
        ev = next((e for e in self.evaluations() if [e.ruleset.jurisdiction] == named), None)
        if ev is None:  # said, not ignored without a word
            chosen = self.measure_names([e.ruleset.jurisdiction for e in self.evaluations()])
            return [Reply(self.t("dialog.focus_usage", measures=chosen), kind="error")] + self.prompt()
        focus = facts_to_ask(ev.missing, self.answers)
        # asked first, as said: a /pending round still open gives way to it
        kept = {k: v for k, v in self.keep_pending().items() if k != "revisit"}
        self.profile.pending = json.dumps({**kept, "focus": focus})
        return [Reply(t_count(self.lang, "dialog.focusing", len(focus), measure=ev.ruleset.short.get(self.lang)))] + self.advance()

    def result_reply(self, finished: bool = False) -> Reply:
        evaluations = self.evaluations()
        text = render(self.lang, "result.j2", name=self.profile.name,
                      finished=self.done_text("dialog.all_answered") if finished else "",
                      measures=[self.measure_view(ev) for ev in evaluations])
        if note := self.comparison_note():
            text += "\n\n" + note
        return Reply(text, actions=self.done_actions() if finished else [], kind="result")

    def measure_view(self, ev: Evaluation) -> dict:
        def items(status):
            return [{"citation": r.criterion.citation, "text": r.criterion.article_text,
                     "explanation": explain(r, self.lang)} for r in ev.with_status(status)]

        return {"short": self.measure_name(ev.ruleset), "document": ev.ruleset.document,
                "verdict": ev.verdict, "verdict_text": self.t(f"verdict.{ev.verdict}"),
                "failed": items(FAIL), "unknown": items(UNKNOWN), "warnings": items(WARNING),
                "missing": self.some_labels(ev.missing),
                "notices": [notice_text(n, ev.ruleset, self.lang) for n in ev.notices]}

    def cmd_result(self, _arg: str) -> list[Reply]:
        if (stop := self.need_profile()) is not None:
            return stop
        return [self.result_reply()]

    def cmd_compare(self, _arg: str) -> list[Reply]:
        if (stop := self.need_profile()) is not None:
            return stop
        evaluations = self.evaluations()
        rows = []
        for cid in topics(self.rulesets):
            cells = []
            for ev in evaluations:
                found = next((r for r in ev.results if r.criterion.id == cid), None)
                cells.append(self.t(f"mark.{found.status}") if found else self.t("mark.absent"))
            rows.append({"name": self.t(f"criterion.{cid}"), "cells": cells})
        text = render(self.lang, "compare.j2", name=self.profile.name,
                      heads=[self.measure_name(ev.ruleset) for ev in evaluations],
                      verdicts=[self.t(f"verdict.{ev.verdict}") for ev in evaluations], rows=rows)
        return [Reply(text)]

    def cmd_export(self, _arg: str) -> list[Reply]:
        if (stop := self.need_profile()) is not None:
            return stop
        facts = {k: v for k, v in self.answers.items() if v is not SKIPPED}
        data = json.dumps({"name": self.profile.name, **facts}, ensure_ascii=False, indent=2).encode("utf-8")
        comparison = {r.jurisdiction for r in self.rulesets if self.for_comparison(r.jurisdiction)}
        # the note goes with the measures it is about: those for comparison, or, while the
        # province is not known, every provincial one
        noted = comparison or {r.jurisdiction for r in self.rulesets if r.jurisdiction != "national"}
        note = self.comparison_note("report")
        report = markdown_report(self.profile.name, self.evaluations(), self.lang, answers=facts,
                                 for_comparison=comparison, notes={j: note for j in noted if note}).encode("utf-8")
        stem = file_stem(self.profile.name)
        return [Reply(self.t("dialog.exported", name=self.profile.name),
                      documents=[(f"{stem}.json", data), (f"{stem}-{self.t('dialog.report_suffix')}.md", report)])]

    def given_answers(self) -> dict[str, Any]:
        return {k: v for k, v in self.answers.items() if v is not SKIPPED}

    def cmd_form(self, _arg: str) -> list[Reply]:
        """The application form, pre-filled with the answers so far (dialogs/forms.py)."""
        if self.profile is None:
            return [Reply(self.t("dialog.no_profile"), actions=self.start_actions())]
        if self.unnamed():
            return self.prompt()  # the name first: no form of 「」
        return [forms.form_documents(self.profile.name, self.given_answers(), self.lang)]

    def on_attachment(self, attachment: Attachment) -> list[Reply]:
        """A filled form sent as a file: checked, with the active profile's answers for what
        the form does not ask when it is that profile's form."""
        # a /new still waiting for its name is no cluster yet: the form is checked alone, and
        # the name asked again
        cluster = self.profile.name if self.profile is not None and not self.unnamed() else None
        return [forms.check_attachment(attachment, self.given_answers(), self.today, self.lang, cluster)] + (
            self.prompt() if self.profile is not None and self.profile.state in ("asking", "confirm_series", "naming")
            else [])

    def cmd_lang(self, arg: str) -> list[Reply]:
        word = normalise(arg).lower().rstrip(".!")  # English. ｅｎ 中文。 as typed
        if word not in ("zh", "en", "中文", "english", "英文"):
            # what was asked shown again: a refusal left the question unseen
            return [Reply(self.t("dialog.lang_usage"), kind="error")] + (self.prompt() if self.profile else [])
        self.lang = normalise_lang(word)
        self.user.lang = self.lang
        if self.profile:
            self.profile.lang = self.lang
            self.s.add(self.profile)
        return [Reply(self.t("dialog.lang_set"))] + self.prompt()

    def cmd_ask(self, arg: str) -> list[Reply]:
        if not arg.strip():
            return [Reply(self.t("dialog.ask_usage"))]
        return [Reply(answer_question(arg, self.lang, self.today))]

    # --- tracking certified clusters: dialogs/tracking.py -----------------------------------

    def cmd_track(self, arg: str) -> list[Reply]:
        return tracking.cmd_track(self, arg)

    def cmd_deadlines(self, arg: str) -> list[Reply]:
        return tracking.cmd_deadlines(self, arg)

    def cmd_remind(self, arg: str) -> list[Reply]:
        return tracking.cmd_remind(self, arg)

    def cmd_pause(self, arg: str) -> list[Reply]:
        return tracking.cmd_pause(self, arg)

    def cmd_resume(self, arg: str) -> list[Reply]:
        return tracking.cmd_resume(self, arg)

    def cmd_untrack(self, arg: str) -> list[Reply]:
        return tracking.cmd_untrack(self, arg)

