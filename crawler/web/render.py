"""Pure helpers that turn archive data into HTML fragments: diffs, snippets, the day chart.

Every value from the archive goes through markupsafe's escape before it is wrapped in
markup; the returned Markup is then safe for Jinja2 to insert as is.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from storage.textdiff import Segment

_MARK = re.compile(r"\[([^\[\]]*)\]")


def snippet(text: str) -> Markup:
    """A search snippet with its [matched] words highlighted as <mark>."""
    return Markup(_MARK.sub(r"<mark>\1</mark>", str(escape(text))))


def _esc(text: str) -> str:
    # One blank line between paragraphs in the pre-wrapped diff, as in the article text.
    return str(escape(text)).replace("\n", "\n\n")


def _ins(text: str) -> str:
    return f'<ins><span class="sign" aria-hidden="true">+</span>{_esc(text)}</ins>'


def _del(text: str) -> str:
    return f'<del><span class="sign" aria-hidden="true">\u2212</span>{_esc(text)}</del>'


def diff_inline(segments: list[Segment], *, context: int | None = None) -> Markup:
    """Removed and added words in one flow: <del>-old</del><ins>+new</ins>.

    With `context`, only changed paragraphs and that many around each are shown; each run
    of unchanged paragraphs in between becomes one "… N unchanged paragraphs" line.
    """
    paragraphs: list[list[tuple[str, str]]] = [[]]
    for s in segments:
        for i, part in enumerate(re.split(r"\n+", s.text)):
            if i:
                paragraphs.append([])
            if part:
                paragraphs[-1].append((s.kind, part))
    hot = [i for i, p in enumerate(paragraphs) if any(kind != "equal" for kind, _ in p)]
    keep = set(range(len(paragraphs)))
    if context is not None:
        keep = {j for i in hot for j in range(i - context, i + context + 1)}
    out, skipped = [], 0
    for i, para in enumerate(paragraphs):
        if i not in keep:
            skipped += 1
            continue
        if skipped:
            out.append(_skipped(skipped))
            skipped = 0
        pieces = (
            str(escape(t)) if k == "equal" else _del(t) if k == "delete" else _ins(t)
            for k, t in para
        )
        out.append(f"<p>{''.join(pieces)}</p>")
    if skipped:
        out.append(_skipped(skipped))
    return Markup("".join(out))


def _skipped(n: int) -> str:
    return f'<p class="skipped">… {n} unchanged paragraph{"" if n == 1 else "s"}</p>'


def diff_sides(segments: list[Segment]) -> tuple[Markup, Markup]:
    """The old text with its removals marked, and the new text with its additions marked."""
    old, new = [], []
    for s in segments:
        if s.kind == "equal":
            old.append(_esc(s.text))
            new.append(_esc(s.text))
        elif s.kind == "delete":
            old.append(_del(s.text))
        else:
            new.append(_ins(s.text))
    return Markup("".join(old)), Markup("".join(new))


def day_chart(days: list[dict[str, Any]], *, width: int = 600, height: int = 80) -> Markup:
    """Articles per day as an inline SVG bar chart with a <title> per bar (no script)."""
    if not days:
        return Markup("")
    top = max(d["count"] for d in days) or 1
    step = width / len(days)
    bars = []
    for i, d in enumerate(days):
        h = round(d["count"] / top * (height - 14), 1)
        x = round(i * step + 1, 1)
        label = f"{d['day']}: {d['count']} articles"
        bars.append(
            f'<rect x="{x}" y="{height - h}" width="{max(step - 2, 1):.1f}" height="{h}">'
            f"<title>{escape(label)}</title></rect>"
        )
    caption = f"{escape(days[0]['day'])} to {escape(days[-1]['day'])}, most {top} per day"
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Articles published per day, {caption}" preserveAspectRatio="none">'
        f"{''.join(bars)}</svg>"
    )


def pct(share: float | None) -> str:
    """0.125 -> '12%'; None -> an en dash."""
    return "\u2013" if share is None else f"{share * 100:.0f}%"


def when(value: str | None) -> str:
    """An ISO 8601 string shortened to 'YYYY-MM-DD HH:MM' for tables."""
    if not value:
        return "\u2013"
    return value[:16].replace("T", " ")
