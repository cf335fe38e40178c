"""Word-level diff of two versions of an article, renderable as plain text or with colours.

Words are diffed, not characters or lines: an edit of a news article is a corrected name,
a changed number, a rewritten sentence, and the reader wants to see exactly those words.
Paragraph breaks are tokens too, so the plain rendering can show only changed paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Kind = Literal["equal", "delete", "insert"]
_TOKENS = re.compile(r"\n+|[^\S\n]+|[^\s]+")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text that is unchanged, removed, or added."""

    kind: Kind
    text: str


def word_diff(old: str | None, new: str | None) -> list[Segment]:
    """Segments that turn `old` into `new`, diffed word by word (whitespace kept)."""
    a = _TOKENS.findall(old or "")
    b = _TOKENS.findall(new or "")
    # Whitespace tokens are junk for matching, so a re-wrapped paragraph is not an edit.
    matcher = SequenceMatcher(lambda t: t.isspace() and "\n" not in t, a, b, autojunk=False)
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _push(out, "equal", "".join(b[j1:j2]))
            continue
        if op in ("delete", "replace"):
            _push(out, "delete", "".join(a[i1:i2]))
        if op in ("insert", "replace"):
            _push(out, "insert", "".join(b[j1:j2]))
    return out


def _push(out: list[Segment], kind: Kind, text: str) -> None:
    if not text:
        return
    if out and out[-1].kind == kind:
        out[-1] = Segment(kind, out[-1].text + text)
    else:
        out.append(Segment(kind, text))


def changed(segments: list[Segment]) -> bool:
    """True when the segments contain any removal or addition."""
    return any(s.kind != "equal" for s in segments)


def render_plain(segments: list[Segment], *, context_paragraphs: int = 0) -> str:
    """`git diff --word-diff=plain` style: [-removed-]{+added+}, changed paragraphs only.

    Each shown paragraph is prefixed with its number in the new text (``@@ ¶3 @@``).
    """
    marked = "".join(
        s.text
        if s.kind == "equal"
        else _wrap(s.text, "[-", "-]")
        if s.kind == "delete"
        else _wrap(s.text, "{+", "+}")
        for s in segments
    )
    paragraphs = re.split(r"\n+", marked)
    hot = {i for i, p in enumerate(paragraphs) if "[-" in p or "{+" in p}
    keep = {
        j
        for i in hot
        for j in range(i - context_paragraphs, i + context_paragraphs + 1)
        if 0 <= j < len(paragraphs)
    }
    return "\n".join(f"@@ ¶{i + 1} @@\n{paragraphs[i].strip()}" for i in sorted(keep))


def _wrap(text: str, left: str, right: str) -> str:
    # Markers go around each paragraph's part, so a change spanning paragraphs stays readable.
    parts = re.split(r"(\n+)", text)
    return "".join(p if not p.strip() else f"{left}{p}{right}" for p in parts)
