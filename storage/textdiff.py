"""Word-level diff of two versions of an article, renderable as plain text or with colours.

Words are diffed, not characters or lines: an edit of a news article is a corrected name,
a changed number, a rewritten sentence, and the reader wants to see exactly those words.
Paragraph breaks are tokens too, so the plain rendering can show only changed paragraphs.
`diff_size` counts the characters a new version added and removed, for the versions table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from storage.fingerprints import normalize_text

Kind = Literal["equal", "delete", "insert"]
_TOKENS = re.compile(r"\n+|[^\S\n]+|[^\s]+")
# diff_size() diffs sentences, then the words of changed sentence runs. SequenceMatcher's work
# on words grows with the number of equal word pairs (sum over words of count_old * count_new):
# a few changed sentences stay far below this limit, while a run of repetitive text without
# sentence ends ("a b a b ...", tables flattened to text) would take seconds; past the limit the
# bag-of-words difference is used instead.
_DIFF_COST_LIMIT = 50_000
# A sentence ends at a space after . ! ? (or after one closing quote/bracket following them).
_SENTENCE_END = re.compile(r"(?<=[.!?]) |(?<=[.!?][\"')\]]) ")


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


def _opcodes(
    a: Sequence[Hashable], b: Sequence[Hashable]
) -> Sequence[tuple[str, int, int, int, int]]:
    """difflib's edit script from a to b (no junk heuristics: every token counts)."""
    return SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def diff_size(old: str | None, new: str | None) -> tuple[int, int]:
    """Characters (added, removed) between two texts, by a word-level diff of normalised text.

    Only the characters of inserted and deleted words are counted, not the spaces between them.
    """
    a = _sentences(normalize_text(old))
    b = _sentences(normalize_text(new))
    # Two levels keep the cost bounded on long articles: sentences rarely repeat, so the
    # sentence diff is cheap, and words are only diffed inside runs of changed sentences.
    added = removed = 0
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
        if tag == "equal":
            continue
        gained, lost = _word_diff(
            [w for sentence in a[i1:i2] for w in sentence],
            [w for sentence in b[j1:j2] for w in sentence],
        )
        added += gained
        removed += lost
    return added, removed


def _sentences(text: str) -> list[tuple[str, ...]]:
    """Words grouped into sentences (hashable, for SequenceMatcher)."""
    return [tuple(chunk.split(" ")) for chunk in _SENTENCE_END.split(text) if chunk]


def _word_diff(a: list[str], b: list[str]) -> tuple[int, int]:
    """Characters of words (added, removed) from a to b."""
    if not a or not b:
        return sum(map(len, b)), sum(map(len, a))
    if _match_cost(a, b) > _DIFF_COST_LIMIT:
        return _bag_difference(a, b)
    added = removed = 0
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
        if tag in ("delete", "replace"):
            removed += sum(map(len, a[i1:i2]))
        if tag in ("insert", "replace"):
            added += sum(map(len, b[j1:j2]))
    return added, removed


def _match_cost(a: list[str], b: list[str]) -> int:
    """Number of equal word pairs between a and b: SequenceMatcher's work per pass."""
    counts = Counter(b)
    return sum(counts[word] for word in a)


def _bag_difference(a: list[str], b: list[str]) -> tuple[int, int]:
    """Linear-time fallback: words gained and lost regardless of order (ignores moves)."""
    old, new = Counter(a), Counter(b)
    added = sum(len(word) * count for word, count in (new - old).items())
    removed = sum(len(word) * count for word, count in (old - new).items())
    return added, removed
