"""Rendering helpers the chat channels share (message size limits, choices as lines)."""

from __future__ import annotations

from dialogs.messages import Button


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
