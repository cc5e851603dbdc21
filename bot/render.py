"""Rendering helpers the chat channels share (message size limits, choices as lines)."""

from __future__ import annotations

import unicodedata

from dialogs.messages import HEADED, Button, Reply


def split_bytes(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, cut at line ends (a longer line is cut hard, never
    inside a character)."""
    parts, current = [], ""
    for line in text.split("\n"):
        while len(line.encode()) > limit:
            if current:
                parts.append(current)
                current = ""
            head = line.encode()[:limit].decode(errors="ignore")
            parts.append(head)
            line = line[len(head):]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate.encode()) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    return [p for p in parts + [current] if p.strip()] or [" "]


def numbered(choices: list[Button]) -> str:
    """Choices as the terminal shows them: the dialog takes the number typed."""
    return "   ".join(f"{i + 1}. {b.label}" for i, b in enumerate(choices))


def headings_of(reply: Reply) -> list[int]:
    """The lines of a reply that head a part: those the dialog marks, or a question's or
    result's first."""
    return reply.headings or ([0] if reply.kind in HEADED else [])


def prompt_line(reply: Reply) -> str:
    """The line a reply's buttons answer: its last heading (a question's progress line), else
    the first line of its last paragraph (what is asked after what was said, such as the
    province after the measures chosen). The title of a card sent apart from its text (WeCom),
    where the text's first line would be what was said before (an answer saved)."""
    lines = reply.text.split("\n")
    heads = [lines[n].strip() for n in headings_of(reply) if n < len(lines) and lines[n].strip()]
    if heads:
        return heads[-1]
    paragraphs = [p.strip() for p in reply.text.split("\n\n") if p.strip()]
    return paragraphs[-1].split("\n", 1)[0].strip() if paragraphs else ""


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, a cut one ending in "…": a figure cut short
    (45.20亿元 as 45.2) is never shown as if whole."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


# Where a short title may end: before a sentence's or a clause's end, else before a lesser
# pause or a parenthesis, else (English) between words. ASCII marks count when a space follows
# them, so that 80.5 or 1,2 is never cut.
CLAUSE_ENDS = ("。；：！？.;:!?", "，、（,(", " ")


def title_width(text: str) -> float:
    """How wide `text` is in characters of Chinese: a Latin letter, digit or space is half one."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


def clause_cut(text: str, limit: int) -> str:
    """A card's title in at most `limit` characters of Chinese (`title_width`), one too long
    ending after its last whole clause that fits (in the second half of it), not inside a word,
    a figure or a parenthesis: "请选择按哪些办法预审「甲集群」…", not "…可选一个、多个（如…";
    as `cut`, one cut ends with "…"."""
    if title_width(text) <= limit:
        return text
    n = 0
    while title_width(text[:n + 1]) <= limit - 1:
        n += 1
    head = text[:n]

    def breaks(i: int, marks: str) -> bool:
        outside = all(head[:i].count(o) <= head[:i].count(c) for o, c in ("（）", "()", "「」", "“”"))
        return outside and head[i] in marks and (ord(head[i]) > 0x7F or text[i + 1:i + 2] in ("", " ") or head[i] in " (")
    for marks in CLAUSE_ENDS:
        ends = [i for i in range(len(head)) if i >= n // 2 and breaks(i, marks)]
        if ends:
            return head[:ends[-1]].rstrip() + "…"
    return head + "…"
