"""Rendering helpers the chat channels share (message size limits, choices as lines)."""

from __future__ import annotations

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
# pause or a parenthesis.
CLAUSE_ENDS = ("。；：！？;:", "，、（,(")


def clause_cut(text: str, limit: int) -> str:
    """`cut`, but a title too long for its card ends after its last whole clause that fits (in
    the second half of it), not inside a word or a parenthesis: "请选择按哪些办法预审「甲集群」…",
    not "…可选一个、多个（如…"."""
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    for marks in CLAUSE_ENDS:
        ends = [i for i, c in enumerate(head) if c in marks and i >= limit // 2]
        if ends:
            return head[:ends[-1]].rstrip() + "…"
    return cut(text, limit)
