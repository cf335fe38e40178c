"""Re-extraction applies the new metadata rules to pages archived under older ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from crawler.reextract import reextract
from storage.db import Archive
from storage.models import Article
from tests.query_support import build, filler

URL = "https://hafenblatt.example/2024/pier/"
STORY = filler(3, words=200)
PAGE = f"""<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">
<title>Nordpier gesperrt nach Sturm | Hafenblatt</title>
<meta property="og:site_name" content="Hafenblatt">
<meta property="og:type" content="article"><meta name="date" content="06/01/2024 10:30">
</head><body><main><article><h1>Sturm schließt den Nordpier</h1>
<p class="byline">Von Anna Berg und Jonas Weber</p>
{"".join(f"<p>{p}</p>" for p in STORY.split(chr(10) * 2))}
</article></main></body></html>""".encode()


def test_reextract_report_counts_changed_titles_authors_and_dates(
    sqlite_url: str, tmp_path: Path
) -> None:
    b = build(sqlite_url, tmp_path)
    # What an older rule set made of the page: the SEO title, the outlet, 1 June.
    b.add(
        URL,
        "Nordpier gesperrt nach Sturm",
        STORY,
        authors=("Hafenblatt",),
        published=datetime(2024, 6, 1, 10, 30, tzinfo=UTC),
        page_html=PAGE,
    )
    b.warc.close()
    with Archive(sqlite_url) as archive:
        report = reextract(archive, tmp_path / "warc", workers=1)
        with archive.session() as s:
            article = s.scalars(select(Article)).one()
    changed = report.as_dict()["fields_changed"]
    assert (changed["title"], changed["authors"], changed["date"]) == (1, 1, 1)
    assert "title 1" in report.format() and "authors 1" in report.format()
    assert (article.title, article.seo_title) == (
        "Sturm schließt den Nordpier",
        "Nordpier gesperrt nach Sturm",
    )
    assert article.authors == ["Anna Berg", "Jonas Weber"]
    assert article.published_at is not None
    assert article.published_at.replace(tzinfo=UTC).date().isoformat() == "2024-01-06"
